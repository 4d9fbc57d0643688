"""The runtime: what every core function runs against, built once per process.

`Runtime` holds the settings, the database engine, the keyring (master keys), the rate
limiter, the Argon2 bound and the file store.  Pages, API and jobs share one
(`get_runtime()`); tests build their own (`open_runtime(settings)`).
"""

from __future__ import annotations

import functools
import logging
import stat
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from pwpush_app.core import crypto
from pwpush_app.core.blobs import BlobStore, LocalBlobStore
from pwpush_app.core.db import make_engine
from pwpush_app.core.hashing import SlowHashes
from pwpush_app.core.throttle import Throttle
from pwpush_app.master_key import load_or_create_key_file, parse_master_key, read_key_file
from pwpush_app.settings import Settings, get_settings

log = logging.getLogger("pwpush")

KEY_FILE_NAME = "master.key"


@dataclass
class Runtime:
    """Everything a core call needs besides its arguments."""

    settings: Settings
    engine: Engine
    keyring: crypto.Keyring
    throttle: Throttle
    # Encrypted file contents (local disk under the data folder).
    blobs: BlobStore
    # Argon2id, a bounded number at a time.
    hashing: SlowHashes


def load_keyring(settings: Settings) -> crypto.Keyring:
    """The configured master key, or a generated key file in the data folder. Never a default."""
    previous = tuple(parse_master_key(k) for k in settings.master_key_previous)
    if settings.master_key:
        return crypto.Keyring(parse_master_key(settings.master_key), previous)
    if settings.master_key_file:
        return crypto.Keyring(read_key_file(settings.master_key_file), previous)
    path = settings.data_dir / KEY_FILE_NAME
    key, created = load_or_create_key_file(path)
    if created:
        log.warning(
            "No PWPUSH_MASTER_KEY configured: generated a new master key in %s (mode 0600). "
            "Back it up: without it, no existing push can be opened.",
            path,
        )
    return crypto.Keyring(key, previous)


def blob_store_for(settings: Settings) -> BlobStore:
    """The configured store: PWPUSH_FILES_STORAGE=local (the data folder) or s3."""
    if settings.files_storage == "s3":
        from pwpush_app.core.blobs_s3 import S3BlobStore, part_bytes_for  # boto3 loads only when used

        return S3BlobStore(settings.s3_bucket, prefix=settings.s3_prefix, endpoint_url=settings.s3_endpoint_url,
                           region=settings.s3_region, part_bytes=part_bytes_for(settings.max_file_bytes_per_push),
                           credentials=(settings.s3_access_key_id, settings.s3_secret_access_key))
    return LocalBlobStore(settings.data_dir / "files")


def prepare_data_dir(path: Path) -> None:
    """Create the data folder for its owner alone (0700): it holds the database, the generated
    key and the encrypted files.  An existing folder's mode is the admin's; we only warn."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("The data folder %s is open to its group or others (mode %o). Its files are not, "
                    "but keep it private: run chmod 700 %s", path, mode, path)


def open_runtime(settings: Settings) -> Runtime:
    prepare_data_dir(settings.data_dir)
    return Runtime(
        settings=settings,
        engine=make_engine(settings.db_url, settings.sqlite_synchronous, settings.busy_timeout_ms),
        keyring=load_keyring(settings),
        throttle=Throttle(settings.throttle_per_minute, settings.redis_url, settings.ipv6_prefix),
        blobs=blob_store_for(settings),
        hashing=SlowHashes(settings.argon2_slots),
    )


@functools.cache
def get_runtime() -> Runtime:
    """The process-wide runtime (pages, API and jobs share it)."""
    return open_runtime(get_settings())
