"""The create form's "Several recipients" field (issue 21): a push for each recipient named.
A plain field sent with the form; the core checks it (core/recipients.py) and its message
shows beside it.  Not offered for file pushes (their files are stored once per push)."""

from __future__ import annotations

from typing import Callable

import reflex as rx

from pwpush_app.core.recipients import FIELD, MAX_RECIPIENTS, MIN_RECIPIENTS
from pwpush_app.ui.components.fields import field_error, field_label
from pwpush_app.ui.create_state import CreateState, error_text
from pwpush_app.ui.i18n import t


def recipients_field(forget_error: Callable[[str], object]) -> rx.Component:
    """`forget_error`: the form's own on_change for a field (ui/create.py)."""
    return rx.cond(
        CreateState.kind != "file",
        rx.vstack(
            field_label(t("Several recipients (optional): a link for each"), FIELD),
            rx.text_area(id=FIELD, name=FIELD, rows="2", size="3", width="100%",
                         spell_check=False, placeholder="Alice, Bob, carol@example.com",
                         on_change=forget_error(FIELD), aria_describedby=f"{FIELD}-help {FIELD}-error",
                         aria_invalid=CreateState.errors.contains(FIELD)),
            rx.text(t("{min} to {max} names or email addresses, separated by commas or lines. Each gets their own link "
                      "with its own views and expiry, which you can revoke alone; email addresses get their link mailed "
                      "(when you are logged in).", min=MIN_RECIPIENTS, max=MAX_RECIPIENTS),
                    id=f"{FIELD}-help", size="1", color_scheme="gray"),
            field_error(error_text(FIELD), FIELD),
            spacing="1",
            width="100%",
        ),
    )
