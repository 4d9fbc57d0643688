"""Forgot password (`/forgot-password`) and choose a new one (`/reset-password`), and the
account page's card to move the account to a new address.

Plain HTML forms posted to pwpush_app/api/sessions.py, like the other account forms.  The
reset link's token never reaches this page: the link's own GET put it in an HttpOnly
cookie for /account, which only the form's POST carries.
"""

from __future__ import annotations

import reflex as rx

from pwpush_app.core import accounts
from pwpush_app.settings import get_settings
from pwpush_app.ui.components.fields import field_label
from pwpush_app.ui.components.layout import page_shell
from pwpush_app.ui.components.post_form import post_form
from pwpush_app.ui.i18n import t


def _input(label, name: str, kind: str, autocomplete: str, hint=None, field_id: str = "") -> rx.Component:
    field_id = field_id or name
    return rx.vstack(
        field_label(label, field_id),
        rx.input(id=field_id, name=name, type=kind, required=True, auto_complete=autocomplete, size="3", width="100%",
                 max_length=254 if kind == "email" else accounts.PASSWORD_MAX_CHARS,
                 dir="ltr" if kind == "email" else None,
                 aria_describedby=f"{field_id}-hint" if hint is not None else None),
        rx.text(hint, size="1", color_scheme="gray", id=f"{field_id}-hint") if hint is not None else rx.fragment(),
        spacing="1",
        width="100%",
    )


def _no_mail() -> rx.Component:
    return rx.callout(
        t("This site sends no mail, so it can't reset a password by email. Ask its administrator: they can set a new "
          "one for you."), icon="info", color_scheme="gray", width="100%", id="no-mail",
    )


def forgot_password_page(message: rx.Component) -> rx.Component:
    """`message`: the account forms' error and notice callouts (ui/account.py)."""
    form = post_form(
        rx.vstack(
            _input(t("Email"), "email", "email", "username"),
            rx.button(t("Send me a link"), type="submit", id="send-reset", size="3", width="100%"),
            rx.text(t("Remembered it?"), " ", rx.link(t("Log in"), href="/login", underline="always"), size="2"),
            spacing="4",
            width="100%",
        ),
        action="/account/forgot-password",
        width="100%",
    )
    return page_shell(
        message,
        form if get_settings().mail.account_emails else _no_mail(),
        heading=t("Forgot your password?"),
        subheading=t("Enter your account's email address: we mail you a link to choose a new password. "
                     "It works once, for one hour."),
        languages=True,
    )


def reset_password_page(message: rx.Component, password_hint: rx.Var) -> rx.Component:
    return page_shell(
        message,
        post_form(
            rx.vstack(
                _input(t("New password"), "new_password", "password", "new-password", password_hint),
                _input(t("New password again"), "new_password_confirmation", "password", "new-password"),
                rx.text(t("Every browser logged in to your account is logged out."), size="1", color_scheme="gray"),
                rx.button(t("Set my new password"), type="submit", id="set-password", size="3", width="100%"),
                spacing="4",
                width="100%",
            ),
            action="/account/reset-password",
            width="100%",
        ),
        heading=t("Choose a new password"),
        languages=True,
    )


def resend_confirmation_form() -> rx.Component:
    """For a login refused until the address is confirmed: send the link again."""
    return post_form(
        rx.hstack(
            rx.input(name="email", type="email", required=True, placeholder=t("Your email address"), aria_label=t("Email"),
                     auto_complete="username", size="2", flex="1", min_width="12rem", id="confirm-again-email", dir="ltr"),
            rx.button(t("Send the link again"), type="submit", variant="soft", id="confirm-again"),
            wrap="wrap",
            spacing="2",
            width="100%",
        ),
        action="/account/confirm-again",
        width="100%",
    )


def change_email_card() -> rx.Component:
    confirm_first = get_settings().mail.account_emails
    return rx.card(
        rx.heading(t("Email address"), as_="h2", size="4", margin_bottom="0.75rem"),
        post_form(
            rx.vstack(
                _input(t("New email address"), "new_email", "email", "email"),
                _input(t("Current password"), "current_password", "password", "current-password",
                       field_id="email_current_password"),
                rx.text(t("We mail a link to the new address: the account moves once you open it, and the old address "
                          "is told.") if confirm_first else t("You log in with the new address from now on."),
                        size="1", color_scheme="gray"),
                rx.button(t("Change email address"), type="submit", id="change-email"),
                spacing="3",
                width="100%",
            ),
            action="/account/email",
            width="100%",
            id="change-email-form",
        ),
        width="100%",
    )
