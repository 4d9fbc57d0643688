"""Reflex's upload endpoint (`POST /_upload`) takes only this app's streaming upload handlers.

The endpoint dispatches to whatever event handler the `reflex-event-handler` header
names.  Naming one that takes no upload made Reflex fail inside its route (a 500 and a
logged traceback); naming a buffered upload handler would spool files to disk in
plaintext (we have none, and keep it so).  This checks the name before Reflex reads a
byte: a registered background handler taking an `rx.UploadChunkIterator`, or a 400.
"""

from __future__ import annotations

import functools
import json

UPLOAD_PATH = "/_upload"
HANDLER_HEADER = b"reflex-event-handler"


@functools.lru_cache(maxsize=256)
def is_streaming_upload_handler(name: str) -> bool:
    from reflex_base.event import resolve_upload_chunk_handler_param
    from reflex_base.registry import RegistrationContext
    from reflex_base.utils.exceptions import UploadTypeError, UploadValueError

    registered = RegistrationContext.get().event_handlers.get(name)
    if registered is None:
        return False
    try:
        resolve_upload_chunk_handler_param(registered.handler)
    except (UploadTypeError, UploadValueError):
        return False
    return True


class UploadHandlerGuard:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope.get("path") == UPLOAD_PATH and scope.get("method") == "POST":
            name = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == HANDLER_HEADER), None)
            # No header at all: Reflex answers its own 400.
            if name is not None and not is_streaming_upload_handler(name[:512]):
                return await _refuse(send)
        await self.app(scope, receive, send)


async def _refuse(send) -> None:
    body = json.dumps({"detail": "This upload handler does not take files."}).encode()
    await send({
        "type": "http.response.start",
        "status": 400,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
    })
    await send({"type": "http.response.body", "body": body})
