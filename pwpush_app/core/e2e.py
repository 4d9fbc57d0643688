"""End-to-end pushes (issue 20): the envelope a browser or client encrypts the secret into.

The sender's browser (assets/components/e2e.js) or a client (pwpush_app/e2e_client.py)
encrypts the text with AES-256-GCM under a random 256-bit key that travels only in the
link's fragment (`#<key>`, base64url); the server stores and serves only the envelope (and
seals it at rest like any payload).  With a passphrase, the AES key is
HKDF-SHA-256(fragment key || PBKDF2-SHA-256(passphrase, salt, iterations), salt,
"pwpush-e2e-v1"), so the link alone opens nothing; the server never sees the passphrase.

The envelope is compact JSON (docs/api.md), every binary field base64url without padding:

    {"v":1,"alg":"A256GCM","iv":"<12 bytes>","ct":"<ciphertext and 16-byte tag>"}
    {"v":1,"alg":"A256GCM","kdf":"PBKDF2-SHA256","iter":600000,"salt":"<16 bytes>","iv":...,"ct":...}

The associated data is "pwpush-e2e-v1".  The server checks only the shape
(`check_envelope`); `encrypt`/`decrypt` are for the reference client and the tests.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from dataclasses import dataclass

from pwpush_app.core import crypto
from pwpush_app.core.i18n import N_, said

VERSION = 1
ALGORITHM = "A256GCM"
KDF = "PBKDF2-SHA256"
ITERATIONS = 600_000
# A sender may choose more (never fewer than OWASP's floor): the recipient's browser pays
# for them, so there is a ceiling too.
MIN_ITERATIONS, MAX_ITERATIONS = 600_000, 5_000_000
AD = b"pwpush-e2e-v1"
KEY_BYTES, IV_BYTES, SALT_BYTES, TAG_BYTES = 32, 12, 16, 16
_B64U = re.compile(r"[A-Za-z0-9_-]*")
_PLAIN_KEYS = {"v", "alg", "iv", "ct"}
_KDF_KEYS = _PLAIN_KEYS | {"kdf", "iter", "salt"}

# The sentence is translated; its detail names fields and formats, as the protocol writes them.
NOT_AN_ENVELOPE = N_("An end-to-end push's payload must be the envelope the browser or client encrypted "
                     "(docs/api.md, \"End-to-end pushes\"): {detail}")


# The link of an end-to-end push without its key opens nothing: its owner's copies (the
# dashboard, the manage and print pages) are not offered.
LINK_NOT_KEPT = N_("This push is end-to-end encrypted: its key is only in the link copied when it was made; "
                   "this site cannot give it again.")


class BadEnvelope(ValueError):
    """What is wrong with an envelope, in words for the sender."""


def _not_an_envelope(detail: str) -> BadEnvelope:
    return BadEnvelope(said(NOT_AN_ENVELOPE, detail=detail))


@dataclass(frozen=True)
class Envelope:
    iv: bytes
    ciphertext: bytes
    salt: bytes | None = None
    iterations: int | None = None

    @property
    def has_passphrase(self) -> bool:
        return self.salt is not None


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64u(text: str) -> bytes:
    if not isinstance(text, str) or not _B64U.fullmatch(text) or len(text) % 4 == 1:
        raise BadEnvelope("a field is not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise BadEnvelope("a field is not base64url") from None


def check_envelope(text) -> Envelope:
    """The envelope in `text`, or BadEnvelope saying what is wrong (the server's whole check)."""
    try:
        data = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise _not_an_envelope("this is not a JSON object.")
    if data.get("v") != VERSION or data.get("alg") != ALGORITHM:
        raise _not_an_envelope(f"version 1 with alg \"{ALGORITHM}\" only.")
    keys = set(data)
    if keys not in (_PLAIN_KEYS, _KDF_KEYS):
        raise _not_an_envelope("fields v, alg, iv, ct (and kdf, iter, salt with a passphrase), no others.")
    try:
        iv, ciphertext = unb64u(data["iv"]), unb64u(data["ct"])
        salt = unb64u(data["salt"]) if "salt" in data else None
    except BadEnvelope as bad:
        raise _not_an_envelope(f"{bad}.") from None
    if len(iv) != IV_BYTES or len(ciphertext) < TAG_BYTES + 1:
        raise _not_an_envelope(f"iv is {IV_BYTES} bytes and ct holds at least the 16-byte tag and one byte.")
    if salt is None:
        return Envelope(iv, ciphertext)
    iterations = data["iter"]
    if data["kdf"] != KDF or len(salt) != SALT_BYTES:
        raise _not_an_envelope(f"kdf \"{KDF}\" with a {SALT_BYTES}-byte salt.")
    if not isinstance(iterations, int) or isinstance(iterations, bool) or not MIN_ITERATIONS <= iterations <= MAX_ITERATIONS:
        raise _not_an_envelope(f"iter from {MIN_ITERATIONS:,} to {MAX_ITERATIONS:,}.")
    return Envelope(iv, ciphertext, salt, iterations)


def _aes_key(key: bytes, envelope: Envelope, passphrase: str | None) -> bytes:
    return derive_key(key, envelope.salt, envelope.iterations, passphrase)


def derive_key(key: bytes, salt: bytes | None, iterations: int | None, passphrase: str | None) -> bytes:
    """The AES key: the fragment's key itself, or with a passphrase (a salt) HKDF of it and
    PBKDF2 of the passphrase (the text envelope and the file format alike)."""
    if salt is None:
        return key
    stretched = crypto.pbkdf2_sha256((passphrase or "").strip().encode("utf-8"), salt, iterations)
    return crypto.hkdf_sha256(key + stretched, salt, AD)


def encrypt(text: str, passphrase: str = "", iterations: int = ITERATIONS) -> tuple[str, str]:
    """(envelope, fragment key): what a client sends as the payload, and what goes after '#'."""
    key = os.urandom(KEY_BYTES)
    passphrase = passphrase.strip()
    salt = os.urandom(SALT_BYTES) if passphrase else None
    iterations = iterations if passphrase else None
    return encrypt_with(derive_key(key, salt, iterations, passphrase), salt, iterations, text), b64u(key)


def encrypt_with(aes_key: bytes, salt: bytes | None, iterations: int | None, text: str) -> str:
    """The envelope of `text` under a key already derived (a file push's message beside its files)."""
    iv = os.urandom(IV_BYTES)
    ciphertext = crypto.aes_gcm_seal(aes_key, iv, text.encode("utf-8"), AD)
    fields = {"v": VERSION, "alg": ALGORITHM}
    if salt is not None:
        fields.update(kdf=KDF, iter=iterations, salt=b64u(salt))
    fields.update(iv=b64u(iv), ct=b64u(ciphertext))
    return json.dumps(fields, separators=(",", ":"))


def decrypt(envelope_text: str, fragment_key: str, passphrase: str = "") -> str:
    """The text in an envelope; crypto.DecryptionError for a wrong key or passphrase."""
    envelope = check_envelope(envelope_text)
    key = unb64u(fragment_key)
    if len(key) != KEY_BYTES:
        raise BadEnvelope("The key after '#' in the link must be 32 bytes, base64url.")
    plain = crypto.aes_gcm_open(_aes_key(key, envelope, passphrase), envelope.iv, envelope.ciphertext, AD)
    return plain.decode("utf-8")
