"""Answer a request (`/ask/[token]`): the page of the person asked for a secret.

Like the reveal page, the server sends the same static bundle for every token; the page's
load event asks the core whether the request is open (`request_landing`) and keeps only
that fact in state.  The requester's message reaches the read-only box as an event result
once the box is on screen; the answer travels only as the submit event's argument, and
the page then says "sent" and never shows it again.  A used, expired or unknown link gets
the card of an unknown secret link.

Files (where file pushes are on): chosen files go as a streaming upload, like the create
page's (ui/create_files.py: never spooled to disk, never in Reflex's public upload folder),
to `send_files`, which hands the chunks to the core (`answer_with_chunks`: the file limits,
sealed as they arrive, nothing left behind on any failure); the answer's text and
passphrase ride along as the handler's bound argument, never in state.  Without files the
form sends text as before.
"""

from __future__ import annotations

import reflex as rx

from pwpush_app.core.errors import InvalidPush, PushUnavailable, ServerBusy
from pwpush_app.core.request_files import answer_with_chunks, files_answer_offered
from pwpush_app.core.requests import answer_request, request_landing
from pwpush_app.core.throttle import RateLimited
from pwpush_app.settings import get_settings
from pwpush_app.ui.common import BUSY_MESSAGE, busy_or_said, client_of, form_text, in_thread, runtime
from pwpush_app.ui.components.chosen_files import (
    ChosenFiles,
    chosen_count,
    chosen_files_words,
    describe_bytes_js,
    selected_bytes,
)
from pwpush_app.ui.components.fields import READABLE, field_error, field_label, submit_button
from pwpush_app.ui.components.layout import page_shell
from pwpush_app.ui.components.reveal_cards import card, unavailable_card
from pwpush_app.ui.i18n import N_, local_time, t, t_var

MESSAGE_BOX = "ask-message"
ANSWER_FILES = "answer-files"
FILES_CHOSEN = "files_chosen"  # a hidden field: how many files are chosen (the text path refuses then)
# The form's text fields (the answer's text, the passphrase), read in the browser at the click.
ANSWER_FIELDS = rx.Var(
    "Object.fromEntries(Array.from(new FormData(document.getElementById('ask-form')))"
    ".filter(([, value]) => typeof value === 'string'))",
    _var_type=dict,
)


class AskState(rx.State):
    # loading | open | sent | unavailable
    status: str = "loading"
    expires: str = ""  # ISO moment: the browser writes it in the viewer's zone and language
    errors: dict[str, str] = {}
    working: bool = False
    progress: int = 0  # percent of a file answer's upload sent
    # Read when the link opens, never compiled into the page (frontend.RUN_TIME_SETTINGS).
    max_file_bytes: int = 0

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
        self.status, self.expires = "open", landing.expires_at.isoformat() if landing.expires_at else ""
        self.max_file_bytes = get_settings().max_file_bytes_per_push

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
        if form_text(form_data, FILES_CHOSEN) not in ("", "0"):
            # The form was submitted (Enter in the passphrase field) while files are chosen: a
            # text-only answer would close the request without them.
            self.errors = {"files": N_("Press \"Send it\" to send the files with your answer.")}
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
            self.errors, self.working = {"payload": busy_or_said(refusal)}, False
            return
        self.status, self.errors, self.working = "sent", {}, False

    @rx.event
    def upload_progress(self, progress: dict):
        try:
            self.progress = max(0, min(100, round(float(progress.get("progress", 0)) * 100)))
        except (TypeError, ValueError, AttributeError):
            pass

    @rx.event(background=True)
    async def send_files(self, chunks: rx.UploadChunkIterator, fields: dict):
        """The answer with files: the upload's chunks into the core, the text fields beside them."""
        async with self:
            if self.status != "open" or self.working:
                return  # (Reflex answers the upload with 400: nobody read it)
            self.working, self.errors, self.progress = True, {}, 0
            token, client = self._token(), client_of(self)
        fields = fields if isinstance(fields, dict) else {}
        outcome, errors = "open", {"files": N_("The files did not arrive complete. Please try again.")}
        try:
            await answer_with_chunks(runtime(), token, chunks, client, form_text(fields, "payload"),
                                     form_text(fields, "passphrase"))
            outcome, errors = "sent", {}
        except PushUnavailable:
            outcome, errors = "unavailable", {}
        except InvalidPush as refusal:
            errors = dict(refusal.errors)
        except (RateLimited, ServerBusy) as refusal:
            errors = {"files": busy_or_said(refusal)}
        finally:
            # Whatever happened (the upload cut off included), the form works again.
            async with self:
                self.status, self.errors, self.working, self.progress = outcome, errors, False, 0
        if outcome == "sent":
            yield [rx.clear_selected_files(ANSWER_FILES), rx.set_value("payload", "")]


def _upload_zone(limit: rx.Var[int], count: int) -> rx.Component:
    zone = rx.upload.root(
        rx.vstack(
            rx.icon("paperclip", size=24, aria_hidden="true"),
            rx.text(t("Drop files here or click to choose"), weight="medium"),
            rx.text(t("Up to 1 file, {size} in total. They are encrypted as they arrive.", size=describe_bytes_js(limit))
                    if count == 1 else
                    t("Up to {count} files, {size} in total. They are encrypted as they arrive.", count=count,
                      size=describe_bytes_js(limit)),
                    size="1", color_scheme="gray", id="answer-files-help"),
            align="center", spacing="1",
        ),
        id=ANSWER_FILES, multiple=True, max_files=count, max_size=limit,
        border="1px dashed var(--gray-a8)", border_radius="var(--radius-3)", padding="1rem", width="100%",
        cursor="pointer", text_align="center",
    )
    # The hidden file input Reflex puts inside the zone has no label of its own.
    file_input = zone.children[0].children[0]
    file_input.custom_attrs["aria-label"] = t("Choose files to send")
    file_input.custom_attrs["aria-describedby"] = "answer-files-help files-error"
    return zone


def _file_fields() -> list[rx.Component]:
    settings = get_settings()
    if not files_answer_offered(settings):
        return []
    limit = AskState.max_file_bytes
    return [
        rx.el.input(type="hidden", name=FILES_CHOSEN, value=chosen_count(ANSWER_FILES).to_string()),
        field_label(t("Files (optional)"), ANSWER_FILES),
        _upload_zone(limit, settings.max_files_per_push),
        ChosenFiles.create(upload_id=ANSWER_FILES, limit=limit, words=chosen_files_words()),
        field_error(t_var(AskState.errors.get("files", "")), "files"),
        rx.cond(AskState.working & (AskState.progress > 0), rx.vstack(
            rx.text(t("Uploading and encrypting… {percent}%", percent=AskState.progress), size="2", id="upload-status"),
            rx.progress(value=AskState.progress, max=100, width="100%", aria_label=t("Upload progress")),
            width="100%", spacing="1",
        )),
    ]


def _send_button() -> rx.Component:
    text_button = submit_button(rx.cond(AskState.working, rx.spinner(size="2"), rx.icon("send", size=16)),
                                t("Send it"), id="send-answer", size="3", disabled=AskState.working)
    settings = get_settings()
    if not files_answer_offered(settings):
        return text_button
    files_button = rx.button(
        rx.cond(AskState.working, rx.spinner(size="2"), rx.icon("send", size=16)), t("Send it"), type="button",
        id="send-answer", size="3",
        disabled=AskState.working | (selected_bytes(ANSWER_FILES) > AskState.max_file_bytes),
        on_click=AskState.send_files(
            rx.upload_files_chunk(upload_id=ANSWER_FILES, on_upload_progress=AskState.upload_progress),
            ANSWER_FIELDS,
        ),
    )
    return rx.cond(chosen_count(ANSWER_FILES) > 0, files_button, text_button)


def _form() -> rx.Component:
    requires_passphrase = get_settings().require_passphrase
    return card(
        rx.heading(t("Someone asks you for a secret"), as_="h1", size="5"),
        rx.text_area(id=MESSAGE_BOX, read_only=True, rows="3", size="3", width="100%", style=READABLE,
                     aria_label=t("What they ask for"), on_mount=AskState.show_message),
        rx.form(
            rx.vstack(
                field_label(t("Your answer"), "payload"),
                rx.text_area(name="payload", id="payload", rows="4", size="3", width="100%", auto_focus=True,
                             aria_describedby="payload-help payload-error", auto_complete=False, spell_check=False),
                rx.text(t("Type it, attach files below, or both. It is encrypted for the person who asked: only they "
                          "can open it, and you can't see it again once sent.") if files_answer_offered(get_settings())
                        else t("It is encrypted for the person who asked: only they can open it, and you can't see it "
                               "again once sent."), id="payload-help", size="1", color_scheme="gray"),
                field_error(t_var(AskState.errors.get("payload", "")), "payload"),
                *_file_fields(),
                *([field_label(t("Passphrase"), "passphrase"),
                   rx.input(name="passphrase", id="passphrase", type="password", size="3", width="100%",
                            aria_describedby="passphrase-error"),
                   rx.text(t("This site asks for a passphrase on every secret: tell it to them another way."), size="1",
                           color_scheme="gray"),
                   field_error(t_var(AskState.errors.get("passphrase", "")), "passphrase")] if requires_passphrase else []),
                _send_button(),
                rx.text(t("The link works until {time}, for one answer.", time=local_time(AskState.expires)), size="1",
                        color_scheme="gray"),
                spacing="2", width="100%",
            ),
            on_submit=AskState.send, reset_on_submit=True, id="ask-form",
        ),
        id="ask-card",
    )


def _sent() -> rx.Component:
    return card(
        rx.hstack(rx.icon("circle-check", size=28, color="var(--green-9)", aria_hidden="true"),
                  rx.heading(t("Thank you: sent"), as_="h1", size="5"), align="center"),
        rx.text(t("Only the person who asked can open it. This link takes no other answer, and nothing of what you "
                  "sent stays on this page."), color_scheme="gray"),
        rx.link(t("Share a secret of your own"), href="/"),
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
        languages=True,
    )
