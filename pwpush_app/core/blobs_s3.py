"""The S3-compatible blob store (AWS S3, MinIO, Ceph, R2, ...), for several hosts or workers
that share no disk.

Blobs are sealed streams already (see ``blobs.py``): the bucket only ever holds ciphertext.
Writes stream: bytes collect into one part of ``part_bytes`` at a time, each full part is
sent as a part of a multipart upload, and nothing becomes visible under the key until
``commit`` completes the upload. A blob smaller than one part is sent with a single PUT.
``abort`` (or a crash, later cleaned by ``sweep_partials``) leaves no object behind.

Credentials come from boto3's usual chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY,
AWS_PROFILE, an instance role ...): they are never settings of ours.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Iterator

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from pwpush_app.core.blobs import READ_CHUNK_BYTES, BlobInfo, BlobNotFound, check_key

# S3's smallest part (except the last) is 5 MiB; 8 MiB keeps a 100 MiB file at 13 parts
# and bounds a writer's memory to one part.
DEFAULT_PART_BYTES = 8 * 1024 * 1024
_MISSING = {"404", "NoSuchKey", "NotFound"}
# S3 takes at most 10,000 parts per upload; keep a margin for the sealing overhead.
_MAX_PARTS = 9_000


def part_bytes_for(largest_blob: int) -> int:
    """8 MiB parts, or larger ones when the largest allowed upload would need too many."""
    return max(DEFAULT_PART_BYTES, -(-largest_blob // _MAX_PARTS))


def make_client(endpoint_url: str | None, region: str | None, credentials: tuple[str | None, str | None] = (None, None)):
    """An S3 client; `credentials` (key id, secret) when configured, else boto3's usual chain."""
    config = Config(
        # A custom endpoint (MinIO, moto, Ceph) rarely has wildcard DNS for bucket names.
        s3={"addressing_style": "path" if endpoint_url else "auto"},
        # Checksums only where S3 requires them: many S3-compatible servers reject the
        # newer default trailers; each sealed chunk carries its own GCM tag anyway.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        retries={"max_attempts": 5, "mode": "standard"},
        connect_timeout=5,
        read_timeout=60,
    )
    key_id, secret = credentials
    return boto3.session.Session().client("s3", endpoint_url=endpoint_url, region_name=region, config=config,
                                          aws_access_key_id=key_id or None, aws_secret_access_key=secret or None)


class S3BlobStore:
    def __init__(self, bucket: str, prefix: str = "", client=None, endpoint_url: str | None = None,
                 region: str | None = None, part_bytes: int = DEFAULT_PART_BYTES,
                 credentials: tuple[str | None, str | None] = (None, None)):
        if part_bytes < 5 * 1024 * 1024:
            raise ValueError("S3 parts are at least 5 MiB")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.client = client or make_client(endpoint_url, region, credentials)
        self.part_bytes = part_bytes

    def __repr__(self) -> str:
        return f"S3BlobStore(bucket={self.bucket!r}, prefix={self.prefix!r})"

    def _object(self, key: str) -> str:
        return self.prefix + check_key(key)

    def open_writer(self, key: str) -> "S3BlobWriter":
        return S3BlobWriter(self, self._object(key))

    def read(self, key: str) -> Iterator[bytes]:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self._object(key))["Body"]
        except ClientError as error:
            raise _not_found_or(error, key) from None
        return _stream(body)

    def size(self, key: str) -> int:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._object(key))["ContentLength"]
        except ClientError as error:
            raise _not_found_or(error, key) from None

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except BlobNotFound:
            return False
        return True

    def delete(self, key: str) -> None:
        # S3 answers 204 for a key that is already gone: idempotent, as the interface asks.
        self.client.delete_object(Bucket=self.bucket, Key=self._object(key))

    def list(self, prefix: str = "") -> Iterator[BlobInfo]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix + prefix)
        for page in pages:
            for item in page.get("Contents", []):
                key = item["Key"][len(self.prefix):]
                try:
                    check_key(key)
                except ValueError:
                    continue  # not one of ours: never offer it to the orphan sweep
                yield BlobInfo(key, item["Size"], _aware(item["LastModified"]))

    def sweep_partials(self, older_than_seconds: float) -> int:
        """Abort multipart uploads that a crashed worker left open (their parts cost storage)."""
        cutoff = time.time() - older_than_seconds
        removed = 0
        pages = self.client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            for upload in page.get("Uploads", []):
                if _aware(upload["Initiated"]).timestamp() < cutoff:
                    try:
                        self.client.abort_multipart_upload(Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"])
                        removed += 1
                    except ClientError as error:
                        if _code(error) != "NoSuchUpload":  # another worker swept it first
                            raise
        return removed


class S3BlobWriter:
    def __init__(self, store: S3BlobStore, object_key: str):
        self._store = store
        self._key = object_key
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict] = []
        self._done = False

    def write(self, data: bytes) -> None:
        if self._done:
            raise ValueError("blob writer is closed")
        self._buffer += data
        while len(self._buffer) >= self._store.part_bytes:
            part = bytes(self._buffer[: self._store.part_bytes])
            del self._buffer[: self._store.part_bytes]
            self._send_part(part)

    def commit(self) -> None:
        if self._done:
            raise ValueError("blob writer is closed")
        client, bucket = self._store.client, self._store.bucket
        try:
            if self._upload_id is None:
                client.put_object(Bucket=bucket, Key=self._key, Body=bytes(self._buffer))
            else:
                if self._buffer:
                    self._send_part(bytes(self._buffer))
                client.complete_multipart_upload(Bucket=bucket, Key=self._key, UploadId=self._upload_id,
                                                 MultipartUpload={"Parts": self._parts})
        except Exception:
            self.abort()
            raise
        self._buffer = bytearray()
        self._done = True

    def abort(self) -> None:
        if self._done:
            return
        self._done = True
        self._buffer = bytearray()
        if self._upload_id is not None:
            try:
                self._store.client.abort_multipart_upload(Bucket=self._store.bucket, Key=self._key,
                                                          UploadId=self._upload_id)
            except ClientError:
                pass  # sweep_partials retries later

    def _send_part(self, part: bytes) -> None:
        client, bucket = self._store.client, self._store.bucket
        if self._upload_id is None:
            self._upload_id = client.create_multipart_upload(Bucket=bucket, Key=self._key)["UploadId"]
        number = len(self._parts) + 1
        etag = client.upload_part(Bucket=bucket, Key=self._key, UploadId=self._upload_id, PartNumber=number,
                                  Body=part)["ETag"]
        self._parts.append({"PartNumber": number, "ETag": etag})


def _stream(body) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(READ_CHUNK_BYTES)
    finally:
        body.close()


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _not_found_or(error: ClientError, key: str) -> Exception:
    return BlobNotFound(key) if _code(error) in _MISSING else error


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
