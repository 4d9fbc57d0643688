"""Text, URL and QR pushes sent from the create form: the secret travels as an upload.

The page's websocket takes frames of at most 1,000,000 bytes (engine.io's
`max_http_buffer_size`, Reflex's default), and Reflex's bound event arguments at most
1 MiB: a secret near the advertised 1 MiB limit (`PWPUSH_MAX_PAYLOAD_BYTES`) fits in
neither, and the socket closed without a word.  So the form posts the secret as the body
of a streaming upload, the door file pushes use (`rx.UploadChunkIterator`: read from the
request as it arrives, in memory, never spooled to disk), and its other fields as the
handler's bound argument.  The handler reads at most the limit plus one byte, so a bigger
text is refused with the core's message without being held whole, and hands the text to
`create_push` like any other request.  Nothing enters state.
"""

from __future__ import annotations

import dataclasses

import reflex as rx

from pwpush_app.core import link_mail
from pwpush_app.core.create import create_push
from pwpush_app.core.errors import InvalidPush, PushError, ServerBusy
from pwpush_app.core.i18n import N_, text_of
from pwpush_app.core.recipients import CreatedGroup, asks_for_recipients, create_group
from pwpush_app.ui.common import BUSY_MESSAGE, in_thread, runtime
from pwpush_app.ui.components.e2e import ENVELOPE_ID
from pwpush_app.ui.components.share import ShareState, show_group, show_share
from pwpush_app.ui.create_e2e import E2EState
from pwpush_app.ui.create_state import CreateState, mailed_to
from pwpush_app.ui.i18n import LanguageState

UPLOAD_ID = "payload-upload"

# The form's fields but the secret, read in the browser at the click (bound argument).
# End-to-end (ui/create_e2e.py): the switch is on when the hidden envelope field says so;
# then the passphrase stays in the browser and the file is the envelope, never the text.
_SEALING = f"(document.getElementById('{ENVELOPE_ID}')?.dataset.on === 'yes')"
OTHER_FIELDS = rx.Var(
    "Object.fromEntries(Array.from(new FormData(document.getElementById('create-form')))"
    f".filter(([name, value]) => typeof value === 'string' && name !== 'payload' && !(name === 'passphrase' && {_SEALING})))",
    _var_type=dict,
)
# The secret as the upload's one file (UTF-8, as the browser encodes every string).
PAYLOAD_AS_FILE = rx.Var(
    f"[new File([{_SEALING} ? (document.getElementById('{ENVELOPE_ID}')?.value ?? '') "
    ": (document.getElementById('payload')?.value ?? '')], 'payload.txt', {type: 'text/plain'})]"
)


class TextSendState(rx.State):
    @rx.event(background=True)
    async def send(self, chunks: rx.UploadChunkIterator, fields: dict):
        async with self:
            create = await self.get_state(CreateState)
            if create.creating or create.kind == "file":
                return  # a double click makes one push (Reflex answers the second upload 400)
            request = create.new_push(fields if isinstance(fields, dict) else {})
            if (await self.get_state(E2EState)).on and create.kind == "text":
                request = dataclasses.replace(request, end_to_end=True, passphrase="")
            client = await create.sender()
            # A mailed link goes out in the language this page is in (core/letters.py).
            code = (await self.get_state(LanguageState)).locale
            request = link_mail.in_sender_language(runtime(), client, request, code)
            create.creating, create.errors = True, {}
        created, errors = None, {"form": N_("The secret did not arrive complete. Please try again.")}
        try:
            # Read outside the state's lock: a slow phone's upload holds up nothing else.
            payload = await _read_text(chunks, runtime().settings.max_payload_bytes)
            request = dataclasses.replace(request, payload=payload)
            # Several recipients: a push for each (core/recipients.py).
            make = create_group if asks_for_recipients(request) else create_push
            created = await in_thread(make, runtime(), request, client)
            errors = {}
        except InvalidPush as refusal:
            errors = dict(refusal.errors)
        except PushError as refusal:  # an account needed, too many pushes at once
            errors = {"form": text_of(refusal)}
        except ServerBusy:
            errors = {"form": BUSY_MESSAGE}
        finally:
            # Whatever happened (the upload cut off included), the form works again.
            async with self:
                create = await self.get_state(CreateState)
                create.creating = False
                create.answer(errors)
                show = show_group if isinstance(created, CreatedGroup) else show_share
                events = show(await self.get_state(ShareState), created, self.router.url.origin,
                              mailed_to(request), code) if created else []
        yield events


async def _read_text(chunks: rx.UploadChunkIterator, limit: int) -> str:
    """The uploaded text, read up to `limit` + 1 bytes: enough for the core to refuse a
    longer one with its own message, never more in memory."""
    received = bytearray()
    async for chunk in chunks:
        received += chunk.data
        if len(received) > limit:
            return received[: limit + 1].decode("utf-8", errors="replace")
    try:
        return received.decode("utf-8")
    except UnicodeDecodeError:
        return "\x00"  # refused by the core as "not valid UTF-8 text" (a browser never sends it)


def send_event() -> rx.EventSpec:
    """The form's submit: an upload whose one file is the secret field's text."""
    spec = TextSendState.send(rx.upload_files_chunk(upload_id=UPLOAD_ID), OTHER_FIELDS)
    uploaded = {"files", "chunks"}
    return dataclasses.replace(
        spec, args=tuple((name, PAYLOAD_AS_FILE if str(name) in uploaded else value) for name, value in spec.args)
    )
