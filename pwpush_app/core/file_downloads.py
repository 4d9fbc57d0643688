"""File pushes going out: download grants, downloads, and deleting the blobs.

- Downloads need a **grant**, made by a reveal (``reveal.reveal_push`` puts it in
  ``Revealed.downloads``).  A view's grant lets its viewer download the files, as often as
  they like, for ``file_grace_minutes`` while the push is live.  The **last** view expires
  the push at once, but its grant still lets that viewer download each file **once**
  within the window.  A GET of a download link never consumes a view.
- Expiry deletes the blobs: at once when the owner or viewer expires the push or its time
  runs out; ``file_grace_minutes`` after the last view when views run out; a file the last
  viewer downloaded is deleted as soon as its download completes.  A last view's download
  that is cut short gives the file's one download back (``settle_once_downloads``).
- "Download all" (``file_zip.open_zip_download``) streams every file still there as one
  zip; under a last view's grant it counts as the one download of each file in it.  The purge (every
  worker may run it) deletes whatever is overdue; deleting twice is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterator

from sqlalchemy import delete, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from pwpush_app.core import crypto
from pwpush_app.core.audit import Client
from pwpush_app.core.blobs import BlobNotFound
from pwpush_app.core.clock import utcnow
from pwpush_app.core.db import transaction
from pwpush_app.core.errors import AlreadyDownloaded, DownloadUnavailable
from pwpush_app.core.models import DownloadGrant, Push, PushFile
from pwpush_app.core.push_policies import AddressRefused, check_download_address, refused_download
from pwpush_app.core.records import looks_like_token
from pwpush_app.core.runtime import Runtime
from pwpush_app.core.sealed_fields import file_content_field, file_name_field

_DELETE_BATCH = 500


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

    Download links carry `grant` and a file's `index` (``links.download_path``); the
    grant works until `until`.  `once_each`: this was the last view, so each file can be
    downloaded once (say so on the page).
    """

    grant: str
    files: list[FileEntry]
    until: datetime
    once_each: bool


@dataclass
class FileDownload:
    """A file ready to stream: serve `chunks` with Content-Length `size`, the Content-Type
    ``file_names.served_content_type(content_type)``, ``Content-Disposition: attachment``
    (never inline: the type is the sender's claim) and ``X-Content-Type-Options: nosniff``.

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


# --- revealing: grants ----------------------------------------------------------------------------

def grant_downloads(db: Session, runtime: Runtime, push: Push, data_key: crypto.DataKey, now: datetime) -> FileDownloads:
    """Called by `reveal.reveal_push` inside the view's transaction, before the last view
    expires the push: records what this view may download and lists the files."""
    last_view = push.views_remaining == 0
    window_end = now + timedelta(minutes=runtime.settings.file_grace_minutes)
    until = window_end if last_view else min(window_end, push.expires_at)
    token = crypto.new_token()
    db.add(
        DownloadGrant(
            push_id=push.id,
            token_digest=runtime.keyring.token_digest(token),
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
            name=data_key.open_text(push.id, file_name_field(f.position), f.name_sealed),
            size=f.size,
            content_type=f.content_type,
        )
        for f in stored
    ]
    return FileDownloads(grant=token, files=files, until=until, once_each=last_view)


def open_file_download(
    runtime: Runtime, grant: str, index: int, client: Client, now: datetime | None = None, peek: bool = False
) -> FileDownload:
    """Open file `index` of the push a reveal granted; raises DownloadUnavailable or
    AlreadyDownloaded.  Consumes no view.  The grant is the permission, from the push's
    allowed addresses only (`client`; elsewhere it is unknown, and `refused_address` logged).

    `peek` (for HEAD requests): the same checks and headers, but no bytes and, for the
    last view's grant, the one download is not used up."""
    now = now or utcnow()
    try:
        return _open_file_download(runtime, grant, index, client, now, peek)
    except AddressRefused as refusal:
        raise refused_download(runtime, refusal, client, now) from None


def _open_file_download(runtime: Runtime, grant: str, index: int, client: Client, now: datetime, peek: bool) -> FileDownload:
    if not looks_like_token(grant) or not isinstance(index, int) or isinstance(index, bool):
        raise DownloadUnavailable()
    with transaction(runtime.engine) as db:
        found = db.exec(
            select(DownloadGrant).where(DownloadGrant.token_digest.in_(runtime.keyring.token_digests(grant)))
        ).first()
        if found is None or found.expires_at <= now:
            raise DownloadUnavailable()
        check_download_address(db.get(Push, found.push_id), client)
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
            if push is None or not push.is_live(now):
                raise DownloadUnavailable()
            wrapped = push.wrapped_key
    if wrapped is None:
        raise DownloadUnavailable()
    data_key = runtime.keyring.open_data_key(stored.push_id, wrapped)
    name = data_key.open_text(stored.push_id, file_name_field(index), stored.name_sealed)
    try:
        sealed_size = runtime.blobs.size(stored.blob_key)
        blob = runtime.blobs.read(stored.blob_key)
    except BlobNotFound:
        raise DownloadUnavailable() from None
    if sealed_size != crypto.sealed_stream_size(stored.size):
        # Cut or padded in storage: refuse before sending a byte.
        blob.close()
        raise crypto.DecryptionError(f"file {index}: stored blob has the wrong size")
    if peek:
        blob.close()
        return FileDownload(name=name, content_type=stored.content_type, size=stored.size, chunks=iter(()))
    chunks = _plaintext(runtime, data_key, stored, blob, delete_after=found.last_view)
    return FileDownload(name=name, content_type=stored.content_type, size=stored.size, chunks=chunks)


def _plaintext(runtime: Runtime, data_key: crypto.DataKey, stored: PushFile, blob, delete_after: bool) -> Iterator[bytes]:
    complete = False
    try:
        yield from data_key.open_stream(stored.push_id, file_content_field(stored.position), blob)
        complete = True
    finally:
        blob.close()
        if delete_after:
            settle_once_downloads(runtime, [(stored.id, stored.blob_key)], complete)


def settle_once_downloads(runtime: Runtime, files: list[tuple[int, str]], complete: bool) -> None:
    """After a last view's download of these files (id, blob key) ended: a complete one
    deletes them at once (they need not wait for the purge); one cut short (a phone losing
    its connection, a closed tab) gives their one download back, so the viewer can try again
    within the window.  "Once" means one complete download."""
    if complete:
        _delete_blobs(runtime, files)
        return
    with transaction(runtime.engine) as db:
        db.execute(
            update(PushFile)
            .where(PushFile.id.in_([file_id for file_id, _key in files]))
            .values(downloaded_at=None)
            .execution_options(synchronize_session=False)
        )


# --- deleting -----------------------------------------------------------------------------------

def delete_released_blobs(runtime: Runtime, now: datetime | None = None, push_id: str | None = None) -> int:
    """Delete the blobs (and sealed names) of expired pushes whose files may no longer be
    downloaded, and grants past their window.  Idempotent; several workers may run it at
    once.  Returns how many blobs this call deleted."""
    now = now or utcnow()
    grace_start = now - timedelta(minutes=runtime.settings.file_grace_minutes)
    released = (
        Push.expired == True,  # noqa: E712
        or_(Push.expired_reason != "views", Push.expired_at <= grace_start),
    )
    deleted = 0
    while True:
        with transaction(runtime.engine) as db:
            query = (
                select(PushFile.id, PushFile.blob_key)
                .join(Push, Push.id == PushFile.push_id)
                .where(PushFile.blob_deleted == False, *released)  # noqa: E712
            )
            if push_id is not None:
                query = query.where(PushFile.push_id == push_id)
            rows = list(db.exec(query.limit(_DELETE_BATCH)))
        _delete_blobs(runtime, rows)
        deleted += len(rows)
        if len(rows) < _DELETE_BATCH:
            break
    with transaction(runtime.engine) as db:
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


def delete_blobs_of(runtime: Runtime, push: Push | None, now: datetime) -> None:
    """Expiry deletes a file push's blobs at once (after the last viewer's window, for views).

    Call it after the expiring transaction commits: a rolled-back expiry keeps its files.
    """
    if push is not None and push.kind == "file":
        delete_released_blobs(runtime, now, push_id=push.id)


def delete_blobs_of_pushes(runtime: Runtime, push_ids: list[str]) -> None:
    """Every remaining blob of these pushes, download window or not (an administrator
    deletes their owner's account).  The caller expired them first."""
    for start in range(0, len(push_ids), _DELETE_BATCH):
        with transaction(runtime.engine, write=False) as db:
            rows = list(db.exec(select(PushFile.id, PushFile.blob_key).where(
                PushFile.push_id.in_(push_ids[start:start + _DELETE_BATCH]), PushFile.blob_deleted == False)))  # noqa: E712
        _delete_blobs(runtime, rows)


def _delete_blobs(runtime: Runtime, rows: list[tuple[int, str]]) -> None:
    # Blob first, then the flag: a crash in between leaves a flag to retry, never an
    # orphaned blob that no row points at.
    for _file_id, key in rows:
        runtime.blobs.delete(key)
    if rows:
        with transaction(runtime.engine) as db:
            db.execute(
                update(PushFile)
                .where(PushFile.id.in_([file_id for file_id, _key in rows]))
                .values(blob_deleted=True, name_sealed=None)
                .execution_options(synchronize_session=False)
            )


def sweep_orphan_blobs(runtime: Runtime, older_than: timedelta = timedelta(days=1), now: datetime | None = None) -> int:
    """Delete blobs that no live file row points at, left by uploads that died half-way
    (a crash between writing a blob and storing the push).  Only blobs older than
    `older_than`, so uploads in progress are never touched.  Returns how many."""
    now = now or utcnow()
    cutoff = now - older_than
    candidates = [info.key for info in runtime.blobs.list() if info.modified_at < cutoff]
    removed = 0
    for start in range(0, len(candidates), _DELETE_BATCH):
        keys = candidates[start : start + _DELETE_BATCH]
        with transaction(runtime.engine) as db:
            wanted = set(
                db.exec(select(PushFile.blob_key).where(PushFile.blob_key.in_(keys), PushFile.blob_deleted == False))  # noqa: E712
            )
        for key in keys:
            if key not in wanted:
                runtime.blobs.delete(key)
                removed += 1
    sweep_partials = getattr(runtime.blobs, "sweep_partials", None)
    if sweep_partials:
        removed += sweep_partials(older_than.total_seconds())
    return removed
