"""The master key as an administrator handles it: its text form and its file.

A master key is 32 random bytes written as 64 hex digits or base64(url) (44 characters),
in `PWPUSH_MASTER_KEY`, in a file named by `PWPUSH_MASTER_KEY_FILE`, or generated on first
start into the data folder.  A key file must be readable by the service's user alone.
Below the settings (which check the text at start) and core (which builds the keyring from
the bytes); no cryptography here, only the format and the file.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import stat
from pathlib import Path


class MasterKeyError(ValueError):
    """A master key is missing, malformed, unknown, or in a file others may read."""


def parse_master_key(text: str) -> bytes:
    """A master key is 32 random bytes written as 64 hex digits or base64(url)."""
    text = text.strip()
    candidates = []
    if len(text) == 64:
        try:
            candidates.append(bytes.fromhex(text))
        except ValueError:
            pass
    for decode in (base64.urlsafe_b64decode, base64.b64decode):
        try:
            candidates.append(decode(text + "=" * (-len(text) % 4)))
        except (binascii.Error, ValueError):
            pass
    for key in candidates:
        if len(key) == 32:
            return key
    raise MasterKeyError("a master key must be 32 random bytes, as 64 hex digits or base64 (44 characters)")


def generate_master_key_text() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def check_key_file_mode(path: Path) -> None:
    """Refuse a key file its group or others may read or change (whoever can read it can open
    every push in a copy of the database; whoever can change it can swap the key)."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise MasterKeyError(f"{path} is open to its group or others (mode {mode:o}); the master key must be "
                        f"readable by the service's user only: run chmod 600 {path}")


def read_key_file(path: Path) -> bytes:
    """The master key from a key file readable by its owner only (configured or generated)."""
    check_key_file_mode(path)
    return parse_master_key(path.read_text())


def load_or_create_key_file(path: Path) -> tuple[bytes, bool]:
    """Read the generated key file, or create it (mode 0600). Returns (key, created)."""
    if path.exists():
        check_key_file_mode(path)
        try:
            return parse_master_key(path.read_text()), False
        except MasterKeyError as error:
            raise MasterKeyError(f"{path}: {error} (restore it from your backup)") from None
    # The data folder holds the key, the database and the files: its owner's alone.
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    text = generate_master_key_text()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")
        f.flush()
        os.fsync(f.fileno())
    try:
        # link() fails if another worker won the race: then everyone uses the winner's key.
        os.link(tmp, path)
    except FileExistsError:
        return parse_master_key(path.read_text()), False
    finally:
        tmp.unlink()
    return parse_master_key(text), True
