"""Answer a request (`/ask/[token]`): the page of the person asked for a secret.

Like the reveal page, the server sends the same static bundle for every token; the page's
load event asks the core whether the request is open (`request_landing`) and keeps only
that fact in state.  The requester's message reaches the read-only box as an event result
once the box is on screen; the answer travels only as the submit event's argument, and
the page then says "sent" and never shows it again.  A used, expired or unknown link gets
the card of an unknown secret link.

Text only: a request's answer is a text push (core/requests.py).
"""

from __future__ import annotations

import reflex as rx

from pwpush_app.core.errors import InvalidPush, PushUnavailable, ServerBusy
from pwpush_app.core.requests import answer_request, request_landing
from pwpush_app.core.throttle import RateLimited
from pwpush_app.settings import get_settings
from pwpush_app.ui.common import BUSY_MESSAGE, client_of, form_text, format_time, in_thread, runtime
from pwpush_app.ui.components.fields import READABLE, field_error, field_label, submit_button
from pwpush_app.ui.components.layout import page_shell
from pwpush_app.ui.components.reveal_cards import card, unavailable_card

MESSAGE_BOX = "ask-message"


class AskState(rx.State):
    # loading | open | sent | unavailable
    status: str = "loading"
    expires: str = ""
    errors: dict[str, str] = {}
    working: bool = False

    def _token(self) -> str:
        return self.router.url.path.rstrip("/").rsplit("/", 1)[-1]

    @rx.event
    async def open_link(self):
        """On load, and again when the websocket reconnects: the thank-you then stays."""
        if self.status == "sent":
            return
        await self._open()

    @rx.event
    async def open_page(self):
        """On mount: a page freshly loaded, never a reconnect; a thank-you kept from an earlier
        page of this tab is gone, and the used link reads like an unknown one."""
        if self.status == "sent":
            await self._open()

    async def _open(self) -> None:
        self.errors, self.working = {}, False
        try:
            landing = await in_thread(request_landing, runtime(), self._token())
        except PushUnavailable:
            self.status = "unavailable"
            return
        except ServerBusy:
            self.status, self.errors = "open", {"payload": BUSY_MESSAGE}
            return
        self.status, self.expires = "open", format_time(landing.expires_at)

    @rx.event
    async def show_message(self):
        """The box is on screen: fill it (an event result, never state)."""
        try:
            landing = await in_thread(request_landing, runtime(), self._token())
        except (PushUnavailable, ServerBusy):
            return
        return rx.set_value(MESSAGE_BOX, landing.message)

    @rx.event
    async def send(self, form_data: dict):
        if self.status != "open":
            return
        self.working = True
        yield
        try:
            await in_thread(answer_request, runtime(), self._token(), form_text(form_data, "payload"), client_of(self),
                            form_text(form_data, "passphrase"))
        except PushUnavailable:
            self.status, self.working = "unavailable", False
            return
        except InvalidPush as refusal:
            self.errors, self.working = dict(refusal.errors), False
            return
        except (RateLimited, ServerBusy) as refusal:
            self.errors, self.working = {"payload": str(refusal) or BUSY_MESSAGE}, False
            return
        self.status, self.errors, self.working = "sent", {}, False


def _form() -> rx.Component:
    requires_passphrase = get_settings().require_passphrase
    return card(
        rx.heading("Someone asks you for a secret", as_="h1", size="5"),
        rx.text_area(id=MESSAGE_BOX, read_only=True, rows="3", size="3", width="100%", style=READABLE,
                     aria_label="What they ask for", on_mount=AskState.show_message),
        rx.form(
            rx.vstack(
                field_label("Your answer", "payload"),
                rx.text_area(name="payload", id="payload", rows="4", size="3", width="100%", auto_focus=True,
                             aria_describedby="payload-help payload-error", auto_complete=False, spell_check=False),
                rx.text("It is encrypted for the person who asked: only they can open it, and you can't see it "
                        "again once sent.", id="payload-help", size="1", color_scheme="gray"),
                field_error(AskState.errors.get("payload", ""), "payload"),
                *([field_label("Passphrase", "passphrase"),
                   rx.input(name="passphrase", id="passphrase", type="password", size="3", width="100%",
                            aria_describedby="passphrase-error"),
                   rx.text("This site asks for a passphrase on every secret: tell it to them another way.", size="1",
                           color_scheme="gray"),
                   field_error(AskState.errors.get("passphrase", ""), "passphrase")] if requires_passphrase else []),
                submit_button(rx.cond(AskState.working, rx.spinner(size="2"), rx.icon("send", size=16)),
                              "Send it", id="send-answer", size="3", disabled=AskState.working),
                rx.text("The link works until ", AskState.expires, ", for one answer.", size="1", color_scheme="gray"),
                spacing="2", width="100%",
            ),
            on_submit=AskState.send, reset_on_submit=True,
        ),
        id="ask-card",
    )


def _sent() -> rx.Component:
    return card(
        rx.hstack(rx.icon("circle-check", size=28, color="var(--green-9)", aria_hidden="true"),
                  rx.heading("Thank you: sent", as_="h1", size="5"), align="center"),
        rx.text("Only the person who asked can open it. This link takes no other answer, and nothing of what you "
                "sent stays on this page.", color_scheme="gray"),
        rx.link("Share a secret of your own", href="/"),
        id="answer-sent",
    )


def ask_page() -> rx.Component:
    return page_shell(
        rx.fragment(on_mount=AskState.open_page),
        rx.match(
            AskState.status,
            ("open", _form()),
            ("sent", _sent()),
            ("unavailable", unavailable_card()),
            rx.center(rx.spinner(size="3"), min_height="12rem", width="100%"),
        ),
    )
