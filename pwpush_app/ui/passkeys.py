"""Passkeys in the pages: the account page's "Passkeys" card (add, name, rename, remove), the
"Sign in with a passkey" button on /login, and the passkey beside the code on /login/code.
The rules are core/passkeys.py's.

The browser's part is components/passkey_ceremony.py's (our CSP allows no eval, so not
rx.call_script): an event hands it the server's options (JSON), it runs
navigator.credentials.create()/get(), and the answer comes back to an event.  A new passkey's answer
comes back to an event (the session is already there).  A sign-in's answer is posted by the
page as a plain form to /session/passkey (api/sessions.py), because only an HTTP answer can
set the HttpOnly session cookie.  A browser without passkeys, a cancelled prompt or a passkey
already on the device come back as a clear message.  Removing one takes the password, in a
plain form post too.  Nothing secret is in these states: a challenge is no secret (it is good
once, and kept server-side), and the passkeys' ids only name rows of their owner's account.
"""

from __future__ import annotations

import reflex as rx

from pwpush_app.core import login_steps, passkeys
from pwpush_app.core.accounts import AccountError
from pwpush_app.core.errors import ServerBusy
from pwpush_app.core.i18n import said
from pwpush_app.core.throttle import RateLimited
from pwpush_app.ui.common import BUSY_MESSAGE, client_of, form_text, in_thread, runtime
from pwpush_app.ui.components.audit_words import iso_moment
from pwpush_app.ui.components.fields import field_label, submit_button
from pwpush_app.ui.components.passkey_ceremony import passkey_ceremony, start
from pwpush_app.ui.components.post_form import log_in_again, post_form
from pwpush_app.ui.i18n import N_, local_time, refusal_text, sentences_of, t, t_var
from pwpush_app.ui.session import current_user, login_step_token_of, session_token_of

BROWSER_ERRORS = {
    "unsupported": N_("This browser cannot use passkeys. Use a current browser, or log in with your email and password."),
    "cancelled": N_("The passkey request was cancelled or ran out of time. Try again when you are ready."),
    "exists": N_("This device already holds a passkey for your account: it is in the list below."),
    "insecure": N_("Passkeys need a secure address: the site's name over https (or localhost)."),
    "failed": N_("The passkey did not work in this browser. Try again, or use another device."),
}


def _browser_error(result) -> str:
    """The message for what the browser's part gave back, or "" when it went through."""
    if not isinstance(result, dict):
        return BROWSER_ERRORS["failed"]
    if "error" in result:
        return BROWSER_ERRORS.get(str(result.get("error")), BROWSER_ERRORS["failed"])
    return ""


def _rp_of(state: rx.State) -> tuple[str, str]:
    """The page's origin and its connection's Host header (core/passkeys.relying_party checks them)."""
    return state.router.url.origin, state.router.headers.host


class PasskeysState(rx.State):
    """The account page's card."""

    # [{"id", "name", "added", "last_used"}] of this account's passkeys.
    rows: list[dict[str, str]] = []
    error: str = ""
    error_sentences: list[dict] = []
    # The refusal asks for a recent login (sudo mode): offer the way to log in again.
    login_again: bool = False
    notice: str = ""
    notice_sentences: list[dict] = []
    # Waiting for the browser's passkey prompt.
    waiting: bool = False
    renaming: str = ""
    removing: str = ""

    async def _reload(self, user_id: str) -> None:
        found = await in_thread(passkeys.list_passkeys, runtime(), user_id)
        # Moments as ISO: the browser writes them in the viewer's zone and language.
        self.rows = [{"id": p.id, "name": p.name, "added": iso_moment(p.created_at),
                       "last_used": iso_moment(p.last_used_at)} for p in found]

    def _clear_error(self) -> None:
        self.error, self.error_sentences, self.login_again = "", [], False

    def _refused(self, refusal: AccountError) -> None:
        self.error, self.error_sentences, self.notice = str(refusal), sentences_of(refusal), ""
        self.login_again = refusal.code == "login_again_passkey"

    @rx.event
    async def load(self):
        self.notice = self.renaming = self.removing = ""
        self._clear_error()
        self.waiting = False
        user = await current_user(self)
        if user is not None:
            await self._reload(user.id)

    @rx.event
    async def add(self, form_data: dict):
        """Name it, then the browser's prompt makes it."""
        user = await current_user(self)
        if user is None:
            yield rx.redirect("/login")
            return
        try:
            passkeys.clean_name(form_text(form_data, "name"))
            options = await in_thread(passkeys.registration_options, runtime(), user.id, *_rp_of(self),
                                      session_token=session_token_of(self))
        except AccountError as refusal:
            self._refused(refusal)
            return
        except ServerBusy:
            self.error, self.error_sentences = BUSY_MESSAGE, []
            return
        self._clear_error()
        self.notice, self.waiting = "", True
        yield
        yield start(options, "create")

    @rx.event
    async def added(self, result: dict):
        self.waiting = False
        if message := _browser_error(result):
            self.error, self.error_sentences = message, []
            return
        user = await current_user(self)
        if user is None:
            yield rx.redirect("/login")
            return
        try:
            made = await in_thread(passkeys.register, runtime(), user.id, result.get("credential"), result.get("name"),
                                   session_token=session_token_of(self))
        except AccountError as refusal:
            self._refused(refusal)
            return
        except ServerBusy:
            self.error, self.error_sentences = BUSY_MESSAGE, []
            return
        self._clear_error()
        self.notice = said(N_("Passkey \u201c{name}\u201d added."), name=made.name)
        self.notice_sentences = sentences_of(self.notice)
        await self._reload(user.id)
        yield rx.set_value("passkey-name", "")

    @rx.event
    def start_rename(self, passkey_id: str):
        self.renaming, self.removing = str(passkey_id), ""
        self._clear_error()

    @rx.event
    def cancel(self):
        self.renaming = self.removing = ""

    @rx.event
    async def rename(self, form_data: dict):
        user = await current_user(self)
        if user is None:
            return rx.redirect("/login")
        try:
            await in_thread(passkeys.rename, runtime(), user.id, self.renaming, form_text(form_data, "name"))
        except AccountError as refusal:
            self._refused(refusal)
            return
        self._clear_error()
        self.renaming, self.notice = "", N_("Passkey renamed.")
        self.notice_sentences = []
        await self._reload(user.id)

    @rx.event
    def start_remove(self, passkey_id: str):
        self.removing, self.renaming = str(passkey_id), ""
        self._clear_error()


class PasskeyLoginState(rx.State):
    """/login's "Sign in with a passkey" and /login/code's "Use a passkey"."""

    error: str = ""
    # A refusal's sentences with their values (a rate limit's wait), for `refusal_text`.
    error_sentences: list[dict] = []
    waiting: bool = False
    # /login/code: the step's account has passkeys (offer one), and TOTP (show the code form).
    offered: bool = False
    code_too: bool = True

    @rx.event
    def clear(self):
        self.error, self.waiting = "", False

    @rx.event
    async def load_step(self):
        self.error, self.waiting = "", False
        self.offered, self.code_too = await in_thread(_step_factors, login_step_token_of(self))

    @rx.event
    async def sign_in(self):
        """A passkey alone: no email asked; the browser offers the ones it holds for this site."""
        try:
            options = await in_thread(passkeys.login_options, runtime(), *_rp_of(self), ip=client_of(self).ip)
        except (AccountError, RateLimited) as refusal:
            self.error, self.error_sentences = str(refusal), sentences_of(refusal)
            return
        except ServerBusy:
            self.error, self.error_sentences = BUSY_MESSAGE, []
            return
        self.error, self.waiting = "", True
        yield
        yield start(options, "get", "/session/passkey")

    @rx.event
    async def second_factor(self):
        try:
            options = await in_thread(passkeys.step_options, runtime(), login_step_token_of(self), *_rp_of(self))
        except AccountError as refusal:
            if refusal.code == "step_expired":
                yield rx.redirect("/login?error=step_expired")
                return
            self.error, self.error_sentences = str(refusal), []
            return
        self.error, self.waiting = "", True
        yield
        yield start(options, "get", "/session/passkey?from=step")

    @rx.event
    def answered(self, result: dict):
        """The browser's part ended: a message, or the form is on its way (the page changes)."""
        if message := _browser_error(result):
            self.error, self.error_sentences, self.waiting = message, [], False


def _step_factors(step_token: str | None) -> tuple[bool, bool]:
    found = login_steps.find(runtime(), step_token)
    if found is None:
        return False, True
    user = found[1]
    return passkeys.has_passkeys(runtime(), user.id), user.two_factor_on


# --- the pieces of the pages -----------------------------------------------------------------------

def _callout(text, color: str, icon: str, id_: str) -> rx.Component:
    role = {"role": "alert"} if color == "red" else {"role": "status"}
    return rx.callout(text, icon=icon, color_scheme=color, width="100%", id=id_, **role)


def _waiting(flag) -> rx.Component:
    return rx.cond(flag, rx.hstack(rx.spinner(size="2"), rx.text(t("Waiting for your passkey: follow your browser's "
                                                                    "prompt."), size="2"),
                                   align="center", spacing="2", id="passkey-waiting", role="status"))


def _row(item) -> rx.Component:
    shown = rx.vstack(
        rx.hstack(rx.icon("key-round", size=16, aria_hidden="true"), rx.text.strong(item["name"], class_name="passkey-name"),
                  align="center", spacing="2"),
        rx.text(t("Added {added} · last used {last_used}", added=local_time(item["added"]),
                  last_used=rx.cond(item["last_used"] != "", local_time(item["last_used"]), t("never"))),
                size="1", color_scheme="gray"),
        spacing="1", flex="1", min_width="12rem",
    )
    buttons = rx.hstack(
        rx.button(t("Rename"), variant="soft", size="2", on_click=PasskeysState.start_rename(item["id"]),
                  aria_label=t("Rename {name}", name=item["name"])),
        rx.button(t("Remove"), variant="soft", color_scheme="red", size="2", on_click=PasskeysState.start_remove(item["id"]),
                  aria_label=t("Remove {name}", name=item["name"])),
        spacing="2",
    )
    rename_form = rx.form(
        rx.hstack(
            rx.input(name="name", default_value=item["name"], required=True, max_length=passkeys.MAX_NAME_CHARS,
                     aria_label=t("New name"), id="rename-input", size="2", auto_focus=True, flex="1", min_width="10rem"),
            submit_button(t("Save"), size="2", id="rename-save"),
            rx.button(t("Cancel"), type="button", variant="soft", color_scheme="gray", size="2", on_click=PasskeysState.cancel),
            spacing="2", wrap="wrap", width="100%",
        ),
        on_submit=PasskeysState.rename, width="100%",
    )
    remove_form = post_form(
        rx.vstack(
            rx.text(t("Remove \u201c{name}\u201d? It will no longer sign you in. Enter your password to confirm.",
                      name=item["name"]), size="2"),
            rx.el.input(type="hidden", name="passkey", value=item["id"]),
            field_label(t("Password"), "remove-password"),
            rx.input(id="remove-password", name="password", type="password", required=True,
                     auto_complete="current-password", size="2", width="100%"),
            rx.hstack(
                rx.button(t("Remove passkey"), type="submit", id="remove-confirm", color_scheme="red", size="2"),
                rx.button(t("Cancel"), type="button", variant="soft", color_scheme="gray", size="2",
                          on_click=PasskeysState.cancel),
                spacing="2",
            ),
            spacing="2", width="100%",
        ),
        action="/account/passkeys/remove", width="100%",
    )
    return rx.box(
        rx.cond(
            PasskeysState.renaming == item["id"], rename_form,
            rx.flex(shown, buttons, gap="0.75rem", wrap="wrap", align="center", width="100%"),
        ),
        rx.cond(PasskeysState.removing == item["id"], rx.box(remove_form, padding_top="0.75rem", width="100%")),
        padding="0.75rem", border="1px solid var(--gray-a6)", border_radius="var(--radius-3)", width="100%",
        class_name="passkey-row",
    )


def passkeys_card() -> rx.Component:
    """The account page's "Passkeys" card."""
    return rx.card(
        rx.heading(t("Passkeys"), as_="h2", size="4", margin_bottom="0.75rem"),
        rx.text(t("A passkey signs you in with your fingerprint, face or device PIN instead of your password, and "
                  "counts as the second factor after it. Add one for each device you use."), size="2"),
        rx.vstack(
            rx.cond(PasskeysState.error != "", _callout(refusal_text(PasskeysState.error, PasskeysState.error_sentences), "red",
                                                        "triangle-alert", "passkey-error")),
            rx.cond(PasskeysState.login_again, log_in_again("passkey-log-in-again")),
            rx.cond(PasskeysState.notice != "", _callout(refusal_text(PasskeysState.notice, PasskeysState.notice_sentences), "green", "circle-check", "passkey-notice")),
            rx.cond(PasskeysState.rows.length() == 0,
                    rx.text(t("No passkeys yet."), size="2", color_scheme="gray", id="no-passkeys"),
                    rx.vstack(rx.foreach(PasskeysState.rows, _row), spacing="2", width="100%", id="passkey-list")),
            rx.form(
                rx.vstack(
                    field_label(t("Name of the new passkey"), "passkey-name"),
                    rx.flex(
                        rx.input(id="passkey-name", name="name", required=True, placeholder=t("Laptop, Phone ..."),
                                 max_length=passkeys.MAX_NAME_CHARS, size="3", flex="1", min_width="12rem"),
                        submit_button(rx.icon("plus", size=16, aria_hidden="true"), t("Add a passkey"), size="3",
                                      id="add-passkey", disabled=PasskeysState.waiting),
                        gap="0.5rem", wrap="wrap", width="100%",
                    ),
                    spacing="1", width="100%",
                ),
                on_submit=PasskeysState.add, width="100%",
            ),
            _waiting(PasskeysState.waiting),
            passkey_ceremony(PasskeysState.added),
            spacing="3", width="100%", margin_top="0.75rem",
        ),
        width="100%", id="passkeys-card",
    )


def login_passkey_section() -> rx.Component:
    """/login: below the password form."""
    return rx.vstack(
        rx.flex(rx.separator(size="4", flex="1"), rx.text(t("or"), size="2", color_scheme="gray"),
                rx.separator(size="4", flex="1"), align="center", gap="0.75rem", width="100%"),
        rx.cond(PasskeyLoginState.error != "",
                _callout(refusal_text(PasskeyLoginState.error, PasskeyLoginState.error_sentences), "red", "triangle-alert",
                         "passkey-error")),
        rx.button(rx.icon("key-round", size=18, aria_hidden="true"), t("Sign in with a passkey"), type="button",
                  on_click=PasskeyLoginState.sign_in, id="passkey-sign-in", size="3", variant="outline", width="100%",
                  disabled=~rx.State.is_hydrated | PasskeyLoginState.waiting),
        _waiting(PasskeyLoginState.waiting),
        passkey_ceremony(PasskeyLoginState.answered),
        spacing="3", width="100%",
    )


def step_passkey_section() -> rx.Component:
    """/login/code: the passkey beside the code, when the account has one."""
    return rx.cond(
        PasskeyLoginState.offered,
        rx.vstack(
            rx.cond(PasskeyLoginState.error != "",
                    _callout(t_var(PasskeyLoginState.error), "red", "triangle-alert", "passkey-error")),
            rx.button(rx.icon("key-round", size=18, aria_hidden="true"), t("Use a passkey"), type="button",
                      on_click=PasskeyLoginState.second_factor, id="passkey-second-factor", size="3", width="100%",
                      disabled=~rx.State.is_hydrated | PasskeyLoginState.waiting),
            _waiting(PasskeyLoginState.waiting),
            passkey_ceremony(PasskeyLoginState.answered),
            rx.cond(PasskeyLoginState.code_too,
                    rx.flex(rx.separator(size="4", flex="1"), rx.text(t("or enter a code"), size="2", color_scheme="gray"),
                            rx.separator(size="4", flex="1"), align="center", gap="0.75rem", width="100%")),
            spacing="3", width="100%",
        ),
    )

