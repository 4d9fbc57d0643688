"""The only module that touches ``cryptography``: a small API that cannot be misused.

Envelope encryption.  Each push gets its own random 256-bit data key; every field of the
push (payload, note, file names, file chunks, the owner's copy of the link) is sealed
under that data key with AES-256-GCM, a random 96-bit nonce and associated data naming the
push and the field, so a ciphertext moved to another row or field fails to open.  The data
key itself is wrapped under the master key; the wrapped blob records the master key's id,
so rotating the master key re-wraps 32-byte keys, not megabytes of files.

Link tokens are looked up by HMAC-SHA256 under a subkey of the master key: a copy of the
database alone yields no working link.  Passphrases and account passwords are Argon2id
hashes (OWASP parameters), verified in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from typing import Iterable, Iterator

from cryptography.exceptions import InvalidKey, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

_FORMAT_VERSION = b"\x01"
_NONCE_BYTES = 12
_KEY_ID_BYTES = 4
TOKEN_BYTES = 16  # 128 bits, from `secrets`

# OWASP's recommended Argon2id parameters (m=19 MiB, t=2, p=1).
_ARGON2_MEMORY_KIB = 19456
_ARGON2_ITERATIONS = 2
_ARGON2_LANES = 1


class DecryptionError(Exception):
    """A ciphertext failed to open: wrong key, wrong context or tampered bytes."""


def _key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"pwpush key id\x00" + key).digest()[:_KEY_ID_BYTES]


def _subkey(key: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"pwpush " + purpose).derive(key)


@dataclass(frozen=True, repr=False)  # never print key bytes
class _MasterKey:
    key_id: bytes
    wrap_key: bytes
    lookup_key: bytes
    receipt_key: bytes


class Keyring:
    """The current master key and earlier ones still accepted for reading."""

    def __init__(self, current: bytes, previous: tuple[bytes, ...] = ()):
        keys = [current, *[k for k in previous if k != current]]
        self._keys = [
            _MasterKey(_key_id(k), _subkey(k, b"wrap data keys"), _subkey(k, b"link lookup"), _subkey(k, b"receipts"))
            for k in keys
        ]
        self._by_id = {k.key_id: k for k in self._keys}

    @property
    def current_key_id(self) -> str:
        return self._keys[0].key_id.hex()

    @property
    def key_ids(self) -> list[str]:
        return [k.key_id.hex() for k in self._keys]

    # -- data keys ------------------------------------------------------------------------
    def new_data_key(self, push_id: str) -> tuple["DataKey", bytes]:
        """A fresh data key for a push, and the key wrapped for storage."""
        raw = AESGCM.generate_key(bit_length=256)
        return DataKey(raw), self._wrap(raw, push_id)

    def open_data_key(self, push_id: str, wrapped: bytes) -> "DataKey":
        if not wrapped or wrapped[:1] != _FORMAT_VERSION or len(wrapped) < 1 + _KEY_ID_BYTES + _NONCE_BYTES:
            raise DecryptionError("not a wrapped data key")
        key_id = wrapped[1 : 1 + _KEY_ID_BYTES]
        master = self._by_id.get(key_id)
        if master is None:
            raise DecryptionError(f"data key was wrapped under master key {key_id.hex()}, which is not configured")
        nonce = wrapped[1 + _KEY_ID_BYTES : 1 + _KEY_ID_BYTES + _NONCE_BYTES]
        try:
            raw = AESGCM(master.wrap_key).decrypt(nonce, wrapped[1 + _KEY_ID_BYTES + _NONCE_BYTES :], _ad(push_id, "data key"))
        except InvalidTag:
            raise DecryptionError("wrapped data key failed to open") from None
        return DataKey(raw)

    def wrapped_key_id(self, wrapped: bytes) -> str:
        return wrapped[1 : 1 + _KEY_ID_BYTES].hex()

    def rewrap(self, push_id: str, wrapped: bytes) -> bytes:
        """The same data key, wrapped under the current master key."""
        return self._wrap(self.open_data_key(push_id, wrapped)._raw, push_id)

    def _wrap(self, raw: bytes, push_id: str) -> bytes:
        master = self._keys[0]
        nonce = os.urandom(_NONCE_BYTES)
        return _FORMAT_VERSION + master.key_id + nonce + AESGCM(master.wrap_key).encrypt(nonce, raw, _ad(push_id, "data key"))

    # -- link tokens ----------------------------------------------------------------------
    def token_digest(self, token: str) -> str:
        """The lookup hash stored for a new token (under the current key)."""
        return _hmac_hex(self._keys[0].lookup_key, token)

    def token_digests(self, token: str) -> list[str]:
        """Every hash a stored token may have been filed under (current and earlier keys)."""
        return [_hmac_hex(k.lookup_key, token) for k in self._keys]


    # -- receipts ---------------------------------------------------------------------------
    def receipt(self, purpose: str, subject: str) -> str:
        """Proof that the server let someone do `purpose` to `subject` (e.g. a viewer who
        gave the passphrase may delete that push): unforgeable without the master key."""
        return _hmac_hex(self._keys[0].receipt_key, f"{purpose}\x00{subject}")

    def check_receipt(self, receipt: str, purpose: str, subject: str) -> bool:
        if not isinstance(receipt, str) or len(receipt) != 64:
            return False
        return any(
            hmac.compare_digest(receipt, _hmac_hex(k.receipt_key, f"{purpose}\x00{subject}")) for k in self._keys
        )


def _hmac_hex(key: bytes, token: str) -> str:
    return hmac.new(key, token.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def _ad(push_id: str, field: str) -> bytes:
    return f"pwpush\x00{push_id}\x00{field}".encode()


class DataKey:
    """A push's own key. Seal and open fields of that push; the nonce is never yours to pick."""

    __slots__ = ("_raw", "_aead")

    def __init__(self, raw: bytes):
        self._raw = raw
        self._aead = AESGCM(raw)

    def __repr__(self) -> str:  # never print key bytes
        return "DataKey(<hidden>)"

    def seal(self, push_id: str, field: str, plaintext: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return _FORMAT_VERSION + nonce + self._aead.encrypt(nonce, plaintext, _ad(push_id, field))

    def open(self, push_id: str, field: str, sealed: bytes) -> bytes:
        if not sealed or sealed[:1] != _FORMAT_VERSION or len(sealed) < 1 + _NONCE_BYTES + 16:
            raise DecryptionError(f"{field}: not a sealed value")
        try:
            return self._aead.decrypt(sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :], _ad(push_id, field))
        except InvalidTag:
            raise DecryptionError(f"{field} failed to open") from None

    def seal_text(self, push_id: str, field: str, text: str) -> bytes:
        return self.seal(push_id, field, text.encode("utf-8"))

    def open_text(self, push_id: str, field: str, sealed: bytes) -> str:
        return self.open(push_id, field, sealed).decode("utf-8")

    # -- streams (file contents) ------------------------------------------------------------
    def stream_sealer(self, push_id: str, field: str) -> "StreamSealer":
        """Push-style sealing: `update(bytes) -> sealed bytes`, then `finish()`."""
        return StreamSealer(self._aead, push_id, field)

    def stream_opener(self, push_id: str, field: str) -> "StreamOpener":
        """Push-style opening: `update(sealed bytes) -> plaintext`, then `finish()`."""
        return StreamOpener(self._aead, push_id, field)

    def seal_stream(self, push_id: str, field: str, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """Seal plaintext chunks of any size as they come; yields the sealed stream's bytes."""
        sealer = self.stream_sealer(push_id, field)
        for chunk in chunks:
            sealed = sealer.update(chunk)
            if sealed:
                yield sealed
        yield sealer.finish()

    def open_stream(self, push_id: str, field: str, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """Open a sealed stream given in chunks of any size; yields plaintext, chunk by chunk.

        Every chunk yielded is authentic and in its place.  Truncation is detected at the
        end: the stream is complete only if this generator finishes without raising
        DecryptionError, so a caller streaming to a client must abort (not end cleanly)
        on an error.
        """
        opener = self.stream_opener(push_id, field)
        for chunk in chunks:
            plain = opener.update(chunk)
            if plain:
                yield plain
        last = opener.finish()
        if last:
            yield last


# --- streams: chunked AEAD for file contents ---------------------------------------------------
#
# Format: one version byte, then records.  Each record is nonce (12) + AES-256-GCM of up to
# STREAM_CHUNK_BYTES of plaintext + tag (16); every record but the last holds a full chunk.
# Each record's associated data names the push, the field (e.g. "file 3"), the record's
# number and whether it is the last one, so reordered, dropped, duplicated or truncated
# records, a stream moved to another push or file, and a stream cut at a record boundary
# all fail to open.  An empty plaintext is one empty final record.
#
# Nonces are random per record: a push holds at most a few thousand records under its own
# data key, far below the 2**32 messages that random 96-bit nonces allow per key.

STREAM_CHUNK_BYTES = 64 * 1024
_STREAM_VERSION = b"\x02"
_TAG_BYTES = 16
_RECORD_OVERHEAD = _NONCE_BYTES + _TAG_BYTES
_RECORD_BYTES = STREAM_CHUNK_BYTES + _RECORD_OVERHEAD


def sealed_stream_size(plaintext_size: int) -> int:
    """The exact size of a sealed stream of `plaintext_size` bytes (a cheap truncation check)."""
    records = max(1, -(-plaintext_size // STREAM_CHUNK_BYTES))
    return len(_STREAM_VERSION) + plaintext_size + records * _RECORD_OVERHEAD


def _record_ad(push_id: str, field: str, number: int, final: bool) -> bytes:
    return _ad(push_id, field) + b"\x00stream" + _STREAM_VERSION + number.to_bytes(8, "big") + (b"\x01" if final else b"\x00")


class _RecordStream:
    """What sealing and opening share: fixed-size records, numbered, the last one flagged.

    A full record is processed only once more data follows: the last record carries the
    final flag, and no record is known to be last until the stream ends."""

    __slots__ = ("_aead", "_push_id", "_field", "_pending", "_number", "_started")

    def __init__(self, aead: AESGCM, push_id: str, field: str):
        self._aead = aead
        self._push_id = push_id
        self._field = field
        self._pending = bytearray()
        self._number = 0
        self._started = False

    def _records(self, view: memoryview, size: int, process) -> list[bytes]:
        # Records are joined once by the caller: growing a bytearray past a few hundred KiB
        # and copying it out made sealing a 1 MiB piece 4 times slower than the cipher.
        out: list[bytes] = []
        position = 0
        while position < len(view):
            if len(self._pending) == size:
                out.append(process(final=False))
            take = min(size - len(self._pending), len(view) - position)
            self._pending += view[position : position + take]
            position += take
        return out

    def _next_ad(self, final: bool) -> bytes:
        return _record_ad(self._push_id, self._field, self._number, final)


class StreamSealer(_RecordStream):
    """Seals a stream record by record; holds at most one chunk of plaintext."""

    __slots__ = ("_finished",)

    def __init__(self, aead: AESGCM, push_id: str, field: str):
        super().__init__(aead, push_id, field)
        self._finished = False

    def update(self, data: bytes) -> bytes:
        if self._finished:
            raise ValueError("the stream is already finished")
        head = [] if self._started else [_STREAM_VERSION]
        self._started = True
        return b"".join(head + self._records(memoryview(data), STREAM_CHUNK_BYTES, self._seal))

    def finish(self) -> bytes:
        if self._finished:
            raise ValueError("the stream is already finished")
        head = b"" if self._started else _STREAM_VERSION
        self._started = True
        sealed = head + self._seal(final=True)
        self._finished = True
        return sealed

    def _seal(self, final: bool) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = nonce + self._aead.encrypt(nonce, bytes(self._pending), self._next_ad(final))
        self._pending.clear()
        self._number += 1
        return sealed


class StreamOpener(_RecordStream):
    """Opens a sealed stream record by record; refuses everything after a failure."""

    __slots__ = ("_state",)

    def __init__(self, aead: AESGCM, push_id: str, field: str):
        super().__init__(aead, push_id, field)
        self._state = "open"  # open | finished | failed

    def update(self, data: bytes) -> bytes:
        self._check_open()
        view = memoryview(data)
        if not self._started and len(view):
            if view[:1] != _STREAM_VERSION:
                self._fail("not a sealed stream")
            view = view[1:]
            self._started = True
        return b"".join(self._records(view, _RECORD_BYTES, self._open))

    def finish(self) -> bytes:
        self._check_open()
        if not self._started or len(self._pending) < _RECORD_OVERHEAD:
            self._fail("stream is truncated")
        plain = self._open(final=True)
        self._state = "finished"
        return plain

    def _open(self, final: bool) -> bytes:
        record = bytes(self._pending)
        try:
            plain = self._aead.decrypt(record[:_NONCE_BYTES], record[_NONCE_BYTES:], self._next_ad(final))
        except InvalidTag:
            plain = None
        if plain is None:
            self._fail(f"record {self._number} failed to open (tampered, reordered, truncated or moved)")
        self._pending.clear()
        self._number += 1
        return plain

    def _check_open(self) -> None:
        if self._state != "open":
            raise DecryptionError(f"{self._field}: the stream is {self._state}")

    def _fail(self, reason: str):
        self._state = "failed"
        self._pending.clear()
        raise DecryptionError(f"{self._field}: {reason}")


# --- tokens --------------------------------------------------------------------------------

def new_token() -> str:
    """A link token: 128 random bits, URL-safe (22 characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_id() -> str:
    """A row id: random, so ids leak nothing about volume or order."""
    return secrets.token_hex(16)


def could_be_id(value) -> bool:
    """Whether `value` could name a row: text of 1 to 32 characters with no control character.
    Anything else names none and is never looked up (PostgreSQL refuses a NUL in a query)."""
    return isinstance(value, str) and 0 < len(value) <= 32 and value.isprintable()


def plain_digest(text: str) -> str:
    """SHA-256 for high-entropy secrets we only compare (session and API tokens)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# --- passwords and passphrases ---------------------------------------------------------------

def hash_password(password: str) -> str:
    """An Argon2id hash in PHC string form (salt and parameters inside)."""
    kdf = Argon2id(
        salt=os.urandom(16),
        length=32,
        iterations=_ARGON2_ITERATIONS,
        lanes=_ARGON2_LANES,
        memory_cost=_ARGON2_MEMORY_KIB,
    )
    return kdf.derive_phc_encoded(password.encode("utf-8", "surrogatepass"))


def verify_password(password: str, phc_hash: str) -> bool:
    """Constant-time comparison inside the library; False on any mismatch or bad hash."""
    try:
        Argon2id.verify_phc_encoded(password.encode("utf-8", "surrogatepass"), phc_hash)
    except (InvalidKey, ValueError):
        return False
    return True


def constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


# --- end-to-end pushes' primitives (core/e2e.py holds the envelope; used by the reference
# client, never by the server, which only checks an envelope's shape) -----------------------


def aes_gcm_seal(key: bytes, iv: bytes, plaintext: bytes, ad: bytes) -> bytes:
    return AESGCM(key).encrypt(iv, plaintext, ad)


def aes_gcm_open(key: bytes, iv: bytes, ciphertext: bytes, ad: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(iv, ciphertext, ad)
    except InvalidTag:
        raise DecryptionError("wrong key or passphrase, or altered ciphertext") from None


def pbkdf2_sha256(secret: bytes, salt: bytes, iterations: int) -> bytes:
    return PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=iterations).derive(secret)


def hkdf_sha256(material: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(material)
