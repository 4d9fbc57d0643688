"""The create form's "Email the link to" field (issue 17): for logged-in senders only."""

from __future__ import annotations

import reflex as rx

from pwpush_app.core.link_mail import MAX_RECIPIENTS
from pwpush_app.ui.components.fields import field_error, field_label
from pwpush_app.ui.create_state import CreateState, error_text
from pwpush_app.ui.i18n import t
from pwpush_app.ui.session import AccountState


def notify_field() -> rx.Component:
    """Logged-in senders may have the link mailed (core/link_mail.py)."""
    return rx.cond(
        AccountState.email != "",
        rx.vstack(
            field_label(t("Email the link to (optional)"), "notify_emails_to"),
            rx.input(id="notify_emails_to", name="notify_emails_to", input_mode="email", auto_complete="off", dir="ltr",
                     placeholder="bob@example.com, carol@example.com", size="3", width="100%",
                     aria_describedby="notify_emails_to-help notify_emails_to-error",
                     aria_invalid=CreateState.errors.contains("notify_emails_to")),
            rx.text(t("Up to {count} addresses, separated by commas. They get the link and when it expires, from your "
                      "address; never the secret.", count=MAX_RECIPIENTS), id="notify_emails_to-help", size="1", color_scheme="gray"),
            field_error(error_text("notify_emails_to"), "notify_emails_to"),
            spacing="1",
            width="100%",
        ),
    )
