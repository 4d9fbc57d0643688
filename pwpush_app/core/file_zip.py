""""Download all": every file of a revealed file push in one zip, built while it streams.

- The zip is written by the standard library's `zipfile` into a sink that is emptied after
  every batch: entries carry data descriptors (sizes and CRC after the data, as any
  streamed zip does) and ZIP64 fields where a file needs them.  No file, and no zip, is
  ever whole in memory or on disk: the stored blobs are opened (decrypted, checked record
  by record) as the zip goes out.  Entries are stored, not compressed: secrets shared as
  files are mostly compressed already, and storing keeps the download at disk speed.
- Permission is the reveal's grant, as for one file (`file_downloads.open_file_download`).
  Under a **last view's** grant the zip counts as the one download of every file in it:
  it claims each file not downloaded yet (files already downloaded one by one are left
  out; none left: AlreadyDownloaded), a complete zip deletes them, and a zip cut short
  gives every one of them back (`settle_once_downloads`).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import Iterator

from sqlalchemy import update
from sqlmodel import select

from pwpush_app.core import crypto
from pwpush_app.core.audit import Client
from pwpush_app.core.blobs import BlobNotFound
from pwpush_app.core.clock import utcnow
from pwpush_app.core.db import transaction
from pwpush_app.core.errors import AlreadyDownloaded, DownloadUnavailable
from pwpush_app.core.file_downloads import settle_once_downloads
from pwpush_app.core.models import DownloadGrant, Push, PushFile
from pwpush_app.core.push_policies import AddressRefused, check_download_address, refused_download
from pwpush_app.core.records import looks_like_token
from pwpush_app.core.runtime import Runtime
from pwpush_app.core.sealed_fields import file_content_field, file_name_field

ZIP_NAME = "files.zip"
# Bytes gathered before each hand-over to the response.
BATCH_BYTES = 1024 * 1024


@dataclass
class ZipDownload:
    """A zip ready to stream (no Content-Length: its size is known only at the end).
    `chunks` raises crypto.DecryptionError if a stored blob was tampered with: abort the
    response then.  Close it if you stop early."""

    name: str
    file_count: int
    chunks: Iterator[bytes]

    def close(self) -> None:
        close = getattr(self.chunks, "close", None)
        if close:
            close()


class _Sink:
    """A write-only, unseekable file for `zipfile`: what it writes waits here until taken."""

    def __init__(self):
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data, self.parts, self.size = b"".join(self.parts), [], 0
        return data


def open_zip_download(
    runtime: Runtime, grant: str, now: datetime | None = None, peek: bool = False, client: Client | None = None
) -> ZipDownload:
    """Every file the grant may still download, as one streamed zip; raises
    DownloadUnavailable or AlreadyDownloaded (see the module's docstring).  Consumes no view.
    `peek` (HEAD): the same checks, no bytes, nothing claimed.  From the push's allowed
    addresses only, as `open_file_download` (no `client`: outside every list)."""
    now = now or utcnow()
    client = client or Client()
    try:
        return _open_zip_download(runtime, grant, now, peek, client)
    except AddressRefused as refusal:
        raise refused_download(runtime, refusal, client, now) from None


def _open_zip_download(runtime: Runtime, grant: str, now: datetime, peek: bool, client: Client) -> ZipDownload:
    if not looks_like_token(grant):
        raise DownloadUnavailable()
    with transaction(runtime.engine) as db:
        found = db.exec(
            select(DownloadGrant).where(DownloadGrant.token_digest.in_(runtime.keyring.token_digests(grant)))
        ).first()
        if found is None or found.expires_at <= now:
            raise DownloadUnavailable()
        check_download_address(db.get(Push, found.push_id), client)
        stored = list(db.exec(
            select(PushFile)
            .where(PushFile.push_id == found.push_id, PushFile.blob_deleted == False, PushFile.name_sealed != None)  # noqa: E711, E712
            .order_by(PushFile.position)
        ))
        if found.last_view and peek:
            if not any(f.downloaded_at is None for f in stored):
                raise AlreadyDownloaded()
            return ZipDownload(name=ZIP_NAME, file_count=sum(f.downloaded_at is None for f in stored), chunks=iter(()))
        if found.last_view:
            wrapped = found.wrapped_key
            # Claimed one by one, atomically: a file another request took is left out.
            stored = [f for f in stored if db.execute(
                update(PushFile).where(PushFile.id == f.id, PushFile.downloaded_at == None)  # noqa: E711
                .values(downloaded_at=now).execution_options(synchronize_session=False)
            ).rowcount == 1]
            if not stored:
                raise AlreadyDownloaded()
        else:
            push = db.get(Push, found.push_id)
            if push is None or not push.is_live(now) or not stored:
                raise DownloadUnavailable()
            if peek:
                return ZipDownload(name=ZIP_NAME, file_count=len(stored), chunks=iter(()))
            wrapped = push.wrapped_key
    claimed = [(f.id, f.blob_key) for f in stored] if found.last_view else []
    try:
        if wrapped is None:
            raise DownloadUnavailable()
        data_key = runtime.keyring.open_data_key(stored[0].push_id, wrapped)
        entries = []
        for f, name in zip(stored, _unique(data_key.open_text(f.push_id, file_name_field(f.position), f.name_sealed)
                                           for f in stored)):
            if runtime.blobs.size(f.blob_key) != crypto.sealed_stream_size(f.size):
                raise crypto.DecryptionError(f"file {f.position}: stored blob has the wrong size")
            entries.append((f, name))
    except (BlobNotFound, DownloadUnavailable, crypto.DecryptionError) as refusal:
        if claimed:
            settle_once_downloads(runtime, claimed, complete=False)
        if isinstance(refusal, BlobNotFound):
            raise DownloadUnavailable() from None
        raise
    return ZipDownload(name=ZIP_NAME, file_count=len(entries),
                       chunks=_zip_stream(runtime, data_key, entries, claimed, now))


def _unique(names) -> list[str]:
    """Zip entry names, each once: 'a.txt', 'a (2).txt'."""
    seen: set[str] = set()
    unique = []
    for name in names:
        stem, dot, ext = name.rpartition(".") if "." in name.strip(".") else (name, "", "")
        candidate, n = name, 1
        while candidate.lower() in seen:
            n += 1
            candidate = f"{stem} ({n}){dot}{ext}" if dot else f"{name} ({n})"
        seen.add(candidate.lower())
        unique.append(candidate)
    return unique


def _zip_stream(runtime: Runtime, data_key: crypto.DataKey, entries: list[tuple[PushFile, str]],
                claimed: list[tuple[int, str]], now: datetime) -> Iterator[bytes]:
    sink = _Sink()
    complete = False
    try:
        with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
            for stored, name in entries:
                info = zipfile.ZipInfo(name, date_time=now.timetuple()[:6])
                blob = runtime.blobs.read(stored.blob_key)
                try:
                    with archive.open(info, "w", force_zip64=stored.size >= zipfile.ZIP64_LIMIT) as entry:
                        for chunk in data_key.open_stream(stored.push_id, file_content_field(stored.position), blob):
                            entry.write(chunk)
                            if sink.size >= BATCH_BYTES:
                                yield sink.take()
                finally:
                    blob.close()
        yield sink.take()
        complete = True
    finally:
        if claimed:
            settle_once_downloads(runtime, claimed, complete)
