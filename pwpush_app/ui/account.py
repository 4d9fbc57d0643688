"""Log in (`/login`), sign up (`/signup`) and the account page (`/account`: change password
and address, what to be told about one's pushes, webhooks, delete account), with forgot and
reset password (ui/account_recovery.py).  (The header's account links are the layout's.)

The forms are plain HTML posts to pwpush_app/api/sessions.py (only an HTTP answer can set
the HttpOnly session cookie); passwords never pass through Reflex.  A refused form comes
back with `?error=<code>`, shown here from the core's list of messages.
"""

from __future__ import annotations

import reflex as rx

from pwpush_app.core import accounts
from pwpush_app.settings import get_settings
from pwpush_app.ui import account_recovery
from pwpush_app.ui.components.fields import field_label
from pwpush_app.ui.components.layout import page_shell
from pwpush_app.ui.components.post_form import post_form
from pwpush_app.ui.notifications import mail_problems_card, notifications_card, webhooks_card
from pwpush_app.ui.passkeys import PasskeyLoginState, login_passkey_section, passkeys_card, step_passkey_section
from pwpush_app.ui.session import AccountState, current_user
from pwpush_app.ui.two_factor import login_code_page as _login_code_page
from pwpush_app.ui.two_factor import login_enrol_page as _login_enrol_page
from pwpush_app.ui.two_factor import two_factor_card

NOTICES = {
    "bye": "You are logged out.",
    "deleted": "Your account and its pushes are deleted.",
    "changed": "Your password is changed. Every other browser is logged out.",
    "confirm_sent": "We sent you a link to confirm your email address. Open it, then log in.",
    "confirmed": "Your email address is confirmed: log in.",
    "reset_sent": "If an account has that address, we sent it a link to choose a new password. It works for one hour.",
    "reset": "Your new password is set, and every browser was logged out: log in with it.",
    "unlocked": "Your account is unlocked: log in.",
    "email_pending": "We sent a link to your new address: the account moves to it once you open it.",
    "email_changed": "Your email address is changed: log in with the new one.",
    "two_factor_off": "Two-factor sign-in is off: logging in asks only for your password.",
    "passkey_removed": "The passkey is removed: it no longer signs you in.",
}


class AccountFormState(rx.State):
    message: str = ""
    notice: str = ""
    # The login waits for a confirmed address: offer to send the link again.
    offer_confirmation: bool = False
    signups_open: bool = not get_settings().disable_signups
    # Read at each load, never compiled into the page (frontend.RUN_TIME_SETTINGS).
    lockout_rule: str = ""

    def _read_query(self) -> None:
        query = self.router.url.query_parameters
        self.message = accounts.form_message(str(query.get("error", "")), str(query.get("until", "")))
        self.notice = next((text for key, text in NOTICES.items() if query.get(key)), "")
        self.offer_confirmation = query.get("error") == "email_unconfirmed" or bool(query.get("confirm_sent"))
        settings = get_settings()
        self.lockout_rule = (f"After {settings.login_max_failures} wrong passwords an account is locked for "
                             f"{settings.login_lockout_minutes} minutes.")

    @rx.event
    async def load_login(self):
        """Log in and sign up: someone already logged in goes to the dashboard."""
        self._read_query()
        if not self.message and not self.notice and await current_user(self) is not None:
            return rx.redirect("/dashboard")

    @rx.event
    def load_form(self):
        """Forgot and reset password: only the messages (someone logged in may use them too)."""
        self._read_query()

    @rx.event
    async def load_account(self):
        self._read_query()
        if await current_user(self) is None:
            return rx.redirect("/login")


# A refused form comes back as a new page: the email typed is kept in this tab's session
# storage (never the password, never sent anywhere) and put back when the page shows an error.
_EMAIL_KEY = "pwpush.form_email"
_KEEP_EMAIL = rx.call_function(rx.Var(
    f"() => {{ const el = document.getElementById('email'); if (el) sessionStorage.setItem('{_EMAIL_KEY}', el.value); }}"
))
_PUT_EMAIL_BACK = rx.call_function(rx.Var(
    f"() => {{ const el = document.getElementById('email'); const kept = sessionStorage.getItem('{_EMAIL_KEY}');"
    " if (el && kept && !el.value && new URLSearchParams(location.search).has('error')) el.value = kept; }"
))
# Typing again makes the old refusal stale: it goes (in the page only; nothing is sent).
_HIDE_ERROR = rx.call_function(rx.Var(
    "() => { const el = document.getElementById('form-error'); if (el) el.hidden = true; }"
))
# Once shown, the refusal leaves the address too: a reload shows a clean form.
_FORGET_ERROR_IN_ADDRESS = rx.call_function(rx.Var(
    "() => { const url = new URL(location.href); if (url.searchParams.has('error')) {"
    " url.searchParams.delete('error'); url.searchParams.delete('until');"
    " history.replaceState(history.state, '', url.pathname + url.search + url.hash); } }"
))


def _message() -> rx.Component:
    return rx.fragment(
        rx.cond(
            AccountFormState.message != "",
            rx.callout(AccountFormState.message, icon="triangle-alert", color_scheme="red", role="alert", id="form-error",
                       width="100%", on_mount=_FORGET_ERROR_IN_ADDRESS),
        ),
        rx.cond(
            AccountFormState.notice != "",
            rx.callout(AccountFormState.notice, icon="circle-check", color_scheme="green", id="form-notice", width="100%"),
        ),
    )


def _field(label: str, name: str, kind: str, autocomplete: str, hint: str = "") -> rx.Component:
    email = kind == "email"
    return rx.vstack(
        field_label(label, name),
        rx.input(id=name, name=name, type=kind, required=True, auto_complete=autocomplete, size="3", width="100%",
                 max_length=254 if email else accounts.PASSWORD_MAX_CHARS,
                 on_change=[_KEEP_EMAIL, _HIDE_ERROR] if email else _HIDE_ERROR,
                 **({"on_mount": _PUT_EMAIL_BACK} if email else {})),
        rx.cond(hint != "", rx.text(hint, size="1", color_scheme="gray")) if hint else rx.fragment(),
        spacing="1",
        width="100%",
    )


PASSWORD_HINT = f"{accounts.PASSWORD_MIN_CHARS} to {accounts.PASSWORD_MAX_CHARS} characters. A passphrase of a few words is easy to type and hard to guess."


def _logins_off(heading: str) -> rx.Component:
    """PWP__DISABLE_LOGINS: the server answers these addresses 404; a page reached inside
    the app says so too."""
    return page_shell(
        rx.callout(accounts.MESSAGES["logins_disabled"], icon="info", color_scheme="gray", width="100%", id="logins-off"),
        rx.link("Share a secret", href="/"),
        heading=heading,
    )


def login_page() -> rx.Component:
    if get_settings().disable_logins:
        return _logins_off("Log in")
    return page_shell(
        _message(),
        post_form(
            rx.vstack(
                _field("Email", "email", "email", "username"),
                _field("Password", "password", "password", "current-password"),
                rx.el.label(
                    rx.hstack(rx.el.input(type="checkbox", name="remember", value="1", id="remember"),
                              rx.text(f"Keep me logged in for {get_settings().session_remember_days} days", size="2"),
                              align="center", spacing="2"),
                    html_for="remember",
                ),
                rx.button("Log in", type="submit", id="log-in", size="3", width="100%"),
                rx.text(AccountFormState.lockout_rule, size="1", color_scheme="gray"),
                rx.link("Forgot your password?", href="/forgot-password", underline="always", size="2", id="forgot-link")
                if get_settings().mail.account_emails else rx.fragment(),
                rx.cond(AccountFormState.signups_open,
                        rx.text("No account yet? ", rx.link("Sign up", href="/signup", underline="always"), size="2")),
                spacing="4",
                width="100%",
            ),
            action="/session",
            width="100%",
        ),
        login_passkey_section(),
        rx.cond(AccountFormState.offer_confirmation, rx.vstack(
            rx.text("No mail from us? Check your spam folder, or:", size="2"),
            account_recovery.resend_confirmation_form(),
            width="100%",
        )),
        heading="Log in",
        subheading="See and manage all your pushes in one place, on any device.",
    )


def signup_page() -> rx.Component:
    if get_settings().disable_logins:
        return _logins_off("Sign up")
    return page_shell(
        _message(),
        rx.cond(
            AccountFormState.signups_open,
            post_form(
                rx.vstack(
                    _field("Email", "email", "email", "username"),
                    _field("Password", "password", "password", "new-password", PASSWORD_HINT),
                    _field("Password again", "password_confirmation", "password", "new-password"),
                    rx.button("Sign up", type="submit", id="sign-up", size="3", width="100%"),
                    rx.text("Already have an account? ", rx.link("Log in", href="/login", underline="always"), size="2"),
                    spacing="4",
                    width="100%",
                ),
                action="/signup",
                width="100%",
            ),
            rx.callout(accounts.MESSAGES["signups_closed"], icon="info", color_scheme="gray", width="100%"),
        ),
        heading="Sign up",
        subheading="An account keeps your pushes together, with their audit logs, and gives you an API token.",
    )


def account_page() -> rx.Component:
    return page_shell(
        _message(),
        rx.text("Logged in as ", rx.text.strong(AccountState.email), size="3"),
        rx.card(
            rx.heading("Change password", as_="h2", size="4", margin_bottom="0.75rem"),
            post_form(
                rx.vstack(
                    _field("Current password", "current_password", "password", "current-password"),
                    _field("New password", "new_password", "password", "new-password", PASSWORD_HINT),
                    _field("New password again", "new_password_confirmation", "password", "new-password"),
                    rx.text("Every other browser logged in to this account is logged out.", size="1", color_scheme="gray"),
                    rx.button("Change password", type="submit", id="change-password"),
                    spacing="3",
                    width="100%",
                ),
                action="/account/password",
                width="100%",
            ),
            width="100%",
        ),
        two_factor_card(),
        passkeys_card(),
        account_recovery.change_email_card(),
        mail_problems_card(),
        notifications_card(),
        webhooks_card(),
        rx.card(
            rx.heading("Delete account", as_="h2", size="4", margin_bottom="0.75rem"),
            post_form(
                rx.vstack(
                    rx.text("Every push of this account expires now and its secrets are deleted. This cannot be undone.",
                            size="2"),
                    _field("Password", "password", "password", "current-password"),
                    rx.button("Delete my account", type="submit", id="delete-account", color_scheme="red"),
                    spacing="3",
                    width="100%",
                ),
                action="/account/delete",
                width="100%",
            ),
            width="100%",
        ),
        heading="Account",
    )


def login_code_page() -> rx.Component:
    return _login_code_page(_message(), step_passkey_section(), PasskeyLoginState.code_too)


def login_enrol_page() -> rx.Component:
    return _login_enrol_page(_message())


def forgot_password_page() -> rx.Component:
    return account_recovery.forgot_password_page(_message())


def reset_password_page() -> rx.Component:
    return account_recovery.reset_password_page(_message(), PASSWORD_HINT)
