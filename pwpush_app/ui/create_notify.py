"""The create form's "Email the link to" field (issue 17): for logged-in senders only."""

from __future__ import annotations

import reflex as rx

from pwpush_app.core.link_mail import MAX_RECIPIENTS
from pwpush_app.ui.components.fields import field_error, field_label
from pwpush_app.ui.create_state import CreateState
from pwpush_app.ui.session import AccountState


def notify_field() -> rx.Component:
    """Logged-in senders may have the link mailed (core/link_mail.py)."""
    return rx.cond(
        AccountState.email != "",
        rx.vstack(
            field_label("Email the link to (optional)", "notify_emails_to"),
            rx.input(id="notify_emails_to", name="notify_emails_to", input_mode="email", auto_complete="off",
                     placeholder="bob@example.com, carol@example.com", size="3", width="100%",
                     aria_describedby="notify_emails_to-help notify_emails_to-error",
                     aria_invalid=CreateState.errors.contains("notify_emails_to")),
            rx.text(f"Up to {MAX_RECIPIENTS} addresses, separated by commas. They get the link and when it expires, "
                    "from your address; never the secret.", id="notify_emails_to-help", size="1", color_scheme="gray"),
            field_error(CreateState.errors.get("notify_emails_to", ""), "notify_emails_to"),
            spacing="1",
            width="100%",
        ),
    )
