"""The API token page (`/api-token`): create or regenerate (shown once), revoke, and how to use it.

The new token goes to the browser as an event result filling a read-only field
(`rx.set_value`), never into a state var: it is on screen once and stored nowhere but as
its digest.
"""

from __future__ import annotations

import reflex as rx

from pwpush_app.core import accounts
from pwpush_app.core.errors import ServerBusy
from pwpush_app.ui.common import BUSY_MESSAGE, in_thread, runtime, site_base_url
from pwpush_app.ui.components.audit_words import iso_moment
from pwpush_app.ui.components.confirm import confirm_button
from pwpush_app.ui.components.fields import copy_button
from pwpush_app.ui.components.layout import page_shell
from pwpush_app.ui.components.post_form import log_in_again
from pwpush_app.ui.i18n import local_time, refusal_text, sentences_of, t
from pwpush_app.ui.session import AccountState, current_user, session_token_of

TOKEN_BOX = "api-token"


class TokenState(rx.State):
    has_token: bool = False
    # An ISO moment: the browser writes it in the viewer's zone and language.
    created: str = ""
    shown: bool = False
    revoked: bool = False
    message: str = ""
    message_sentences: list[dict] = []
    # The refusal asks for a recent login (sudo mode): offer the way to log in again.
    login_again: bool = False
    # Where this site is for scripts: the configured base URL, or the address this page was
    # opened at (links.base_url_for), for the examples below.
    site: str = ""

    async def _user(self):
        user = await current_user(self)
        if user is None:
            self.has_token, self.shown = False, False
        return user

    @rx.event
    async def load(self):
        self.shown, self.revoked, self.message, self.message_sentences, self.login_again = False, False, "", [], False
        self.site = site_base_url(self)
        user = await self._user()
        if user is None:
            return rx.redirect("/login")
        self.has_token = user.api_token_digest is not None
        self.created = iso_moment(user.api_token_created_at)

    @rx.event
    async def regenerate(self):
        user = await self._user()
        if user is None:
            yield rx.redirect("/login")
            return
        try:
            token = await in_thread(accounts.regenerate_api_token, runtime(), user.id,
                                    session_token=session_token_of(self))
        except accounts.AccountError as refusal:
            self.message, self.message_sentences = str(refusal), sentences_of(refusal)
            self.login_again = refusal.code == "login_again_token"
            return
        except ServerBusy:
            self.message, self.message_sentences, self.login_again = BUSY_MESSAGE, [], False
            return
        fresh = await in_thread(accounts.get_user, runtime(), user.id)
        self.has_token, self.shown, self.revoked, self.message = True, True, False, ""
        self.message_sentences, self.login_again = [], False
        self.created = iso_moment(fresh.api_token_created_at if fresh else None)
        yield
        # After the field is on the page.
        yield rx.set_value(TOKEN_BOX, token)

    @rx.event
    async def revoke(self):
        user = await self._user()
        if user is None:
            return rx.redirect("/login")
        await in_thread(accounts.revoke_api_token, runtime(), user.id)
        self.has_token, self.shown, self.created = False, False, ""
        self.message, self.message_sentences, self.login_again = "", [], False
        self.revoked = True
        return rx.set_value(TOKEN_BOX, "")


def _code(text: str) -> rx.Component:
    # Code reads left to right on a right-to-left page too.
    return rx.el.pre(
        rx.el.code(text), dir="ltr", text_align="left", white_space="pre-wrap", word_break="break-all", font_size="0.8rem",
        background="var(--gray-a3)", padding="0.75rem", border_radius="var(--radius-2)", width="100%", margin="0",
    )


def api_token_page() -> rx.Component:
    base = TokenState.site
    return page_shell(
        rx.cond(TokenState.message != "", rx.callout(refusal_text(TokenState.message, TokenState.message_sentences),
                                                      color_scheme="red", icon="triangle-alert", width="100%", id="token-error")),
        rx.cond(TokenState.login_again, log_in_again("token-log-in-again")),
        rx.card(
            rx.vstack(
                rx.cond(
                    TokenState.has_token,
                    rx.text(t("Your API token was created on {time}. It is stored only as a fingerprint, so it can't be "
                              "shown again: regenerate it if you lost it.", time=local_time(TokenState.created)),
                            size="2", id="token-status"),
                    rx.text(rx.cond(TokenState.revoked, t("Your API token is revoked: scripts using it now get 401."), ""),
                            rx.cond(TokenState.revoked, " ", ""), t("You have no API token."), size="2", id="token-status"),
                ),
                rx.box(
                    rx.vstack(
                        rx.callout(t("Copy your token now: it is shown only once."), icon="key-round", color_scheme="amber", width="100%"),
                        rx.hstack(
                            rx.el.input(id=TOKEN_BOX, read_only=True, aria_label=t("Your new API token"), dir="ltr",
                                        style={"flex": "1", "minWidth": "0", "fontFamily": "monospace", "padding": "0.5rem",
                                               "border": "1px solid var(--gray-a7)", "borderRadius": "var(--radius-2)",
                                               "background": "var(--color-surface)", "color": "var(--gray-12)"}),
                            copy_button(TOKEN_BOX, t("Copy"), t("Copy to the clipboard"), t("Copied to the clipboard")),
                            width="100%",
                        ),
                        width="100%",
                    ),
                    display=rx.cond(TokenState.shown, "block", "none"),
                    width="100%",
                ),
                rx.hstack(
                    rx.cond(
                        TokenState.has_token,
                        # Both break every script using the token: they ask first.
                        confirm_button(
                            label=t("Regenerate token"), icon="refresh-cw", button_id="regenerate-token",
                            color_scheme="iris",
                            title=t("Regenerate your API token?"),
                            description=t("The current token stops working at once: scripts and the pwpush command line "
                                          "tool using it get 401 until they have the new one."),
                            confirm_label=t("Regenerate"), confirm_id="confirm-regenerate", cancel_label=t("Keep the token"),
                            on_confirm=TokenState.regenerate,
                        ),
                        rx.button(t("Create token"), id="regenerate-token", on_click=TokenState.regenerate),
                    ),
                    rx.cond(
                        TokenState.has_token,
                        confirm_button(
                            label=t("Revoke"), icon="ban", button_id="revoke-token",
                            title=t("Revoke your API token?"),
                            description=t("Scripts and the pwpush command line tool using it get 401 from now on. "
                                          "You can create a new token later."),
                            confirm_label=t("Revoke"), confirm_id="confirm-revoke", cancel_label=t("Keep the token"),
                            on_confirm=TokenState.revoke,
                        ),
                    ),
                    spacing="3",
                    wrap="wrap",
                ),
                rx.text(t("Regenerating makes the old token stop working at once."), size="1", color_scheme="gray"),
                spacing="3",
                width="100%",
            ),
            width="100%",
        ),
        rx.heading(t("Use it"), as_="h2", size="4"),
        rx.text(t("With the Password Pusher command line tool:"), " ", rx.code("pip install pwpush"), size="2"),
        _code(f"pwpush login --url {base} --email {AccountState.email} --token YOUR_TOKEN\n"
              "pwpush push --secret 'my secret'\npwpush list"),
        rx.text(t("With curl:"), size="2"),
        _code(f"curl -X POST {base}/api/v2/pushes \\\n  -H 'Authorization: Bearer YOUR_TOKEN' \\\n"
              f"  -H 'Content-Type: application/json' \\\n  -d '{{\"push\": {{\"payload\": \"my secret\", \"expire_after_views\": 1}}}}'\n\n"
              f"curl -H 'Authorization: Bearer YOUR_TOKEN' {base}/api/v2/pushes/active"),
        rx.text(t("Pushes created with the token belong to your account and appear on your dashboard."), " ",
                rx.link(t("Dashboard"), href="/dashboard", underline="always"), " · ",
                rx.link(t("API documentation"), href="/api/docs", underline="always"), size="2"),
        heading=t("API token"),
        subheading=t("For scripts and the command line: it acts as you."),
        languages=True,
    )
