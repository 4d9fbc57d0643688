"""Where encrypted file contents live: a small storage interface and its local-disk backend.

Blobs only ever hold sealed streams (see ``crypto.DataKey.seal_stream``); the store knows
nothing about keys or plaintext.  The interface is small enough for the S3-compatible
backend in ``blobs_s3.py``: a writer takes chunks in order and either commits (S3:
complete the multipart upload) or aborts (S3: abort it); a reader yields chunks; delete
is idempotent.

Keys look like ``<push id>/<file position>``: lowercase letters, digits, ``/``, ``.``,
``_`` and ``-``, never ``..``.

The local backend keeps blobs under ``<data dir>/files`` (never under Reflex's public
upload folder), writes each into a hidden temporary name and renames it into place on
commit, so a reader never sees half a blob and an interrupted upload leaves only a
``.partial`` file that ``sweep_partials`` removes.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Protocol

READ_CHUNK_BYTES = 256 * 1024
_KEY_RE = re.compile(r"^[a-z0-9_-]+(?:[./][a-z0-9_-]+)*$")
_PARTIAL_SUFFIX = ".partial"


class BlobNotFound(LookupError):
    """No blob under that key (never written, or already deleted)."""


@dataclass(frozen=True)
class BlobInfo:
    key: str
    size: int
    modified_at: datetime


class BlobWriter(Protocol):
    """Receives one blob's bytes in order; nothing is visible under the key until commit."""

    def write(self, data: bytes) -> None: ...

    def commit(self) -> None: ...

    def abort(self) -> None:
        """Discard what was written; safe to call after commit (then it does nothing)."""


class BlobStore(Protocol):
    def open_writer(self, key: str) -> BlobWriter: ...

    def read(self, key: str) -> Iterator[bytes]:
        """The blob's bytes in chunks.  Raises BlobNotFound at once (not on first next())."""

    def size(self, key: str) -> int:
        """Raises BlobNotFound."""

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove the blob; no error if it is already gone (several workers may race)."""

    def list(self, prefix: str = "") -> Iterator[BlobInfo]:
        """Committed blobs whose key starts with `prefix`."""


def check_key(key: str) -> str:
    if not isinstance(key, str) or len(key) > 200 or not _KEY_RE.match(key):
        raise ValueError(f"not a valid blob key: {key!r}")
    return key


class LocalBlobStore:
    """Blobs as files under one folder (mode 0700 folders, 0600 files)."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"LocalBlobStore({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    def open_writer(self, key: str) -> "LocalBlobWriter":
        path = self._path(key)
        _make_dirs(path.parent, self.root)
        return LocalBlobWriter(path)

    def read(self, key: str) -> Iterator[bytes]:
        try:
            handle = open(self._path(key), "rb")
        except FileNotFoundError:
            raise BlobNotFound(key) from None
        return _read_chunks(handle)

    def size(self, key: str) -> int:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return
        # Drop the push's folder once it is empty; another writer may have refilled it.
        try:
            path.parent.rmdir()
        except OSError:
            pass

    def list(self, prefix: str = "") -> Iterator[BlobInfo]:
        if not self.root.is_dir():
            return
        for dirpath, _dirnames, filenames in os.walk(self.root):
            for name in filenames:
                if name.startswith(".") or name.endswith(_PARTIAL_SUFFIX):
                    continue
                path = Path(dirpath) / name
                key = path.relative_to(self.root).as_posix()
                if not key.startswith(prefix) or not _KEY_RE.match(key):
                    continue
                try:
                    stat = path.stat()
                except FileNotFoundError:
                    continue
                yield BlobInfo(key, stat.st_size, datetime.fromtimestamp(stat.st_mtime, timezone.utc))

    def sweep_partials(self, older_than_seconds: float) -> int:
        """Remove temporary files of uploads that died (a crash mid-upload); returns how many."""
        if not self.root.is_dir():
            return 0
        removed = 0
        cutoff = time.time() - older_than_seconds
        for path in self.root.rglob(f"*{_PARTIAL_SUFFIX}"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed


def _make_dirs(path: Path, root: Path) -> None:
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


def _read_chunks(handle) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(READ_CHUNK_BYTES):
            yield chunk


class LocalBlobWriter:
    def __init__(self, path: Path):
        self.path = path
        self._partial = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}{_PARTIAL_SUFFIX}")
        fd = os.open(self._partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._file = os.fdopen(fd, "wb")
        self._done = False

    def write(self, data: bytes) -> None:
        if self._done:
            raise ValueError("blob writer is closed")
        self._file.write(data)

    def commit(self) -> None:
        if self._done:
            raise ValueError("blob writer is closed")
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self._partial, self.path)
        self._done = True

    def abort(self) -> None:
        if self._done:
            return
        self._done = True
        self._file.close()
        try:
            self._partial.unlink()
        except FileNotFoundError:
            pass

