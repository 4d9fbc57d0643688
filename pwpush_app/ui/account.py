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
from pwpush_app.ui.i18n import N_, refusal_text, sentences_of, t, t_var
from pwpush_app.ui.notifications import mail_problems_card, notifications_card, webhooks_card
from pwpush_app.ui.passkeys import PasskeyLoginState, login_passkey_section, passkeys_card, step_passkey_section
from pwpush_app.ui.session import AccountState, current_user
from pwpush_app.ui.two_factor import login_code_page as _login_code_page
from pwpush_app.ui.two_factor import login_enrol_page as _login_enrol_page
from pwpush_app.ui.two_factor import two_factor_card

NOTICES = {
    "bye": N_("You are logged out."),
    "deleted": N_("Your account and its pushes are deleted."),
    "changed": N_("Your password is changed. Every other browser is logged out."),
    "confirm_sent": N_("We sent you a link to confirm your email address. Open it, then log in."),
    "confirmed": N_("Your email address is confirmed: log in."),
    "reset_sent": N_("If an account has that address, we sent it a link to choose a new password. It works for one hour."),
    "reset": N_("Your new password is set, and every browser was logged out: log in with it."),
    "unlocked": N_("Your account is unlocked: log in."),
    "email_pending": N_("We sent a link to your new address: the account moves to it once you open it."),
    "email_changed": N_("Your email address is changed: log in with the new one."),
    "two_factor_off": N_("Two-factor sign-in is off: logging in asks only for your password."),
    "passkey_removed": N_("The passkey is removed: it no longer signs you in."),
}


class AccountFormState(rx.State):
    # A refusal: its English text, and its sentences with values (a lock-out's end) when it has some.
    message: str = ""
    sentences: list[dict] = []
    notice: str = ""
    # The login waits for a confirmed address: offer to send the link again.
    offer_confirmation: bool = False
    signups_open: bool = not get_settings().disable_signups
    # Read at each load, never compiled into the page (frontend.RUN_TIME_SETTINGS).
    lockout_rule: list[dict] = []

    def _read_query(self) -> None:
        query = self.router.url.query_parameters
        message = accounts.form_message(str(query.get("error", "")), str(query.get("until", "")))
        self.message, self.sentences = str(message), sentences_of(message)
        self.notice = next((text for key, text in NOTICES.items() if query.get(key)), "")
        self.offer_confirmation = query.get("error") == "email_unconfirmed" or bool(query.get("confirm_sent"))
        settings = get_settings()
        self.lockout_rule = [{"text": N_("After {count} wrong passwords an account is locked for {pause_minutes}."),
                              "values": {"count": settings.login_max_failures,
                                         "pause_minutes": settings.login_lockout_minutes}}]

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
            rx.callout(refusal_text(AccountFormState.message, AccountFormState.sentences), icon="triangle-alert",
                       color_scheme="red", role="alert", id="form-error", width="100%", on_mount=_FORGET_ERROR_IN_ADDRESS),
        ),
        rx.cond(
            AccountFormState.notice != "",
            rx.callout(t_var(AccountFormState.notice), icon="circle-check", color_scheme="green", id="form-notice",
                       width="100%"),
        ),
    )


def _field(label, name: str, kind: str, autocomplete: str, hint=None) -> rx.Component:
    email = kind == "email"
    return rx.vstack(
        field_label(label, name),
        rx.input(id=name, name=name, type=kind, required=True, auto_complete=autocomplete, size="3", width="100%",
                 max_length=254 if email else accounts.PASSWORD_MAX_CHARS, dir="ltr" if email else None,
                 on_change=[_KEEP_EMAIL, _HIDE_ERROR] if email else _HIDE_ERROR,
                 **({"on_mount": _PUT_EMAIL_BACK} if email else {})),
        rx.text(hint, size="1", color_scheme="gray") if hint is not None else rx.fragment(),
        spacing="1",
        width="100%",
    )


def password_hint() -> rx.Var:
    return t("{min_count} to {max_count} characters. A passphrase of a few words is easy to type and hard to guess.",
             min_count=accounts.PASSWORD_MIN_CHARS, max_count=accounts.PASSWORD_MAX_CHARS)


def _logins_off(heading) -> rx.Component:
    """PWP__DISABLE_LOGINS: the server answers these addresses 404; a page reached inside
    the app says so too."""
    return page_shell(
        rx.callout(t(accounts.MESSAGES["logins_disabled"]), icon="info", color_scheme="gray", width="100%", id="logins-off"),
        rx.link(t("Share a secret"), href="/"),
        heading=heading,
        languages=True,
    )


def login_page() -> rx.Component:
    if get_settings().disable_logins:
        return _logins_off(t("Log in"))
    return page_shell(
        _message(),
        post_form(
            rx.vstack(
                _field(t("Email"), "email", "email", "username"),
                _field(t("Password"), "password", "password", "current-password"),
                rx.el.label(
                    rx.hstack(rx.el.input(type="checkbox", name="remember", value="1", id="remember"),
                              rx.text(t("Keep me logged in for {count} days", count=get_settings().session_remember_days),
                                      size="2"),
                              align="center", spacing="2"),
                    html_for="remember",
                ),
                rx.button(t("Log in"), type="submit", id="log-in", size="3", width="100%"),
                rx.text(refusal_text(rx.Var.create(""), AccountFormState.lockout_rule), size="1", color_scheme="gray"),
                rx.link(t("Forgot your password?"), href="/forgot-password", underline="always", size="2", id="forgot-link")
                if get_settings().mail.account_emails else rx.fragment(),
                rx.cond(AccountFormState.signups_open,
                        rx.text(t("No account yet?"), " ", rx.link(t("Sign up"), href="/signup", underline="always"), size="2")),
                spacing="4",
                width="100%",
            ),
            action="/session",
            width="100%",
        ),
        login_passkey_section(),
        rx.cond(AccountFormState.offer_confirmation, rx.vstack(
            rx.text(t("No mail from us? Check your spam folder, or:"), size="2"),
            account_recovery.resend_confirmation_form(),
            width="100%",
        )),
        heading=t("Log in"),
        subheading=t("See and manage all your pushes in one place, on any device."),
        languages=True,
    )


def signup_page() -> rx.Component:
    if get_settings().disable_logins:
        return _logins_off(t("Sign up"))
    return page_shell(
        _message(),
        rx.cond(
            AccountFormState.signups_open,
            post_form(
                rx.vstack(
                    _field(t("Email"), "email", "email", "username"),
                    _field(t("Password"), "password", "password", "new-password", password_hint()),
                    _field(t("Password again"), "password_confirmation", "password", "new-password"),
                    rx.button(t("Sign up"), type="submit", id="sign-up", size="3", width="100%"),
                    rx.text(t("Already have an account?"), " ", rx.link(t("Log in"), href="/login", underline="always"), size="2"),
                    spacing="4",
                    width="100%",
                ),
                action="/signup",
                width="100%",
            ),
            rx.callout(t(accounts.MESSAGES["signups_closed"]), icon="info", color_scheme="gray", width="100%"),
        ),
        heading=t("Sign up"),
        subheading=t("An account keeps your pushes together, with their audit logs, and gives you an API token."),
        languages=True,
    )


def account_page() -> rx.Component:
    return page_shell(
        _message(),
        rx.text(t("Logged in as"), " ", rx.text.strong(AccountState.email), size="3"),
        rx.card(
            rx.heading(t("Change password"), as_="h2", size="4", margin_bottom="0.75rem"),
            post_form(
                rx.vstack(
                    _field(t("Current password"), "current_password", "password", "current-password"),
                    _field(t("New password"), "new_password", "password", "new-password", password_hint()),
                    _field(t("New password again"), "new_password_confirmation", "password", "new-password"),
                    rx.text(t("Every other browser logged in to this account is logged out."), size="1", color_scheme="gray"),
                    rx.button(t("Change password"), type="submit", id="change-password"),
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
            rx.heading(t("Delete account"), as_="h2", size="4", margin_bottom="0.75rem"),
            post_form(
                rx.vstack(
                    rx.text(t("Every push of this account expires now and its secrets are deleted. This cannot be undone."),
                            size="2"),
                    _field(t("Password"), "password", "password", "current-password"),
                    rx.button(t("Delete my account"), type="submit", id="delete-account", color_scheme="red"),
                    spacing="3",
                    width="100%",
                ),
                action="/account/delete",
                width="100%",
            ),
            width="100%",
        ),
        heading=t("Account"),
        languages=True,
    )


def login_code_page() -> rx.Component:
    return _login_code_page(_message(), step_passkey_section(), PasskeyLoginState.code_too)


def login_enrol_page() -> rx.Component:
    return _login_enrol_page(_message())


def forgot_password_page() -> rx.Component:
    return account_recovery.forgot_password_page(_message())


def reset_password_page() -> rx.Component:
    return account_recovery.reset_password_page(_message(), password_hint())
