"""A request answered with files (core/requests.py): the person asked uploads them.

- The same draft as a file push (core/file_uploads.py's `FilePushDraft`): the same count,
  per-push size and empty-file rules, enforced while the bytes arrive, sealed as they
  come into the site's file storage (local or S3); so the same memory bound too.
- The request link is the permission: the answerer needs no account even where file
  pushes need one (PWP__FILES__REQUIRE_LOGIN), but file pushes must be on.
- The link is checked before a byte is stored, and again, for good, by the conditional
  UPDATE that closes the request in the transaction storing the answer: of two answers at
  once one lands.  A refused, broken, cancelled or losing upload deletes every blob it
  wrote and leaves the request as it was (open, if nobody else answered).
- The answer is a file push of the requester's (with the answerer's text, if any, as its
  message), under the request's views and lifetime, audited like any answer.

    with FileAnswerDraft(runtime, token, client) as draft:
        draft.start_file(name, content_type); draft.write(chunk); draft.end_file()
        draft.commit_answer(payload, passphrase)
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import AsyncIterable

from pwpush_app.core.audit import Client
from pwpush_app.core.create import NewPush
from pwpush_app.core.errors import InvalidPush
from pwpush_app.core.file_uploads import FilePushDraft, upload_chunks
from pwpush_app.core.i18n import N_
from pwpush_app.core.requests import open_request, store_answer
from pwpush_app.core.runtime import Runtime
from pwpush_app.settings import Settings

FILES_OFF = N_("This site doesn't take files: answer with text.")


def files_answer_offered(settings: Settings) -> bool:
    """The answer page offers files: file pushes are on (no account needed: the link is the permission)."""
    return settings.policy("file").enabled


class FileAnswerDraft(FilePushDraft):
    """A file answer being uploaded to the request behind `token` (PushUnavailable at once
    if it takes no answer)."""

    def __init__(self, runtime: Runtime, token: str, client: Client, now: datetime | None = None):
        self._token = token
        super().__init__(runtime, client, None, now)

    def _check_sender(self) -> None:
        if not files_answer_offered(self.runtime.settings):
            raise InvalidPush({"files": FILES_OFF})
        self._request = open_request(self.runtime, self._token, self.now)

    def _store(self, request: NewPush) -> None:
        store_answer(self.runtime, self._request, request.payload, request.passphrase, self.client, self._key,
                     self.now, self._files)

    def commit_answer(self, payload: str = "", passphrase: str = "") -> None:
        """Store the answer with its files and close the request (or store nothing)."""
        self.commit(NewPush(payload=payload, passphrase=passphrase, kind="file"))


async def answer_with_chunks(runtime: Runtime, token: str, chunks: AsyncIterable, client: Client, payload: str = "",
                             passphrase: str = "", now: datetime | None = None) -> None:
    """For Reflex's ``rx.UploadChunkIterator`` (the answer page): files in, answer stored."""
    await upload_chunks(functools.partial(FileAnswerDraft, runtime, token, client, now), chunks,
                        lambda draft: draft.commit_answer(payload, passphrase))
