"""File pushes: 1..N files plus optional text, encrypted while they stream in.

The rules (pages and API both call these functions):
- Only signed-in senders may push files when ``files_require_login`` is on (the default).
- A push holds 1..``max_files_per_push`` files, none empty, together at most
  ``max_file_bytes_per_push`` bytes.  The limit is enforced while the bytes arrive: the
  first byte over it stops the upload, deletes what was written and leaves no row.
- File names are sanitised (``sanitize_file_name``) and sealed with the push's data key;
  contents are sealed in 64 KiB records (``crypto`` streams) straight into the blob store,
  so no file is ever whole in memory or in plaintext on disk.
- Downloads need a **grant**, made by a reveal (``pushes.reveal_push`` puts it in
  ``Revealed.downloads``).  A view's grant lets its viewer download the files, as often as
  they like, for ``file_grace_minutes`` while the push is live.  The **last** view expires
  the push at once, but its grant still lets that viewer download each file **once**
  within the window.  A GET of a download link never consumes a view.
- Expiry deletes the blobs: at once when the owner or viewer expires the push or its time
  runs out; ``file_grace_minutes`` after the last view when views run out; a file the last
  viewer downloaded is deleted as soon as its download completes.  ``purge_expired`` (every
  worker may run it) deletes whatever is overdue; deleting twice is harmless.

Calling it:
- a list of files whose chunks are iterables: ``create_file_push(vault, request, files, client)``;
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
import re
import threading
import unicodedata
import urllib.parse
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import AsyncIterable, Iterable, Iterator, Sequence

from sqlalchemy import delete, or_, select as sa_select, update
from sqlmodel import Session, select

from pwpush_app.core import crypto, pushes
from pwpush_app.core.audit import Client
from pwpush_app.core.blobs import BlobNotFound, BlobWriter
from pwpush_app.core.clock import utcnow
from pwpush_app.core.db import transaction
from pwpush_app.core.errors import PushError
from pwpush_app.core.models import DownloadGrant, Push, PushFile
from pwpush_app.core.pushes import CreatedPush, InvalidPush, NewPush
from pwpush_app.core.vault import Vault

MAX_FILE_NAME_BYTES = 200
MAX_CONTENT_TYPE_CHARS = 127
DEFAULT_CONTENT_TYPE = "application/octet-stream"
FALLBACK_FILE_NAME = "file"
# Async uploads hand bytes to a worker thread in batches of this size (bounded memory).
ASYNC_BATCH_BYTES = 1024 * 1024
_DELETE_BATCH = 500


# --- refusals -------------------------------------------------------------------------------

class LoginRequired(PushError):
    def __init__(self):
        super().__init__("File pushes need an account on this server: log in to send files.")


class DownloadUnavailable(PushError):
    """Unknown grant, expired window, expired push or deleted file: one answer for all."""

    def __init__(self):
        super().__init__("This download has expired or never existed. Open the secret link again if it has views left.")


class AlreadyDownloaded(PushError):
    def __init__(self):
        super().__init__(
            "This file was already downloaded. After the last view each file can be downloaded once, "
            "and this one has been deleted."
        )


# --- what callers pass and get ----------------------------------------------------------------

@dataclass(frozen=True)
class IncomingFile:
    """An uploaded file as it arrives: `chunks` is an iterable or async iterable of bytes."""

    name: str
    content_type: str
    chunks: Iterable[bytes] | AsyncIterable[bytes]


@dataclass(frozen=True)
class FileEntry:
    """One file as the recipient sees it in the list."""

    index: int
    name: str
    size: int
    content_type: str


@dataclass(frozen=True)
class FileDownloads:
    """What a reveal of a file push gives: the file list and the grant to download them.

    Download links carry `grant` and a file's `index` (e.g. ``/d/<grant>/<index>``); the
    grant works until `until`.  `once_each`: this was the last view, so each file can be
    downloaded once (say so on the page).
    """

    grant: str
    files: list[FileEntry]
    until: datetime
    once_each: bool


@dataclass
class FileDownload:
    """A file ready to stream: serve `chunks` with Content-Length `size`, the given
    Content-Type, ``Content-Disposition: attachment`` (never inline: the type is the
    sender's claim) and ``X-Content-Type-Options: nosniff``.

    `chunks` raises crypto.DecryptionError if the stored blob was tampered with; the bytes
    before it are authentic, so abort the response (do not end it cleanly).  Close it if
    you stop early.
    """

    name: str
    content_type: str
    size: int
    chunks: Iterator[bytes]

    def close(self) -> None:
        close = getattr(self.chunks, "close", None)
        if close:
            close()


# --- names and types --------------------------------------------------------------------------

_UNSAFE_CHARACTERS = frozenset('<>:"/\\|?*')
_DROPPED_CATEGORIES = frozenset(("Cc", "Cf", "Cs", "Zl", "Zp"))
_WINDOWS_RESERVED = frozenset(
    ("con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10)))
)
_EXTENSION_RE = re.compile(r"^[A-Za-z0-9]{1,16}$")
_CONTENT_TYPE_RE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$")


def sanitize_file_name(raw: str) -> str:
    """A name safe to store, show and offer as a download name.

    Keeps the last part of a path (``../../etc/passwd`` -> ``passwd``, Windows paths too),
    drops control and invisible formatting characters (newlines, NUL, right-to-left
    overrides that disguise an extension), replaces characters Windows refuses with ``_``,
    and cuts it to 200 bytes of UTF-8 keeping the extension.  Never empty: ``file``.
    """
    text = unicodedata.normalize("NFC", raw if isinstance(raw, str) else "")
    text = re.split(r"[/\\]", text)[-1]
    kept = []
    for character in text:
        category = unicodedata.category(character)
        if category in _DROPPED_CATEGORIES:
            continue
        if character in _UNSAFE_CHARACTERS:
            kept.append("_")
        elif category == "Zs":
            kept.append(" ")
        else:
            kept.append(character)
    text = re.sub(r" {2,}", " ", "".join(kept)).strip(" ").rstrip(". ")
    if not text.strip("."):
        return FALLBACK_FILE_NAME
    stem, dot, extension = text.rpartition(".")
    if not stem or not _EXTENSION_RE.match(extension):
        stem, dot, extension = text, "", ""
    if stem.split(".")[0].lower() in _WINDOWS_RESERVED:
        stem = "_" + stem
    room = MAX_FILE_NAME_BYTES - len((dot + extension).encode())
    stem = stem.encode()[:room].decode("utf-8", "ignore").rstrip(" .")
    return (stem + dot + extension) if stem else FALLBACK_FILE_NAME + dot + extension


def sanitize_content_type(raw: str | None) -> str:
    """The declared type without parameters, if it looks like one; else octet-stream."""
    text = (raw or "").split(";", 1)[0].strip().lower()
    return text if len(text) <= MAX_CONTENT_TYPE_CHARS and _CONTENT_TYPE_RE.match(text) else DEFAULT_CONTENT_TYPE


# Declared types a browser would run or render as a document (scripts, markup, SVG):
# served as opaque bytes, so a file can never act as a page of this site.
_ACTIVE_TYPE_MARKERS = ("html", "xml", "svg", "javascript", "ecmascript", "xsl")


def served_content_type(declared: str) -> str:
    """The Content-Type a download goes out with: the declared one, unless it is active."""
    text = sanitize_content_type(declared)
    return DEFAULT_CONTENT_TYPE if any(marker in text for marker in _ACTIVE_TYPE_MARKERS) else text


def content_disposition(name: str) -> str:
    """The Content-Disposition value for downloading a (sanitised) name as an attachment:
    an ASCII fallback plus the exact name percent-encoded (RFC 6266 / 8187)."""
    safe = sanitize_file_name(name)
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\%' else "_" for c in safe)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{urllib.parse.quote(safe, safe='')}"


def describe_bytes(count: int) -> str:
    for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if count >= size:
            value = count / size
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{count} byte{'s' if count != 1 else ''}"


# --- who may send -------------------------------------------------------------------------------

def check_may_send_files(vault: Vault, client: Client, file_count: int | None = None) -> None:
    """Refuse early (before reading any upload) what no upload could fix."""
    settings = vault.settings
    if not settings.policy("file").enabled:
        raise InvalidPush({"kind": "file pushes are turned off on this server."})
    pushes.require_sender_allowed(vault, client)
    if settings.files_require_login and not client.user_id:
        raise LoginRequired()
    if file_count is not None:
        _check_count(vault, file_count)


def _check_count(vault: Vault, count: int) -> None:
    limit = vault.settings.max_files_per_push
    if count < 1:
        raise InvalidPush({"files": "Attach at least one file."})
    if count > limit:
        raise InvalidPush({"files": f"Too many files: at most {limit} per push."})


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


def _one_step_at_a_time(method):
    @functools.wraps(method)
    def locked(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)

    return locked


class FilePushDraft:
    """A file push being uploaded: push-style, for parsers that call back per chunk.

        with FilePushDraft(vault, client, request) as draft:
            draft.start_file(name, content_type)
            draft.write(chunk)  # as often as chunks come
            draft.end_file()
            created = draft.commit()

    Any refusal (`InvalidPush`) or error deletes everything written; leaving the `with`
    block without `commit()` does too.  If the form's text fields come after its files,
    create the draft without `request` and pass it to `commit(request)`.
    """

    def __init__(self, vault: Vault, client: Client, request: NewPush | None = None, now: datetime | None = None):
        self.vault = vault
        self.client = client
        self.request = request
        self.now = now or utcnow()
        check_may_send_files(vault, client)
        vault.throttle.hit("create", client.ip)
        if request is not None:
            pushes.validate_new_push(vault, _as_file_push(request))
        self._key = pushes.new_push_key(vault)
        self._files: list[PushFile] = []
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
        if len(self._files) >= self.vault.settings.max_files_per_push:
            self._refuse("files", f"Too many files: at most {self.vault.settings.max_files_per_push} per push.")
        position = len(self._files)
        key = f"{self.push_id}/{position}"
        with self._aborting_on_error():
            self._current = _OpenFile(
                position=position,
                name=sanitize_file_name(name),
                content_type=sanitize_content_type(content_type),
                key=key,
                writer=self.vault.blobs.open_writer(key),
                sealer=self._key.data_key.stream_sealer(self.push_id, _content_field(position)),
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
        limit = self.vault.settings.max_file_bytes_per_push
        if self._total > limit:
            self._refuse("files", f"The files are too large: at most {describe_bytes(limit)} per push in total.")
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
            self._refuse("files", f"{current.name} is empty: choose a file with something in it.")
        with self._aborting_on_error():
            current.writer.write(current.sealer.finish())
            current.writer.commit()
            self._files.append(
                PushFile(
                    push_id=self.push_id,
                    position=current.position,
                    name_sealed=self._key.data_key.seal_text(self.push_id, _name_field(current.position), current.name),
                    content_type=current.content_type,
                    size=current.size,
                    blob_key=current.key,
                    created_at=self.now,
                )
            )
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
            self._refuse("files", "Attach at least one file.")
        with self._aborting_on_error():
            created = pushes.store_new_push(
                self.vault, _as_file_push(request), self.client, self._key, self.now, rows=self._files
            )
        self._state = "committed"
        return created

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
            self.vault.blobs.delete(pushed.blob_key)
        self._files = []

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


def _content_field(position: int) -> str:
    return f"file {position}"


def _name_field(position: int) -> str:
    return f"file {position} name"


# --- creating: the convenient doors ------------------------------------------------------------

def create_file_push(
    vault: Vault, request: NewPush, files: Sequence[IncomingFile], client: Client, now: datetime | None = None
) -> CreatedPush:
    """Create a file push from files whose chunks are (synchronous) iterables of bytes."""
    check_may_send_files(vault, client, len(files))
    with FilePushDraft(vault, client, request, now) as draft:
        for incoming in files:
            draft.start_file(incoming.name, incoming.content_type)
            for chunk in incoming.chunks:
                draft.write(chunk)
            draft.end_file()
        return draft.commit()


async def create_file_push_async(
    vault: Vault, request: NewPush, files: Sequence[IncomingFile], client: Client, now: datetime | None = None
) -> CreatedPush:
    """The same for async chunks (sync ones work too); the blocking work runs in threads."""
    check_may_send_files(vault, client, len(files))
    draft = await asyncio.to_thread(FilePushDraft, vault, client, request, now)
    feeder = DraftFeeder(draft)
    try:
        for incoming in files:
            await asyncio.to_thread(draft.start_file, incoming.name, incoming.content_type)
            async for chunk in _aiter(incoming.chunks):
                await feeder.add(chunk)
            await feeder.flush()
            await asyncio.to_thread(draft.end_file)
        return await asyncio.to_thread(draft.commit)
    finally:
        # Cancelled, refused or failed: nothing stays behind.  (No-op after commit.)
        await feeder.drain()
        if draft.is_open:
            await asyncio.to_thread(draft.abort)


async def create_file_push_from_chunks(
    vault: Vault, request: NewPush, chunks: AsyncIterable, client: Client, now: datetime | None = None
) -> CreatedPush:
    """For Reflex's ``rx.UploadChunkIterator``: chunks with ``filename``, ``content_type``,
    ``offset`` and ``data``, one file after another; offset 0 starts a new file."""
    draft = await asyncio.to_thread(FilePushDraft, vault, client, request, now)
    feeder = DraftFeeder(draft)
    try:
        current: str | None = None
        received = 0  # bytes of the current file, batched or written
        async for chunk in chunks:
            if current is None or chunk.filename != current or (chunk.offset == 0 and received):
                if current is not None:
                    await feeder.flush()
                    await asyncio.to_thread(draft.end_file)
                await asyncio.to_thread(draft.start_file, chunk.filename, chunk.content_type)
                current, received = chunk.filename, 0
            await feeder.add(chunk.data)
            received += len(chunk.data)
        if current is not None:
            await feeder.flush()
            await asyncio.to_thread(draft.end_file)
        return await asyncio.to_thread(draft.commit)
    finally:
        await feeder.drain()
        if draft.is_open:
            await asyncio.to_thread(draft.abort)


class DraftFeeder:
    """Hands an async upload's bytes to a draft in a worker thread, a batch at a time:
    one thread hop per MiB instead of per network read.  One batch is in flight while the
    next is read (the event loop reads and parses as a thread seals and writes), so at most
    two batches are in memory.  A batch that would cross the size limit goes at once and is
    waited for, so the refusal does too."""

    def __init__(self, draft: FilePushDraft):
        self.draft = draft
        self.limit = draft.vault.settings.max_file_bytes_per_push
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


# --- revealing: grants ----------------------------------------------------------------------------

def grant_downloads(db: Session, vault: Vault, push: Push, data_key: crypto.DataKey, now: datetime) -> FileDownloads:
    """Called by `pushes.reveal_push` inside the view's transaction, before the last view
    expires the push: records what this view may download and lists the files."""
    last_view = push.views_remaining == 0
    window_end = now + timedelta(minutes=vault.settings.file_grace_minutes)
    until = window_end if last_view else min(window_end, push.expires_at)
    token = crypto.new_token()
    db.add(
        DownloadGrant(
            push_id=push.id,
            token_digest=vault.keyring.token_digest(token),
            last_view=last_view,
            # The push loses its key when it expires below; the last viewer's window needs it.
            wrapped_key=push.wrapped_key if last_view else None,
            expires_at=until,
            created_at=now,
        )
    )
    stored = db.exec(
        select(PushFile).where(PushFile.push_id == push.id, PushFile.blob_deleted == False).order_by(PushFile.position)  # noqa: E712
    ).all()
    files = [
        FileEntry(
            index=f.position,
            name=data_key.open_text(push.id, _name_field(f.position), f.name_sealed),
            size=f.size,
            content_type=f.content_type,
        )
        for f in stored
    ]
    return FileDownloads(grant=token, files=files, until=until, once_each=last_view)


def download_path(grant: str, index: int) -> str:
    """The path of a file's download link (served by the API app on the one port)."""
    return f"/d/{grant}/{index}"


def open_file_download(
    vault: Vault, grant: str, index: int, client: Client, now: datetime | None = None, peek: bool = False
) -> FileDownload:
    """Open file `index` of the push a reveal granted; raises DownloadUnavailable or
    AlreadyDownloaded.  Consumes no view.  (`client` is for the caller's logs and future
    audit; the grant itself is the permission.)

    `peek` (for HEAD requests): the same checks and headers, but no bytes and, for the
    last view's grant, the one download is not used up."""
    now = now or utcnow()
    if not pushes._looks_like_token(grant) or not isinstance(index, int) or isinstance(index, bool):
        raise DownloadUnavailable()
    with transaction(vault.engine) as db:
        found = db.exec(
            select(DownloadGrant).where(DownloadGrant.token_digest.in_(vault.keyring.token_digests(grant)))
        ).first()
        if found is None or found.expires_at <= now:
            raise DownloadUnavailable()
        stored = db.exec(
            select(PushFile).where(PushFile.push_id == found.push_id, PushFile.position == index)
        ).first()
        if stored is None:
            raise DownloadUnavailable()
        if found.last_view and stored.downloaded_at is not None:
            raise AlreadyDownloaded()
        if stored.blob_deleted or stored.name_sealed is None:
            raise DownloadUnavailable()
        if found.last_view and peek:
            wrapped = found.wrapped_key
        elif found.last_view:
            wrapped = found.wrapped_key
            # Claim the one download atomically: two parallel requests get it once.
            claimed = db.execute(
                update(PushFile)
                .where(PushFile.id == stored.id, PushFile.downloaded_at == None)  # noqa: E711
                .values(downloaded_at=now)
                .execution_options(synchronize_session=False)
            ).rowcount
            if claimed != 1:
                raise AlreadyDownloaded()
        else:
            push = db.get(Push, found.push_id)
            if push is None or not pushes._is_live(push, now):
                raise DownloadUnavailable()
            wrapped = push.wrapped_key
    if wrapped is None:
        raise DownloadUnavailable()
    data_key = vault.keyring.open_data_key(stored.push_id, wrapped)
    name = data_key.open_text(stored.push_id, _name_field(index), stored.name_sealed)
    try:
        sealed_size = vault.blobs.size(stored.blob_key)
        blob = vault.blobs.read(stored.blob_key)
    except BlobNotFound:
        raise DownloadUnavailable() from None
    if sealed_size != crypto.sealed_stream_size(stored.size):
        # Cut or padded in storage: refuse before sending a byte.
        blob.close()
        raise crypto.DecryptionError(f"file {index}: stored blob has the wrong size")
    if peek:
        blob.close()
        return FileDownload(name=name, content_type=stored.content_type, size=stored.size, chunks=iter(()))
    chunks = _plaintext(vault, data_key, stored, blob, delete_after=found.last_view)
    return FileDownload(name=name, content_type=stored.content_type, size=stored.size, chunks=chunks)


def _plaintext(vault: Vault, data_key: crypto.DataKey, stored: PushFile, blob, delete_after: bool) -> Iterator[bytes]:
    try:
        yield from data_key.open_stream(stored.push_id, _content_field(stored.position), blob)
    finally:
        blob.close()
    if delete_after:
        # The last viewer's one download is complete: the file need not wait for the purge.
        _delete_blobs(vault, [(stored.id, stored.blob_key)])


# --- deleting -----------------------------------------------------------------------------------

def delete_released_blobs(vault: Vault, now: datetime | None = None, push_id: str | None = None) -> int:
    """Delete the blobs (and sealed names) of expired pushes whose files may no longer be
    downloaded, and grants past their window.  Idempotent; several workers may run it at
    once.  Returns how many blobs this call deleted."""
    now = now or utcnow()
    grace_start = now - timedelta(minutes=vault.settings.file_grace_minutes)
    released = (
        Push.expired == True,  # noqa: E712
        or_(Push.expired_reason != "views", Push.expired_at <= grace_start),
    )
    deleted = 0
    while True:
        with transaction(vault.engine) as db:
            query = (
                select(PushFile.id, PushFile.blob_key)
                .join(Push, Push.id == PushFile.push_id)
                .where(PushFile.blob_deleted == False, *released)  # noqa: E712
            )
            if push_id is not None:
                query = query.where(PushFile.push_id == push_id)
            rows = list(db.exec(query.limit(_DELETE_BATCH)))
        _delete_blobs(vault, rows)
        deleted += len(rows)
        if len(rows) < _DELETE_BATCH:
            break
    with transaction(vault.engine) as db:
        # Asked grant by grant (grants are few and short-lived): `push_id IN (expired
        # pushes)` made SQLite list every expired push ever kept, on every purge run.
        expired_grants = delete(DownloadGrant).where(
            or_(
                DownloadGrant.expires_at <= now,
                sa_select(Push.id).where(Push.id == DownloadGrant.push_id, *released).exists(),
            )
        )
        if push_id is not None:
            expired_grants = expired_grants.where(DownloadGrant.push_id == push_id)
        db.execute(expired_grants)
    return deleted


def _delete_blobs(vault: Vault, rows: list[tuple[int, str]]) -> None:
    # Blob first, then the flag: a crash in between leaves a flag to retry, never an
    # orphaned blob that no row points at.
    for _file_id, key in rows:
        vault.blobs.delete(key)
    if rows:
        with transaction(vault.engine) as db:
            db.execute(
                update(PushFile)
                .where(PushFile.id.in_([file_id for file_id, _key in rows]))
                .values(blob_deleted=True, name_sealed=None)
                .execution_options(synchronize_session=False)
            )


def sweep_orphan_blobs(vault: Vault, older_than: timedelta = timedelta(days=1), now: datetime | None = None) -> int:
    """Delete blobs that no live file row points at, left by uploads that died half-way
    (a crash between writing a blob and storing the push).  Only blobs older than
    `older_than`, so uploads in progress are never touched.  Returns how many."""
    now = now or utcnow()
    cutoff = now - older_than
    candidates = [info.key for info in vault.blobs.list() if info.modified_at < cutoff]
    removed = 0
    for start in range(0, len(candidates), _DELETE_BATCH):
        keys = candidates[start : start + _DELETE_BATCH]
        with transaction(vault.engine) as db:
            wanted = set(
                db.exec(select(PushFile.blob_key).where(PushFile.blob_key.in_(keys), PushFile.blob_deleted == False))  # noqa: E712
            )
        for key in keys:
            if key not in wanted:
                vault.blobs.delete(key)
                removed += 1
    sweep_partials = getattr(vault.blobs, "sweep_partials", None)
    if sweep_partials:
        removed += sweep_partials(older_than.total_seconds())
    return removed
