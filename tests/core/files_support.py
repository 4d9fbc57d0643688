"""Helpers for the file push tests: a signed-in sender, data in chunks, looks at storage."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import PurePosixPath

from sqlalchemy import text

from pwpush_app.core.audit import Client
from pwpush_app.core.create import NewPush
from pwpush_app.core.crypto import new_id
from pwpush_app.core.db import transaction
from pwpush_app.core.file_downloads import open_file_download
from pwpush_app.core.file_uploads import IncomingFile, create_file_push
from pwpush_app.core.models import User

T0 = datetime(2026, 11, 25, 12, 0, 0, tzinfo=timezone.utc)
RECIPIENT = Client(ip="203.0.113.7", user_agent="Mozilla/5.0 (recipient)")
ANONYMOUS = Client(ip="192.0.2.1", user_agent="Mozilla/5.0 (sender)")


def signed_in_sender(runtime) -> Client:
    """A sender with an account (file pushes need one by default)."""
    user_id = new_id()
    with transaction(runtime.engine) as db:
        db.add(User(id=user_id, email=f"{user_id}@example.com", created_at=T0, updated_at=T0))
    return Client(ip="192.0.2.10", user_agent="Mozilla/5.0 (sender)", user_id=user_id)


def chunks_of(data: bytes, size: int = 10_000):
    for start in range(0, len(data), size):
        yield data[start : start + size]


def incoming(name: str, data: bytes, content_type: str = "application/octet-stream", chunk: int = 10_000) -> IncomingFile:
    return IncomingFile(name=name, content_type=content_type, chunks=chunks_of(data, chunk))


def push_files(runtime, client, files, now=T0, **fields):
    """Create a file push from (name, bytes) pairs or IncomingFile objects."""
    prepared = [f if isinstance(f, IncomingFile) else incoming(*f) for f in files]
    return create_file_push(runtime, NewPush(kind="file", **fields), prepared, client, now=now)


def download(runtime, grant: str, index: int, now=T0) -> tuple[str, str, bytes]:
    opened = open_file_download(runtime, grant, index, RECIPIENT, now=now)
    body = b"".join(opened.chunks)
    assert len(body) == opened.size
    return opened.name, opened.content_type, body


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def blob_files(runtime) -> list:
    """Every blob the store holds (committed or partial): files on disk, or S3 objects."""
    from pwpush_app.core.blobs_s3 import S3BlobStore

    if isinstance(runtime.blobs, S3BlobStore):
        listing = runtime.blobs.client.list_objects_v2(Bucket=runtime.blobs.bucket).get("Contents", [])
        uploads = runtime.blobs.client.list_multipart_uploads(Bucket=runtime.blobs.bucket).get("Uploads", [])
        return sorted([S3Object(o["Key"], runtime.blobs) for o in listing] + [S3Object(u["Key"], runtime.blobs) for u in uploads])
    root = runtime.settings.data_dir / "files"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@dataclass(frozen=True, order=True)
class S3Object:
    """An object in the test's bucket, looked at and tampered with like a Path."""

    key: str
    store: object = field(compare=False)

    @property
    def name(self) -> str:
        return PurePosixPath(self.key).name

    @property
    def parent(self) -> PurePosixPath:
        return PurePosixPath(self.key).parent

    def read_bytes(self) -> bytes:
        return self.store.client.get_object(Bucket=self.store.bucket, Key=self.key)["Body"].read()

    def write_bytes(self, data: bytes) -> None:
        self.store.client.put_object(Bucket=self.store.bucket, Key=self.key, Body=data)


def row_counts(runtime) -> dict[str, int]:
    with runtime.engine.connect() as connection:
        return {
            table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("push", "push_file", "download_grant", "audit_event")
        }


def file_rows(runtime, push_id: str) -> list[dict]:
    with runtime.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT * FROM push_file WHERE push_id = :id ORDER BY position"), {"id": push_id}
        ).mappings()
        return [dict(r) for r in rows]
