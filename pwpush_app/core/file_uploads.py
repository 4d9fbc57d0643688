"""File pushes coming in: 1..N files plus optional text, encrypted while they stream.

The rules (pages and API both call these):
- Only signed-in senders may push files when ``files_require_login`` is on (the default).
- A push holds 1..``max_files_per_push`` files, none empty, together at most
  ``max_file_bytes_per_push`` bytes.  The limit is enforced while the bytes arrive: the
  first byte over it stops the upload, deletes what was written and leaves no row.
- File names are sanitised (``file_names``) and sealed with the push's data key;
  contents are sealed in 64 KiB records (``crypto`` streams) straight into the blob store,
  so no file is ever whole in memory or in plaintext on disk.

Calling it:
- a list of files whose chunks are iterables: ``create_file_push(runtime, request, files, client)``;
- async chunks (e.g. a streaming multipart parser feeding an async generator):
  ``await create_file_push_async(...)``; Reflex's ``rx.UploadChunkIterator``:
  ``await create_file_push_from_chunks(...)``;
- a push-style parser (python-multipart callbacks): ``FilePushDraft`` directly.
Do not let Starlette's ``request.form()`` or ``UploadFile`` read the body first: it spools
files over 1 MiB to a temporary file on disk, in plaintext.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import AsyncIterable, Callable, Iterable, Sequence

from pwpush_app.core import crypto, e2e, e2e_files
from pwpush_app.core.audit import Client
from pwpush_app.core.blobs import BlobWriter
from pwpush_app.core.clock import utcnow
from pwpush_app.core.create import (
    PASSPHRASE_REQUIRED,
    CreatedPush,
    NewPush,
    new_push_key,
    require_sender_allowed,
    store_new_push,
    validate_new_push,
)
from pwpush_app.core.errors import InvalidPush, LoginRequired
from pwpush_app.core.file_names import describe_bytes, sanitize_content_type, sanitize_file_name
from pwpush_app.core.i18n import N_, said, text_of
from pwpush_app.core.models import PushFile
from pwpush_app.core.runtime import Runtime
from pwpush_app.core.sealed_fields import file_content_field, file_name_field
from pwpush_app.settings import Settings

# Async uploads hand bytes to a worker thread in batches of this size (bounded memory).
ASYNC_BATCH_BYTES = 1024 * 1024


@dataclass(frozen=True)
class IncomingFile:
    """An uploaded file as it arrives: `chunks` is an iterable or async iterable of bytes."""

    name: str
    content_type: str
    chunks: Iterable[bytes] | AsyncIterable[bytes]


# --- who may send -------------------------------------------------------------------------------

def files_offered(settings: Settings) -> bool:
    """The create page offers file pushes: they are on, and whoever must log in to send
    them can (not where PWP__DISABLE_LOGINS closes logins, as in Password Pusher)."""
    return settings.policy("file").enabled and not (settings.files_require_login and settings.disable_logins)


def files_need_login(settings: Settings, client: Client) -> bool:
    """This client must log in before it may send files (the pages say so up front)."""
    return settings.files_require_login and not client.user_id


def check_may_send_files(runtime: Runtime, client: Client, file_count: int | None = None) -> None:
    """Refuse early (before reading any upload) what no upload could fix."""
    settings = runtime.settings
    if not settings.policy("file").enabled:
        raise InvalidPush({"kind": "file pushes are turned off on this server."})
    require_sender_allowed(runtime, client)
    if files_need_login(settings, client):
        raise LoginRequired()
    if file_count is not None:
        _check_count(runtime, file_count)


def _check_count(runtime: Runtime, count: int) -> None:
    if count < 1:
        raise InvalidPush({"files": N_("Attach at least one file.")})
    if count > (limit := runtime.settings.max_files_per_push):
        raise InvalidPush({"files": said(N_("Too many files: at most {count} per push."), count=limit)})


# --- creating: the draft -----------------------------------------------------------------------

@dataclass
class _OpenFile:
    position: int
    name: str
    content_type: str
    key: str
    writer: BlobWriter
    sealer: crypto.StreamSealer
    size: int = 0
    head: bytes = b""  # the first bytes, for an end-to-end push's check (core/e2e_files.py)


def _one_step_at_a_time(method):
    @functools.wraps(method)
    def locked(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)

    return locked


class FilePushDraft:
    """A file push being uploaded: push-style, for parsers that call back per chunk.

        with FilePushDraft(runtime, client, request) as draft:
            draft.start_file(name, content_type)
            draft.write(chunk)  # as often as chunks come
            draft.end_file()
            created = draft.commit()

    Any refusal (`InvalidPush`) or error deletes everything written; leaving the `with`
    block without `commit()` does too.  If the form's text fields come after its files,
    create the draft without `request` and pass it to `commit(request)`.
    """

    def __init__(self, runtime: Runtime, client: Client, request: NewPush | None = None, now: datetime | None = None):
        self.runtime = runtime
        self.client = client
        self.request = request
        self.now = now or utcnow()
        self._check_sender()
        runtime.throttle.hit("create", client.ip)
        if request is not None:
            validate_new_push(runtime, _as_file_push(request), client)
        self._key = new_push_key(runtime)
        self._files: list[PushFile] = []
        self._heads: list[bytes] = []
        self._current: _OpenFile | None = None
        self._total = 0
        self._state = "open"  # open | committed | aborted
        # An async feeder writes from a worker thread while the event loop may decide to
        # abort: the draft's steps run one at a time.
        self._lock = threading.RLock()

    @property
    def push_id(self) -> str:
        return self._key.push_id

    @property
    def total_bytes(self) -> int:
        return self._total

    @property
    def is_open(self) -> bool:
        """Neither committed nor aborted."""
        return self._state == "open"

    def __enter__(self) -> "FilePushDraft":
        return self

    def __exit__(self, *_exc) -> None:
        if self._state != "committed":
            self.abort()

    @_one_step_at_a_time
    def start_file(self, name: str, content_type: str | None = None) -> None:
        self._check_open()
        if self._current is not None:
            raise RuntimeError("end_file() the current file first")
        if len(self._files) >= self.runtime.settings.max_files_per_push:
            self._refuse("files", said(N_("Too many files: at most {count} per push."), count=self.runtime.settings.max_files_per_push))
        position = len(self._files)
        key = f"{self.push_id}/{position}"
        with self._aborting_on_error():
            self._current = _OpenFile(
                position=position,
                name=sanitize_file_name(name),
                content_type=sanitize_content_type(content_type),
                key=key,
                writer=self.runtime.blobs.open_writer(key),
                sealer=self._key.data_key.stream_sealer(self.push_id, file_content_field(position)),
            )

    @_one_step_at_a_time
    def write(self, data: bytes) -> None:
        self._check_open()
        current = self._current
        if current is None:
            raise RuntimeError("start_file() first")
        if not data:
            return
        self._total += len(data)
        current.size += len(data)
        if len(current.head) < e2e_files.HEAD_BYTES:
            current.head += data[: e2e_files.HEAD_BYTES - len(current.head)]
        limit = self.runtime.settings.max_file_bytes_per_push
        if self._total > limit:
            self._refuse("files", said(N_("The files are too large: at most {size} per push in total."), size=describe_bytes(limit)))
        with self._aborting_on_error():
            sealed = current.sealer.update(data)
            if sealed:
                current.writer.write(sealed)

    @_one_step_at_a_time
    def end_file(self) -> None:
        self._check_open()
        current = self._current
        if current is None:
            raise RuntimeError("start_file() first")
        if current.size == 0:
            # An empty file carries no secret; it is almost always a mistake (an empty
            # file input, a failed read), so say so instead of sharing nothing.
            self._refuse("files", said(N_("{name} is empty: choose a file with something in it."), name=current.name))
        with self._aborting_on_error():
            current.writer.write(current.sealer.finish())
            current.writer.commit()
            self._files.append(
                PushFile(
                    push_id=self.push_id,
                    position=current.position,
                    name_sealed=self._key.data_key.seal_text(self.push_id, file_name_field(current.position), current.name),
                    content_type=current.content_type,
                    size=current.size,
                    blob_key=current.key,
                    created_at=self.now,
                )
            )
            self._heads.append(current.head)
            self._current = None

    @_one_step_at_a_time
    def commit(self, request: NewPush | None = None) -> CreatedPush:
        """Store the push and its files in one transaction; returns the links."""
        self._check_open()
        if self._current is not None:
            raise RuntimeError("end_file() the current file first")
        request = request or self.request
        if request is None:
            raise RuntimeError("commit() needs the push's request")
        if not self._files:
            self._refuse("files", N_("Attach at least one file."))
        if request.end_to_end is True:
            self._seal_end_to_end_files()
        with self._aborting_on_error():
            created = self._store(request)
        self._state = "committed"
        return created

    def _check_sender(self) -> None:
        """Who may upload (before anything is stored); a request's answer has its own rule."""
        check_may_send_files(self.runtime, self.client)

    def _store(self, request: NewPush):
        """The push and its files' rows, in one transaction (`self._files`: blobs already stored)."""
        return store_new_push(self.runtime, _as_file_push(request), self.client, self._key, self.now, rows=self._files)

    @_one_step_at_a_time
    def abort(self) -> None:
        """Delete everything written so far; safe to call twice."""
        if self._state != "open":
            return
        self._state = "aborted"
        if self._current is not None:
            self._current.writer.abort()
            self._current = None
        for pushed in self._files:
            self.runtime.blobs.delete(pushed.blob_key)
        self._files = []

    def _seal_end_to_end_files(self) -> None:
        """An end-to-end push's files: each in the format (its head checked), stored under a
        plain name and type (the real ones are inside); a required passphrase in each."""
        for pushed, head in zip(self._files, self._heads):
            try:
                checked = e2e_files.check_head(head, pushed.size)
            except e2e.BadEnvelope as bad:
                self._refuse("files", text_of(bad))
            if self.runtime.settings.require_passphrase and not checked.has_passphrase:
                self._refuse("passphrase", PASSPHRASE_REQUIRED)
            name = e2e_files.stored_name(pushed.position)
            pushed.name_sealed = self._key.data_key.seal_text(self.push_id, file_name_field(pushed.position), name)
            pushed.content_type = e2e_files.STORED_CONTENT_TYPE

    def _refuse(self, field: str, message: str):
        self.abort()
        raise InvalidPush({field: message})

    def _check_open(self) -> None:
        if self._state != "open":
            raise RuntimeError(f"this draft is {self._state}")

    @contextmanager
    def _aborting_on_error(self):
        try:
            yield
        except BaseException:
            self.abort()
            raise


def _as_file_push(request: NewPush) -> NewPush:
    return request if request.kind == "file" else dataclasses.replace(request, kind="file")


# --- creating: the convenient doors ------------------------------------------------------------

def create_file_push(
    runtime: Runtime, request: NewPush, files: Sequence[IncomingFile], client: Client, now: datetime | None = None
) -> CreatedPush:
    """Create a file push from files whose chunks are (synchronous) iterables of bytes."""
    check_may_send_files(runtime, client, len(files))
    with FilePushDraft(runtime, client, request, now) as draft:
        for incoming in files:
            draft.start_file(incoming.name, incoming.content_type)
            for chunk in incoming.chunks:
                draft.write(chunk)
            draft.end_file()
        return draft.commit()


async def create_file_push_async(
    runtime: Runtime, request: NewPush, files: Sequence[IncomingFile], client: Client, now: datetime | None = None
) -> CreatedPush:
    """The same for async chunks (sync ones work too); the blocking work runs in threads."""
    check_may_send_files(runtime, client, len(files))
    async with _async_draft(functools.partial(FilePushDraft, runtime, client, request, now)) as (draft, feeder):
        for incoming in files:
            await asyncio.to_thread(draft.start_file, incoming.name, incoming.content_type)
            async for chunk in _aiter(incoming.chunks):
                await feeder.add(chunk)
            await _end_file(draft, feeder)
        return await asyncio.to_thread(draft.commit)


async def create_file_push_from_chunks(
    runtime: Runtime, request: NewPush, chunks: AsyncIterable, client: Client, now: datetime | None = None
) -> CreatedPush:
    """For Reflex's ``rx.UploadChunkIterator``: chunks with ``filename``, ``content_type``,
    ``offset`` and ``data``, one file after another; offset 0 starts a new file."""
    return await upload_chunks(functools.partial(FilePushDraft, runtime, client, request, now), chunks)


async def upload_chunks(make_draft: Callable[[], FilePushDraft], chunks: AsyncIterable,
                        commit: Callable[[FilePushDraft], object] = FilePushDraft.commit):
    """Reflex's chunks into the draft `make_draft` makes (in a thread), then `commit(draft)`."""
    async with _async_draft(make_draft) as (draft, feeder):
        current: str | None = None
        received = 0  # bytes of the current file, batched or written
        async for chunk in chunks:
            if current is None or chunk.filename != current or (chunk.offset == 0 and received):
                if current is not None:
                    await _end_file(draft, feeder)
                await asyncio.to_thread(draft.start_file, chunk.filename, chunk.content_type)
                current, received = chunk.filename, 0
            await feeder.add(chunk.data)
            received += len(chunk.data)
        if current is not None:
            await _end_file(draft, feeder)
        return await asyncio.to_thread(commit, draft)


@contextlib.asynccontextmanager
async def _async_draft(make_draft: Callable[[], FilePushDraft]):
    """A draft fed from the event loop; cancelled, refused or failed, nothing stays behind."""
    draft = await asyncio.to_thread(make_draft)
    feeder = DraftFeeder(draft)
    try:
        yield draft, feeder
    finally:
        await feeder.drain()
        if draft.is_open:  # (no-op after commit)
            await asyncio.to_thread(draft.abort)


async def _end_file(draft: FilePushDraft, feeder: "DraftFeeder") -> None:
    await feeder.flush()
    await asyncio.to_thread(draft.end_file)


class DraftFeeder:
    """Hands an async upload's bytes to a draft in a worker thread, a batch at a time:
    one thread hop per MiB instead of per network read.  One batch is in flight while the
    next is read (the event loop reads and parses as a thread seals and writes), so at most
    two batches are in memory.  A batch that would cross the size limit goes at once and is
    waited for, so the refusal does too."""

    def __init__(self, draft: FilePushDraft):
        self.draft = draft
        self.limit = draft.runtime.settings.max_file_bytes_per_push
        self.batch: list[bytes] = []
        self.size = 0
        self.in_flight: asyncio.Future | None = None
        self.in_flight_bytes = 0

    async def add(self, data: bytes) -> None:
        self.batch.append(data)
        self.size += len(data)
        # May count the batch in flight twice (the thread may have counted it): at worst an
        # early wait, never a missed refusal; the draft itself enforces the limit.
        crosses_limit = self.draft.total_bytes + self.in_flight_bytes + self.size > self.limit
        if self.size >= ASYNC_BATCH_BYTES or crosses_limit:
            await self._send()
            if crosses_limit:
                await self._settle()

    async def flush(self) -> None:
        """Everything added so far is written (before end_file or commit)."""
        if self.batch:
            await self._send()
        await self._settle()

    async def drain(self) -> None:
        """Wait for the batch in flight, whatever became of it (before an abort)."""
        with contextlib.suppress(Exception):
            await self._settle()

    async def _send(self) -> None:
        await self._settle()  # one batch in flight at most; its error surfaces here
        data = b"".join(self.batch)
        self.batch, self.size = [], 0
        self.in_flight_bytes = len(data)
        self.in_flight = asyncio.ensure_future(asyncio.to_thread(self.draft.write, data))

    async def _settle(self) -> None:
        if self.in_flight is not None:
            task, self.in_flight = self.in_flight, None
            try:
                await task
            finally:
                self.in_flight_bytes = 0


async def _aiter(chunks):
    if hasattr(chunks, "__aiter__"):
        async for chunk in chunks:
            yield chunk
    else:
        for chunk in chunks:
            yield chunk
