"""Two-factor sign-in in the pages: the account page's card (set up, turn off), the login's
code form (`/login/code`) and, under PWP__REQUIRE_MFA, enrolment before any session
(`/login/enrol`).  The rules are core/two_factor.py's.

The secret and the backup codes leave the server only as event results put into fields
(`rx.set_value`), never through state vars (state is pickled into Redis with several
workers).  The login's step token is read from the browser's own connection, like the
session's (ui/session.py).  Forms whose answer sets a cookie or that carry the password are
plain HTML posts (api/sessions.py): the code form, turning it off.
"""

from __future__ import annotations

import reflex as rx

from pwpush_app.core import login_steps, two_factor
from pwpush_app.core.accounts import AccountError
from pwpush_app.core.errors import ServerBusy
from pwpush_app.core.qr import qr_data_uri
from pwpush_app.core.throttle import RateLimited
from pwpush_app.ui.common import BUSY_MESSAGE, client_of, form_text, in_thread, runtime
from pwpush_app.ui.components.fields import READABLE, copy_button, field_label, shown_if, submit_button
from pwpush_app.ui.components.layout import page_shell
from pwpush_app.ui.components.post_form import post_form
from pwpush_app.ui.components.value_image import value_image
from pwpush_app.ui.i18n import N_, refusal_text, sentences_of, t
from pwpush_app.ui.session import current_user, login_step_token_of

QR_IMAGE, SECRET_FIELD, BACKUP_FIELD = "totp-qr", "totp-secret", "backup-codes"
# Everything shown once: emptied when the person is done with it.
SHOWN_ONCE = (QR_IMAGE, SECRET_FIELD, BACKUP_FIELD)


def _grouped(secret: str) -> str:
    """'ABCD EFGH IJKL ...': easier to type into an app by hand (apps ignore the spaces)."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def _show(enrolment: two_factor.Enrolment) -> list:
    return [rx.set_value(QR_IMAGE, qr_data_uri(enrolment.uri, "QR code to scan with an authenticator app")),
            rx.set_value(SECRET_FIELD, _grouped(enrolment.secret))]


class TwoFactorState(rx.State):
    # The account page: two-factor on, and backup codes left.
    on: bool = False
    codes_left: int = 0
    # "" | "enrolling" (QR on screen, waiting for a code) | "enrolled" (backup codes on screen)
    phase: str = ""
    error: str = ""
    # A refusal's sentences with their values (a rate limit's wait), for `refusal_text`.
    error_sentences: list[dict] = []
    # On /login/enrol: enrolment belongs to the login step, not to a session.
    at_login: bool = False

    @rx.event
    async def load_account(self):
        self.phase, self.error, self.error_sentences, self.at_login = "", "", [], False
        user = await current_user(self)
        if user is not None:
            self.on = user.two_factor_on
            self.codes_left = await in_thread(two_factor.backup_codes_left, runtime(), user.id) if self.on else 0

    @rx.event
    async def start(self):
        """The account page's "Set up": a new secret, shown once."""
        user = await current_user(self)
        if user is None:
            yield rx.redirect("/login")
            return
        try:
            enrolment = await in_thread(two_factor.begin_enrolment, runtime(), user.id)
        except (AccountError, ServerBusy) as refusal:
            self._refused(refusal if isinstance(refusal, AccountError) else BUSY_MESSAGE)
            return
        self.phase = "enrolling"
        self._refused(None)
        yield
        yield _show(enrolment)

    @rx.event
    async def load_login_code(self):
        stage = await in_thread(two_factor.step_stage, runtime(), login_step_token_of(self))
        if stage is None:
            return rx.redirect("/login?error=step_expired")
        if stage != login_steps.CODE:
            return rx.redirect("/login/enrol")

    @rx.event
    async def load_login_enrol(self):
        self.at_login = True
        self._refused(None)
        token = login_step_token_of(self)
        stage = await in_thread(two_factor.step_stage, runtime(), token)
        if stage is None:
            yield rx.redirect("/login?error=step_expired")
            return
        if stage == login_steps.CODE:
            yield rx.redirect("/login/code")
            return
        if stage == login_steps.PASSED:
            self.phase = "enrolled"
            return
        try:
            enrolment = await in_thread(two_factor.begin_enrolment_at_login, runtime(), token)
        except AccountError:
            yield rx.redirect("/login?error=step_expired")
            return
        self.phase = "enrolling"
        yield
        yield _show(enrolment)

    @rx.event
    async def confirm(self, form_data: dict):
        """The first code from the new secret switches two-factor on; the backup codes show once."""
        code = form_text(form_data, "code")
        try:
            if self.at_login:
                codes = await in_thread(two_factor.confirm_enrolment_at_login, runtime(), login_step_token_of(self), code)
            else:
                user = await current_user(self)
                if user is None:
                    yield rx.redirect("/login")
                    return
                codes = await in_thread(two_factor.confirm_enrolment, runtime(), user.id, code)
        except AccountError as refusal:
            self._refused(refusal)
            return
        except ServerBusy:
            self._refused(BUSY_MESSAGE)
            return
        self._refused(None)
        self.phase, self.on, self.codes_left = "enrolled", True, len(codes)
        yield
        yield [rx.set_value(QR_IMAGE, ""), rx.set_value(SECRET_FIELD, ""), rx.set_value(BACKUP_FIELD, "\n".join(codes)),
               rx.set_focus(BACKUP_FIELD)]

    @rx.event
    async def renew(self, form_data: dict):
        """"New backup codes": a current code replaces all ten; the new ones show once."""
        user = await current_user(self)
        if user is None:
            yield rx.redirect("/login")
            return
        try:
            codes = await in_thread(two_factor.renew_backup_codes, runtime(), user.id, form_text(form_data, "code"),
                                    client_of(self).ip)
        except (AccountError, RateLimited) as refusal:
            self._refused(refusal)
            return
        except ServerBusy:
            self._refused(BUSY_MESSAGE)
            return
        self._refused(None)
        self.phase, self.codes_left = "renewed", len(codes)
        yield
        yield [rx.set_value(BACKUP_FIELD, "\n".join(codes)), rx.set_focus(BACKUP_FIELD)]

    def _refused(self, refusal: Exception | str | None) -> None:
        """Show a refusal (English text and its sentences; the page words it), or none."""
        self.error = "" if refusal is None else str(refusal)
        self.error_sentences = sentences_of(refusal) if isinstance(refusal, Exception) else []

    @rx.event
    def done(self):
        self.phase = ""
        return [rx.set_value(field, "") for field in SHOWN_ONCE]


def _error() -> rx.Component:
    return rx.cond(TwoFactorState.error != "",
                   rx.callout(refusal_text(TwoFactorState.error, TwoFactorState.error_sentences), icon="triangle-alert", color_scheme="red", role="alert",
                              id="two-factor-error", width="100%"))


def _code_input(name: str, field_id: str, label, focus: bool = False) -> rx.Component:
    return rx.vstack(
        field_label(label, field_id),
        rx.input(id=field_id, name=name, required=True, auto_complete="one-time-code", size="3", width="100%",
                 max_length=two_factor.MAX_CODE_CHARS, spell_check=False, auto_capitalize="none", auto_focus=focus),
        spacing="1", width="100%",
    )


def _enrolling() -> rx.Component:
    """Scan (or type) the secret, then prove it with a code."""
    return rx.vstack(
        rx.text(t("1. Scan this QR code with an authenticator app (Aegis, FreeOTP, Google Authenticator, "
                  "1Password ...), or type the key below into it."), size="2"),
        rx.flex(
            rx.box(value_image(id=QR_IMAGE, alt=t("QR code to scan with an authenticator app"), width="200px",
                               height="200px"),
                   background="white", padding="0.5rem", border_radius="var(--radius-3)", flex_shrink="0"),
            rx.vstack(
                field_label(t("Key (if you cannot scan)"), SECRET_FIELD),
                rx.input(id=SECRET_FIELD, read_only=True, size="3", width="100%", font_family="monospace", dir="ltr",
                         style=READABLE),
                spacing="1", width="100%",
            ),
            gap="1rem", direction=rx.breakpoints(initial="column", sm="row"), align="start", width="100%",
        ),
        rx.form(
            rx.vstack(
                _code_input("code", "enrol-code", t("2. Enter the 6-digit code the app shows")),
                submit_button(t("Turn on two-factor"), id="turn-on"),
                spacing="3", width="100%",
            ),
            on_submit=TwoFactorState.confirm, reset_on_submit=True, width="100%",
        ),
        spacing="3", width="100%",
    )


_SAVE_CODES = N_("Save these backup codes now: they are shown only once. Each one logs you in once if your phone is lost.")


def _backup_codes(after: rx.Component) -> rx.Component:
    return rx.vstack(
        rx.cond(TwoFactorState.phase == "renewed",
                rx.callout(t("New backup codes: your old ones no longer work.") + " " + t(_SAVE_CODES), icon="circle-check",
                           color_scheme="green", width="100%", high_contrast=True, id="backup-codes-renewed"),
                rx.callout(t("Two-factor sign-in is on.") + " " + t(_SAVE_CODES), icon="circle-check", color_scheme="green",
                           width="100%", high_contrast=True, id="two-factor-on")),
        rx.text_area(id=BACKUP_FIELD, read_only=True, rows="10", width="100%", max_width="16rem", dir="ltr",
                     font_family="monospace", style=READABLE, aria_label=t("Backup codes")),
        rx.hstack(copy_button(BACKUP_FIELD, t("Copy codes"), t("Copy the codes to the clipboard"), t("Copied to the clipboard")),
                  after, spacing="3", wrap="wrap"),
        spacing="3", width="100%",
    )


def _password_field(field_id: str, label) -> rx.Component:
    return rx.vstack(field_label(label, field_id),
                     rx.input(id=field_id, name="password", type="password", required=True, auto_complete="current-password",
                              size="3", width="100%"),
                     spacing="1", width="100%")


def _renew_form() -> rx.Component:
    """"New backup codes" (lost or used up): a current code, then ten new ones, shown once."""
    return rx.form(
        rx.vstack(
            _code_input("code", "renew-code", t("New backup codes: enter a code from your app")),
            rx.button(rx.icon("refresh-cw", size=16, aria_hidden="true"), t("New backup codes"), type="submit",
                      id="renew-codes", variant="soft"),
            spacing="2", width="100%",
        ),
        on_submit=TwoFactorState.renew, reset_on_submit=True, width="100%",
    )


def two_factor_card() -> rx.Component:
    """The account page's card."""
    off_form = post_form(
        rx.vstack(
            rx.text(t("Turning it off takes your password and a code (or a backup code)."), size="2"),
            _password_field("off-password", t("Password")),
            _code_input("code", "off-code", t("Code or backup code")),
            rx.button(t("Turn off two-factor"), type="submit", id="turn-off", color_scheme="red", variant="soft"),
            spacing="3", width="100%",
        ),
        action="/account/two-factor/off", width="100%",
    )
    return rx.card(
        rx.heading(t("Two-factor sign-in"), as_="h2", size="4", margin_bottom="0.75rem"),
        _error(),
        rx.cond(
            TwoFactorState.phase == "",
            rx.cond(
                TwoFactorState.on,
                rx.vstack(rx.text(t("On: logging in asks for a code from your authenticator app."), " ",
                                  t("{count} backup codes left.", count=TwoFactorState.codes_left), size="2",
                                  id="two-factor-status"),
                          _renew_form(), off_form, spacing="3", width="100%"),
                rx.vstack(rx.text(t("Off. With it on, logging in also asks for a code from an app on your phone, so "
                                    "a stolen password alone is not enough. API tokens are not affected."), size="2"),
                          rx.button(t("Set up two-factor"), on_click=TwoFactorState.start, id="set-up-two-factor"),
                          spacing="3", width="100%"),
            ),
        ),
        shown_if(TwoFactorState.phase == "enrolling", _enrolling()),
        shown_if((TwoFactorState.phase == "enrolled") | (TwoFactorState.phase == "renewed"),
                 _backup_codes(rx.button(t("I saved them"), on_click=TwoFactorState.done, id="saved-codes"))),
        width="100%", id="two-factor-card",
    )


def login_code_page(message: rx.Component, passkey_part: rx.Component | None = None,
                    code_shown: rx.Var | bool = True) -> rx.Component:
    """The login's second step: a code, or (ui/passkeys.py's `passkey_part`) a passkey."""
    code_form = post_form(
        rx.vstack(
            _code_input("code", "code", t("Code from your authenticator app"), focus=True),
            rx.text(t("Lost your phone? Enter one of your backup codes instead."), size="1", color_scheme="gray"),
            rx.button(t("Log in"), type="submit", id="send-code", size="3", width="100%"),
            spacing="4", width="100%",
        ),
        action="/session/code", width="100%",
    )
    return page_shell(
        message,
        passkey_part if passkey_part is not None else rx.fragment(),
        rx.cond(code_shown, code_form),
        rx.link(t("Start again"), href="/login", underline="always", size="2"),
        heading=t("Two-factor sign-in"),
        subheading=t("Your password was right. Now your second factor, to prove it is you."),
        languages=True,
    )


def login_enrol_page(message: rx.Component) -> rx.Component:
    continue_form = post_form(rx.button(t("Continue"), type="submit", id="continue-login"),
                              action="/session/code")
    return page_shell(
        message,
        rx.callout(t("This site requires two-factor sign-in. Set it up now to log in."), icon="shield-check",
                   width="100%"),
        _error(),
        shown_if(TwoFactorState.phase == "enrolling", _enrolling()),
        shown_if(TwoFactorState.phase == "enrolled", _backup_codes(continue_form)),
        heading=t("Set up two-factor sign-in"),
        languages=True,
    )
