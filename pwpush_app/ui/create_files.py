"""The file part of the create page: choosing files, the upload with its progress bar.

Reflex has two kinds of upload handlers. The ordinary one reads the request with
Starlette's `request.form()`, which spools every file over 1 MiB to a temporary file on
disk, in plaintext. A *streaming* handler (a background event taking an
`rx.UploadChunkIterator`) gets the bytes as they arrive from a push parser instead, in
memory, a few network reads at a time. So `send` is a streaming handler and hands the
chunks straight to the core (`create_file_push_from_chunks`), which encrypts them
into storage and enforces the limits while they arrive. Nothing goes to Reflex's public
upload folder.

The other fields of the form (the optional text, passphrase, note...) travel in the same
upload request, as the handler's bound argument (`FORM_FIELDS`, read by the browser when
the button is pressed), and are never assigned to state.
"""

from __future__ import annotations

import dataclasses

import reflex as rx

from pwpush_app.core import link_mail
from pwpush_app.core.errors import InvalidPush, PushError, ServerBusy
from pwpush_app.core.file_uploads import create_file_push_from_chunks
from pwpush_app.core.i18n import text_of
from pwpush_app.settings import get_settings
from pwpush_app.ui.common import BUSY_MESSAGE, runtime
from pwpush_app.ui.components.chosen_files import ChosenFiles, chosen_files_words, describe_bytes_js, selected_bytes
from pwpush_app.ui.components.e2e import ENVELOPE_ID, SEALED_FILES
from pwpush_app.ui.components.fields import field_error, field_label
from pwpush_app.ui.components.share import ShareState, show_share
from pwpush_app.ui.create_e2e import E2EState
from pwpush_app.ui.create_state import CreateState, error_text, mailed_to
from pwpush_app.ui.i18n import LanguageState, t

UPLOAD_ID = "files"

# The form's text fields as an object, read in the browser at the click.
FORM_FIELDS = rx.Var(
    "Object.fromEntries(Array.from(new FormData(document.getElementById('create-form')))"
    ".filter(([, value]) => typeof value === 'string'))",
    _var_type=dict,
)
# End-to-end (ui/create_e2e.py): the message is the envelope, and the passphrase stays here.
SEALED_FIELDS = rx.Var(
    "({...Object.fromEntries(Array.from(new FormData(document.getElementById('create-form')))"
    ".filter(([name, value]) => typeof value === 'string' && name !== 'passphrase')), "
    f"payload: (document.getElementById('{ENVELOPE_ID}')?.value ?? '')}})",
    _var_type=dict,
)


class FileSendState(rx.State):
    sending: bool = False
    progress: int = 0  # percent of the request body sent

    @rx.event
    def upload_progress(self, progress: dict):
        try:
            self.progress = max(0, min(100, round(float(progress.get("progress", 0)) * 100)))
        except (TypeError, ValueError):
            pass

    @rx.event(background=True)
    async def send(self, chunks: rx.UploadChunkIterator, fields: dict):
        async with self:
            create = await self.get_state(CreateState)
            if self.sending or create.kind != "file":
                return  # (Reflex answers the upload with 400: nobody read it)
            request = create.new_push(fields if isinstance(fields, dict) else {})
            if (await self.get_state(E2EState)).on:
                request = dataclasses.replace(request, end_to_end=True, passphrase="")
            client = await create.sender()
            # A mailed link goes out in the language this page is in (core/letters.py).
            code = (await self.get_state(LanguageState)).locale
            request = link_mail.in_sender_language(runtime(), client, request, code)
            self.sending, self.progress = True, 0
            create.creating, create.errors = True, {}
        created, errors = None, {}
        try:
            created = await create_file_push_from_chunks(runtime(), request, chunks, client)
        except InvalidPush as refusal:
            errors = dict(refusal.errors)
        except PushError as refusal:  # LoginRequired
            errors = {"files": text_of(refusal)}
        except ServerBusy:
            errors = {"form": BUSY_MESSAGE}
        async with self:
            self.sending = False
            create = await self.get_state(CreateState)
            create.creating = False
            create.answer(errors)
            if created is None:
                return
            self.progress = 0
            events = show_share(await self.get_state(ShareState), created, self.router.url.origin, mailed_to(request),
                                code)
        yield [*events, rx.clear_selected_files(UPLOAD_ID)]


def _login_needed() -> rx.Component:
    return rx.callout(
        rx.text(rx.link(t("Log in to send files."), href="/login"), " ", t("Text, URL and QR pushes need no account.")),
        icon="lock",
        color_scheme="amber",
        width="100%",
        id="files-login",
    )


def _drop_zone() -> rx.Component:
    zone = _upload_zone()
    # The hidden file input Reflex puts inside the zone has no label of its own.
    file_input = zone.children[0].children[0]
    file_input.custom_attrs["aria-label"] = t("Choose files to share")
    file_input.custom_attrs["aria-describedby"] = "files-help"
    return zone


def _upload_zone() -> rx.Component:
    settings = get_settings()
    return rx.upload.root(
        rx.vstack(
            rx.icon("upload", size=28, aria_hidden="true"),
            rx.text(t("Drop files here or click to choose"), weight="medium"),
            rx.text(
                t("Up to {count} files, {size} in total. They are encrypted as they arrive.",
                  count=settings.max_files_per_push, size=describe_bytes_js(rx.Var.create(CreateState.max_file_bytes))),
                size="1",
                color_scheme="gray",
                id="files-help",
            ),
            align="center",
            spacing="1",
        ),
        id=UPLOAD_ID,
        multiple=True,
        max_files=settings.max_files_per_push,
        # Per file; the total is checked below and, for real, by the server.
        max_size=CreateState.max_file_bytes,
        border="1px dashed var(--gray-a8)",
        border_radius="var(--radius-3)",
        padding="1.5rem 1rem",
        width="100%",
        cursor="pointer",
        text_align="center",
        aria_describedby="files-help files-error",
    )


def _chosen_files() -> rx.Component:
    return ChosenFiles.create(upload_id=UPLOAD_ID, limit=CreateState.max_file_bytes, words=chosen_files_words())


def _progress() -> rx.Component:
    return rx.cond(
        FileSendState.sending,
        rx.vstack(
            rx.text(t("Uploading and encrypting… {percent}%", percent=FileSendState.progress), size="2", id="upload-status"),
            rx.progress(value=FileSendState.progress, max=100, width="100%", id="upload-progress", aria_label=t("Upload progress")),
            width="100%",
            spacing="1",
        ),
    )


def file_fields() -> rx.Component:
    return rx.cond(
        CreateState.files_need_login,
        _login_needed(),
        rx.vstack(
            field_label(t("Files"), UPLOAD_ID),
            _drop_zone(),
            _chosen_files(),
            field_error(error_text("files"), "files"),
            _progress(),
            field_label(t("Message (optional)"), "payload"),
            rx.text_area(
                id="payload",
                name="payload",
                placeholder=t("Anything the recipient should know about the files"),
                rows="2",
                width="100%",
                size="3",
                custom_attrs={"autoComplete": "off"},
                aria_describedby="payload-error",
            ),
            field_error(error_text("payload"), "payload"),
            width="100%",
            spacing="2",
        ),
    )


def send_files_button() -> rx.Component:
    too_big = selected_bytes(UPLOAD_ID) > CreateState.max_file_bytes
    return rx.button(
        rx.icon("send", size=16, aria_hidden="true"),
        t("Upload and create secret link"),
        type="button",
        size="3",
        loading=CreateState.creating,
        disabled=CreateState.files_need_login | too_big,
        on_click=FileSendState.send(
            rx.upload_files_chunk(upload_id=UPLOAD_ID, on_upload_progress=FileSendState.upload_progress),
            FORM_FIELDS,
        ),
        id="create",
        width="100%",
    )


def send_sealed_files_event() -> rx.EventSpec:
    """End-to-end: the same upload, of the files the browser encrypted (ui/components/e2e.py)."""
    spec = FileSendState.send(
        rx.upload_files_chunk(upload_id=UPLOAD_ID, on_upload_progress=FileSendState.upload_progress), SEALED_FIELDS)
    uploaded = {"files", "chunks"}
    return dataclasses.replace(
        spec, args=tuple((name, SEALED_FILES if str(name) in uploaded else value) for name, value in spec.args)
    )
