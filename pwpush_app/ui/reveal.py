"""Reveal (`/p/[token]`): the recipient's page.

The page the server sends is the same static bundle for every token: it holds no secret
and does nothing on its own, so curl and link-preview bots can fetch it freely. Only a
state event (the Reveal click, or the page load when the sender turned the retrieval step
off) calls `reveal_push`, and the secret goes back to the browser as the event's result
(`rx.set_value` on a read-only field) without ever being assigned to state.

What the tab remembers of a reveal is a digest of the link it revealed (`_revealed_link`,
backend-only): the proof `delete_now` asks for, so a crafted event can't delete a push nobody
revealed here, and what tells a websocket reconnect (which runs the page's on_load again)
from a new visit, so a reconnect never takes another view or hides the secret.
"""

from __future__ import annotations

import reflex as rx

from pwpush_app.core.create import is_safe_url
from pwpush_app.core.crypto import plain_digest
from pwpush_app.core.errors import PassphraseRequired, PushError, PushUnavailable, ServerBusy
from pwpush_app.core.qr import QrTooLong, qr_data_uri
from pwpush_app.core.recipient_code import send_code
from pwpush_app.core.reveal import Revealed, expire_by_viewer, landing, reveal_push
from pwpush_app.settings import get_settings
from pwpush_app.ui.common import BUSY_MESSAGE, client_of, in_thread, runtime
from pwpush_app.ui.components.blur import BLUR_HINT, BLURRED, blur_hint, blur_style, quiet_until_left
from pwpush_app.ui.components.confirm import confirm_button
from pwpush_app.ui.components.e2e import E2E_FILES_ID, OPENER_ID, e2e_files, e2e_key_gate, e2e_opener
from pwpush_app.ui.components.fields import READABLE, copy_button, shown_if, submit_button
from pwpush_app.ui.components.file_links import file_links
from pwpush_app.ui.components.layout import page_shell
from pwpush_app.ui.components.reveal_cards import (
    card,
    deleted_card,
    loading_card,
    missing_key_card,
    opened_before_notice,
    revealed_message,
    unavailable_card,
    views_left_words,
)
from pwpush_app.ui.components.reveal_files import files_shown
from pwpush_app.ui.components.reveal_steps import CODE_FIELD, code_step, e2e_note, passphrase_step
from pwpush_app.ui.components.value_image import value_image
from pwpush_app.ui.i18n import N_, LanguageState, refusal_text, sentences_of, t

SECRET_BOX = "secret-box"
SECRET_QR = "secret-qr"
SECRET_FILES = "secret-files"
DELETE_RECEIPT = "delete-receipt"
REVEAL_FIRST_MESSAGE = N_("Reveal the secret first: only then can it be deleted from this page.")


class RevealState(rx.State):
    # loading | autoreveal | landing | revealed | deleted | unavailable
    status: str = "loading"
    kind: str = "text"
    needs_passphrase: bool = False
    # The sender verifies the recipient: a code by email first; where it went (masked), once sent.
    needs_code: bool = False
    code_sent_to: str = ""
    sending_code: bool = False
    message: str = ""
    # A refusal of several sentences (a wrong passphrase), for other languages (ui/i18n.py).
    message_sentences: list[dict] = []
    # Views left after this one (-1: say nothing) and until when (ISO: the browser writes it
    # in the viewer's time zone and language); `views_caption` replaces both (English, translated).
    views_left: int = -1
    expires_at: str = ""
    views_caption: str = ""
    deletable: bool = False
    working: bool = False
    # Harmless facts about what was revealed (the values themselves never sit here).
    has_text: bool = False
    text_shown: bool = False
    # PWP__PW__ENABLE_BLUR / PWP__FILES__ENABLE_BLUR: the text stays blurred until hovered or
    # focused; a click clears it for good.
    blurred: bool = False
    download_hint: str = ""
    download_hint_sentences: list[dict] = []  # the hint for other languages (components/reveal_files.py)
    # How often and when the link was opened before this view ("" for a push of one view).
    opened_before: str = ""
    opened_earlier: bool = False
    # The same for other languages: how many views before this one, and the last one's time (ISO).
    opened_count: int = 0
    opened_last: str = ""
    # End-to-end (core/e2e.py): the text is decrypted in the browser, with the link's key.
    end_to_end: bool = False
    # Backend-only: the digest of the link this tab revealed ("" for none), never the link.
    _revealed_link: str = ""

    def _link_token(self) -> str:
        return self.router.url.path.rstrip("/").rsplit("/", 1)[-1]

    def _revealed_here(self) -> bool:
        """This tab revealed the link the event names (a crafted event may name another)."""
        return bool(self._revealed_link) and self._revealed_link == plain_digest(self._link_token())

    @rx.event
    async def open_link(self):
        """On load: what may be known before the reveal (nothing secret); reveal now if the sender chose so.

        Reflex runs on_load again when the websocket reconnects: a secret this tab already
        revealed (or deleted) stays as it is, with no new view."""
        if self.status in ("revealed", "deleted") and self._revealed_here():
            return
        await self._open()

    @rx.event
    async def open_page(self):
        """On mount: a page freshly loaded (or navigated to), never a reconnect. A reveal kept
        from an earlier page of this tab is no longer on screen: the link opens anew."""
        if self.status in ("revealed", "deleted"):
            await self._open()

    async def _open(self) -> None:
        self.reset()
        self._revealed_link = ""
        try:
            found = await in_thread(landing, runtime(), self._link_token(), client_of(self))
        except PushUnavailable:
            self.status = "unavailable"
            return
        except ServerBusy:
            self.status, self.message = "landing", BUSY_MESSAGE
            return
        self.kind = found.kind
        self.needs_passphrase, self.needs_code = found.needs_passphrase, found.needs_code
        self.end_to_end = found.end_to_end
        # Without a retrieval step the page asks for the secret itself once it has mounted
        # (a result sent during hydration would find no field to fill).
        waits = found.retrieval_step or found.needs_passphrase or found.needs_code
        self.status = "landing" if waits else "autoreveal"

    @rx.event
    async def reveal_without_click(self):
        if self.status != "autoreveal":
            return
        yield await self._reveal("")
        yield self.focus_after_reveal()

    @rx.event
    async def reveal(self, form_data: dict):
        if self.status != "landing":
            return
        self.working = True
        yield
        try:
            passphrase, code = form_data.get("passphrase"), form_data.get(CODE_FIELD)
            yield await self._reveal(passphrase if isinstance(passphrase, str) else "",
                                     code if isinstance(code, str) else "")
        finally:
            self.working = False
        yield self.focus_after_reveal()

    @rx.event
    async def email_code(self):
        """Mail a code to the recipient the sender named (the core limits how often)."""
        if self.status != "landing" or not self.needs_code:
            return
        self.sending_code, self.message_sentences = True, []
        yield
        try:
            language = (await self.get_state(LanguageState)).locale  # the mail reads as this page does
            self.code_sent_to = await in_thread(send_code, runtime(), self._link_token(), client_of(self), None, language)
            self.message = ""
        except PushUnavailable:
            self.status = "unavailable"
        except PushError as refusal:  # sent a moment ago
            self.message, self.message_sentences = str(refusal), sentences_of(refusal)
        except ServerBusy:
            self.message = BUSY_MESSAGE
        finally:
            self.sending_code = False
        yield rx.set_focus(CODE_FIELD)

    async def _reveal(self, passphrase: str, code: str = ""):
        self.message_sentences = []
        try:
            revealed = await in_thread(reveal_push, runtime(), self._link_token(), client_of(self), passphrase or None,
                                       code=code or None)
        except PushUnavailable:
            self.status = "unavailable"
            return None
        except PassphraseRequired as refusal:
            self.status, self.needs_passphrase, self.message = "landing", True, str(refusal)
            return None
        except PushError as refusal:  # wrong passphrase, lock-out
            self.status, self.message, self.message_sentences = "landing", str(refusal), sentences_of(refusal)
            return None
        except ServerBusy:
            self.status, self.message = "landing", BUSY_MESSAGE
            return None
        push = revealed.push
        self.status, self.message = "revealed", ""
        self._revealed_link = plain_digest(self._link_token())
        self.views_left = push.views_left
        self.expires_at = push.expires_at.isoformat() if push.expires_at else ""
        seen = revealed.opened_before
        self.opened_before = seen.describe(push.last_viewed_at or push.updated_at) if seen else ""
        self.opened_earlier = bool(seen and seen.count)
        self.opened_count = seen.count if seen else 0
        self.opened_last = seen.last_at.isoformat() if seen and seen.last_at else ""
        # The core gives a delete receipt exactly when this viewer may delete it.
        self.deletable = revealed.delete_receipt is not None
        self.has_text = bool(revealed.payload)
        self.blurred = get_settings().policy(push.kind).blur
        # The secret leaves as the event's result, straight into the read-only field; so does
        # the delete receipt (it would let a reader of the state store delete the push).
        # End-to-end: the envelope goes to the part of the page that decrypts it (with the key
        # from the link's fragment, which never reached us) into the same field.
        return [rx.set_value(OPENER_ID if push.end_to_end else SECRET_BOX, revealed.payload),
                rx.set_value(DELETE_RECEIPT, revealed.delete_receipt or ""),
                *self._kind_events(revealed)]

    def focus_after_reveal(self):
        """The Reveal button is gone: the focus goes to what it revealed, not the page's body.
        (Its own update, after the one that shows the revealed card: a hidden field takes no focus.)
        A blurred secret takes the focus without showing itself (components/blur.py)."""
        if self.status != "revealed" or self.kind == "url":
            return None
        return rx.set_focus({"qr": "show-qr-text", "file": "secret-heading"}.get(self.kind, SECRET_BOX))

    def _kind_events(self, revealed: Revealed) -> list:
        """What each kind shows beyond the text: also event results, never state."""
        if revealed.push.kind == "url":
            # Checked again here (the core checked it on the way in): only http(s) leaves.
            if is_safe_url(revealed.payload):
                self.views_caption = N_("Taking you there…")
                return [rx.redirect(revealed.payload, replace=True)]
            self.message = N_("This link holds something that is not a web address; it is shown above instead.")
            return []
        if revealed.push.kind == "qr":
            try:
                return [rx.set_value(SECRET_QR, qr_data_uri(revealed.payload, "The secret as a QR code"))]
            except QrTooLong as refusal:
                self.text_shown, self.message = True, str(refusal)
                return []
        if revealed.push.kind == "file" and revealed.downloads is not None:
            self.download_hint, self.download_hint_sentences, last, listing = files_shown(revealed, SECRET_FILES, get_settings().file_grace_minutes)
            if last:
                self.views_left = -1  # the hint says it
            return [listing]
        return []

    @rx.event
    def lift_blur(self):
        self.blurred = False

    @rx.event
    def toggle_qr_text(self):
        self.text_shown = not self.text_shown

    @rx.event
    async def delete_now(self, receipt: str = ""):
        """`receipt`: the reveal's delete receipt, which the page holds (never state) and the
        core asks for instead of the passphrase of a protected push."""
        if self.status != "revealed" or not self._revealed_here():
            # A crafted event, or a reveal in another tab: nothing changes.
            self.message = REVEAL_FIRST_MESSAGE
            return
        try:
            await in_thread(expire_by_viewer, runtime(), self._link_token(), client_of(self),
                            receipt=receipt if isinstance(receipt, str) and receipt else None)
        except PushUnavailable:
            pass  # already gone: the outcome the recipient asked for
        except PushError as refusal:  # not deletable, no valid receipt for a protected push
            self.message = str(refusal)
            return
        except ServerBusy:
            self.message = BUSY_MESSAGE
            return
        self.status, self.deletable = "deleted", False
        return [rx.set_value(field, "") for field in (SECRET_BOX, SECRET_QR, SECRET_FILES, DELETE_RECEIPT, OPENER_ID,
                                                      E2E_FILES_ID)]


# --- the page -----------------------------------------------------------------------------------


def _landing() -> rx.Component:
    return card(
        rx.heading(t("Someone shared a secret with you"), as_="h1", size="6"),
        rx.text(
            t("Press Reveal to see it. Make sure nobody is looking over your shoulder: "
              "it may only be viewable a limited number of times."),
            color_scheme="gray",
        ),
        e2e_note(RevealState.end_to_end),
        e2e_key_gate(RevealState.end_to_end, rx.form(
            rx.vstack(
                passphrase_step(RevealState.needs_passphrase),
                code_step(RevealState.needs_code, RevealState.code_sent_to, RevealState.sending_code, RevealState.email_code),
                rx.text(refusal_text(RevealState.message, RevealState.message_sentences), id="reveal-message", role="alert", color_scheme="red", size="2"),
                submit_button(
                    rx.icon("eye", size=16, aria_hidden="true"),
                    t("Reveal secret"),
                    size="3",
                    loading=RevealState.working,
                    id="reveal",
                ),
                spacing="3",
                width="100%",
                align="start",
            ),
            on_submit=RevealState.reveal,
            reset_on_submit=False,
            width="100%",
        )),
        min_height="12rem",
    )


def _text_secret() -> rx.Component:
    return rx.text_area(
        id=SECRET_BOX,
        read_only=True,
        class_name=rx.cond(RevealState.blurred, BLURRED, ""),
        on_click=RevealState.lift_blur,
        aria_describedby=rx.cond(RevealState.blurred, BLUR_HINT, ""),
        aria_label=t("The secret"),
        **quiet_until_left(SECRET_BOX),
        width="100%",
        size="3",
        spell_check=False,
        # Grows with the secret (a key file, a long note) up to most of the screen.
        style={**READABLE, "& textarea": {**READABLE["& textarea, & input"], "fieldSizing": "content", "minHeight": "4.5em",
                                          "maxHeight": "60vh"}, "fontFamily": "var(--code-font-family)"},
    )


def _text_with_copy() -> rx.Component:
    return rx.vstack(
        rx.cond(RevealState.kind == "file", rx.text(t("Message from the sender"), size="2", weight="medium")),
        _text_secret(),
        rx.hstack(
            copy_button(SECRET_BOX, t("Copy"), t("Copy to the clipboard"), t("Copied to the clipboard")),
            rx.cond(RevealState.blurred, blur_hint()),
            rx.spacer(),
            width="100%",
            align="center",
            wrap="wrap",
        ),
        width="100%",
        spacing="2",
    )


def _qr_secret() -> rx.Component:
    return rx.vstack(
        rx.box(
            value_image(id=SECRET_QR, alt=t("The secret as a QR code"), width="100%", height="100%"),
            background="white",
            padding="0.75rem",
            border_radius="var(--radius-3)",
            width="min(100%, 20rem)",
            aspect_ratio="1",
        ),
        rx.button(
            rx.cond(RevealState.text_shown, rx.icon("eye-off", size=16), rx.icon("eye", size=16)),
            rx.cond(RevealState.text_shown, t("Hide text"), t("Show text")),
            type="button",
            variant="soft",
            on_click=RevealState.toggle_qr_text,
            aria_pressed=RevealState.text_shown,
            aria_controls=SECRET_BOX,
            id="show-qr-text",
        ),
        align="center",
        width="100%",
        spacing="3",
    )


def _files_secret() -> rx.Component:
    return rx.vstack(
        file_links(SECRET_FILES, t("Files to download")),
        e2e_files(t("Files to save")),
        rx.text(refusal_text(RevealState.download_hint, RevealState.download_hint_sentences), id="downloads-note", size="2", weight="medium"),
        width="100%",
        spacing="3",
    )


def _revealed() -> rx.Component:
    """Mounted from the start (only hidden), so the fields exist when the reveal fills them."""
    kind = RevealState.kind
    return rx.box(
        card(
            rx.heading(rx.match(kind, ("file", t("Files for you")), ("qr", t("Your QR code")), t("Your secret")), as_="h1", size="6",
                       id="secret-heading", tab_index=-1),
            e2e_opener(SECRET_BOX),
            shown_if(kind == "qr", _qr_secret()),
            shown_if(kind == "file", _files_secret()),
            # The text: a text push's secret, a QR code's text on request, a file push's message.
            shown_if(
                (kind == "text") | (kind == "url") | ((kind == "qr") & RevealState.text_shown) | ((kind == "file") & RevealState.has_text),
                _text_with_copy(),
            ),
            rx.text(views_left_words(RevealState.views_left, RevealState.expires_at, RevealState.views_caption), id="views-left",
                    size="2", color_scheme="gray"),
            opened_before_notice(RevealState.opened_before, RevealState.opened_earlier, RevealState.opened_count,
                                 RevealState.opened_last),
            rx.el.input(type="hidden", id=DELETE_RECEIPT),
            rx.text(revealed_message(RevealState.message), role="alert", color_scheme="red", size="2"),
            rx.cond(
                RevealState.deletable,
                confirm_button(
                    label=t("Delete it now"),
                    icon="trash-2",
                    button_id="delete-now",
                    title=t("Delete this secret?"),
                    description=t("Nobody will be able to view it again. Copy it first if you still need it."),
                    confirm_label=t("Delete"),
                    cancel_label=t("Keep it"),
                    confirm_id="confirm-delete",
                    # The receipt is read from the page at the click: an event argument, never state.
                    on_confirm=RevealState.delete_now(rx.Var(f"(document.getElementById('{DELETE_RECEIPT}')?.value ?? '')").to(str)),
                ),
            ),
        ),
        display=rx.cond(RevealState.status == "revealed", "block", "none"),
        width="100%",
        id="revealed",
    )


def reveal_page() -> rx.Component:
    return page_shell(
        blur_style(),
        # Mounted once per page load or navigation: a websocket reconnect doesn't fire it.
        rx.fragment(on_mount=RevealState.open_page),
        rx.match(
            RevealState.status,
            ("loading", loading_card()),
            ("autoreveal", e2e_key_gate(RevealState.end_to_end, rx.box(loading_card(), on_mount=RevealState.reveal_without_click,
                                                                      width="100%"), missing_key_card())),
            ("landing", _landing()),
            ("unavailable", unavailable_card()),
            ("deleted", deleted_card()),
            rx.fragment(),
        ),
        _revealed(),
        languages=True,
    )
