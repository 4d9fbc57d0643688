"""End-to-end file pushes (issue 20): the format a browser or client encrypts each file into.

The sender's browser (assets/components/e2e_files.js) or the reference client
(pwpush_app/e2e_client.py) encrypts every file, its name and content type included, under
the same key as the push's text envelope (core/e2e.py: the fragment's 32 bytes, or with a
passphrase HKDF of them and PBKDF2 of the passphrase).  The server stores the result as an
opaque blob (sealed at rest like every file) named `encrypted-<n>`, and checks only its head
(`check_head`).  Layout (docs/api.md, "End-to-end files"):

    magic "PWE2EF" 00 01                                     8 bytes
    flags: 00 the link's key alone, 01 with a passphrase     1 byte
    (flags 01) PBKDF2 iterations, big-endian; salt           4 + 16 bytes
    nonce prefix, random per file                            8 bytes
    records: AES-256-GCM, each with its 16-byte tag
        record 0: the metadata, 1,024 bytes of UTF-8 JSON {"name": ..., "type": ...} padded with spaces
        records 1..n: the content in 1 MiB pieces (the last one 1 byte .. 1 MiB)

Record i's IV is prefix || i (4 bytes, big-endian); its associated data is
"pwpush-e2e-file-v1" || the header above || i (4 bytes) || 01 for the last record, else 00.
So a changed header, records swapped, dropped or repeated, and a file cut short (even at a
record's end) all fail to open.  The metadata's fixed size hides the name's length.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass
from typing import Iterable, Iterator

from pwpush_app.core import crypto, e2e
from pwpush_app.core.i18n import N_, said

MAGIC = b"PWE2EF\x00\x01"
FILE_AD = b"pwpush-e2e-file-v1"
CHUNK_BYTES = 1024 * 1024
META_BYTES = 1024
PREFIX_BYTES = 8
TAG = e2e.TAG_BYTES
PLAIN_FLAGS, PASSPHRASE_FLAGS = 0, 1
# The longest head there is (with a passphrase): what the server keeps of each upload to check.
HEAD_BYTES = len(MAGIC) + 1 + 4 + e2e.SALT_BYTES + PREFIX_BYTES
# An encrypted file's stored name and type: the real ones are inside.
STORED_CONTENT_TYPE = "application/octet-stream"

NOT_ENCRYPTED = N_("An end-to-end file push's files must be encrypted in the end-to-end file format "
                   "(docs/api.md, \"End-to-end files\"): {detail}")


def _not_encrypted(detail: str) -> e2e.BadEnvelope:
    return e2e.BadEnvelope(said(NOT_ENCRYPTED, detail=detail))


def stored_name(position: int) -> str:
    return f"encrypted-{position + 1}"


@dataclass(frozen=True)
class Head:
    header: bytes
    salt: bytes | None
    iterations: int | None

    @property
    def has_passphrase(self) -> bool:
        return self.salt is not None


def parse_head(data: bytes) -> Head:
    """The header at the start of `data`, or BadEnvelope saying what is wrong."""
    if data[: len(MAGIC)] != MAGIC:
        raise _not_encrypted("it does not start with the format's mark.")
    flags = data[len(MAGIC): len(MAGIC) + 1]
    if flags == bytes([PLAIN_FLAGS]):
        size, salt, iterations = len(MAGIC) + 1 + PREFIX_BYTES, None, None
    elif flags == bytes([PASSPHRASE_FLAGS]):
        size = HEAD_BYTES
        start = len(MAGIC) + 1
        iterations = struct.unpack(">I", data[start: start + 4])[0] if len(data) >= start + 4 else 0
        salt = data[start + 4: start + 4 + e2e.SALT_BYTES]
        if not e2e.MIN_ITERATIONS <= iterations <= e2e.MAX_ITERATIONS:
            raise _not_encrypted(f"iterations from {e2e.MIN_ITERATIONS:,} to {e2e.MAX_ITERATIONS:,}.")
    else:
        raise _not_encrypted("flags 0 or 1 only.")
    if len(data) < size:
        raise _not_encrypted("the header is cut short.")
    return Head(bytes(data[:size]), salt, iterations)


def check_head(head: bytes, size: int) -> Head:
    """The server's whole check of an uploaded file: its first bytes and its size."""
    parsed = parse_head(head)
    if size < len(parsed.header) + META_BYTES + TAG:
        raise _not_encrypted("it is too short to hold even the file's name.")
    return parsed


def _ad(header: bytes, index: int, last: bool) -> bytes:
    return FILE_AD + header + struct.pack(">I", index) + (b"\x01" if last else b"\x00")


def _iv(header: bytes, index: int) -> bytes:
    return header[-PREFIX_BYTES:] + struct.pack(">I", index)


def _metadata(name: str, content_type: str) -> bytes:
    """The name and type as JSON padded to META_BYTES (a very long name is shortened to fit)."""
    while True:
        text = json.dumps({"name": name, "type": content_type}, ensure_ascii=False).encode("utf-8")
        if len(text) <= META_BYTES:
            return text + b" " * (META_BYTES - len(text))
        name = name[: max(0, len(name) - max(1, (len(text) - META_BYTES) // 4))]


def new_header(salt: bytes | None, iterations: int | None) -> bytes:
    if salt is None:
        return MAGIC + bytes([PLAIN_FLAGS]) + os.urandom(PREFIX_BYTES)
    return MAGIC + bytes([PASSPHRASE_FLAGS]) + struct.pack(">I", iterations) + salt + os.urandom(PREFIX_BYTES)


def encrypt_file(aes_key: bytes, salt: bytes | None, iterations: int | None, name: str, content_type: str,
                 chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The encrypted file, piece by piece (`aes_key` from e2e.derive_key with this salt)."""
    header = new_header(salt, iterations)
    yield header
    index, pending = 0, [_metadata(name, content_type)]
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        while len(buffer) > CHUNK_BYTES or (pending and buffer):
            # A record goes once something follows it: only then is it known not to be the last.
            if pending:
                plain = pending.pop()
            else:
                plain, buffer = bytes(buffer[:CHUNK_BYTES]), buffer[CHUNK_BYTES:]
            yield crypto.aes_gcm_seal(aes_key, _iv(header, index), plain, _ad(header, index, False))
            index += 1
    last = pending.pop() if pending else bytes(buffer)
    yield crypto.aes_gcm_seal(aes_key, _iv(header, index), last, _ad(header, index, True))


@dataclass
class OpenedFile:
    name: str
    content_type: str
    chunks: Iterator[bytes]


class _Reader:
    def __init__(self, chunks: Iterable[bytes]):
        self._chunks = iter(chunks)
        self._buffer = bytearray()

    def has(self, size: int) -> bool:
        while len(self._buffer) < size:
            piece = next(self._chunks, None)
            if piece is None:
                return False
            self._buffer += piece
        return True

    def peek(self) -> bytes:
        return bytes(self._buffer)

    def take(self, size: int) -> bytes:
        self.has(size)
        taken, self._buffer = bytes(self._buffer[:size]), self._buffer[size:]
        return taken


def open_file(chunks: Iterable[bytes], fragment_key: str, passphrase: str = "", keys: dict | None = None) -> OpenedFile:
    """Decrypt an end-to-end file as it streams: its name and type now, its content as
    `chunks` (crypto.DecryptionError for a wrong key or passphrase or an altered file).
    `keys`: a cache of derived keys across the files of one push (one PBKDF2 for all)."""
    raw = e2e.unb64u(fragment_key)
    if len(raw) != e2e.KEY_BYTES:
        raise e2e.BadEnvelope("The key after '#' in the link must be 32 bytes, base64url.")
    reader = _Reader(chunks)
    reader.has(HEAD_BYTES)
    head = parse_head(reader.peek())
    reader.take(len(head.header))
    cache = keys if keys is not None else {}
    slot = (head.salt, head.iterations)
    if slot not in cache:
        cache[slot] = e2e.derive_key(raw, head.salt, head.iterations, passphrase)
    aes_key = cache[slot]

    def record(index: int, full: int) -> tuple[bytes, bool]:
        last = not reader.has(full + 1)
        sealed = reader.take(full)
        if len(sealed) < TAG + (0 if index == 0 else 1) or (index == 0 and len(sealed) != full):
            raise crypto.DecryptionError("the file is cut short")
        return crypto.aes_gcm_open(aes_key, _iv(head.header, index), sealed, _ad(head.header, index, last)), last

    meta, last = record(0, META_BYTES + TAG)
    try:
        fields = json.loads(meta.decode("utf-8"))
        name, content_type = str(fields["name"]), str(fields["type"])
    except (ValueError, KeyError, TypeError):
        raise crypto.DecryptionError("the file's name and type are not readable") from None

    def content() -> Iterator[bytes]:
        index, done = 1, last
        while not done:
            plain, done = record(index, CHUNK_BYTES + TAG)
            index += 1
            yield plain

    return OpenedFile(name, content_type, content())


def encrypted_size(size: int) -> int:
    """The size of a `size`-byte file once encrypted without a passphrase (a passphrase adds 20 bytes)."""
    records = -(-size // CHUNK_BYTES)
    return len(MAGIC) + 1 + PREFIX_BYTES + META_BYTES + TAG + size + records * TAG
