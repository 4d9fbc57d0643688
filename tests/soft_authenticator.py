"""A software WebAuthn authenticator for the core and API tests (the browser tests use
Chromium's own virtual authenticator): P-256 keys, "none" attestation, a signature counter,
and the JSON a browser's PublicKeyCredential.toJSON() gives, built from the server's options
as a browser would (clientDataJSON names the page's origin, the authenticator data the RP
id's SHA-256)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass, field

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, AT = 0x01, 0x04, 0x40


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Credential:
    id: bytes
    key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    count: int = 0


@dataclass
class SoftAuthenticator:
    origin: str = "http://localhost:3000"
    user_verified: bool = True
    # Some authenticators keep no counter (always 0).
    counts: bool = True
    credentials: list[Credential] = field(default_factory=list)

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin or self.origin,
                           "crossOrigin": False}).encode()

    def _flags(self, extra: int = 0) -> bytes:
        return bytes([UP | (UV if self.user_verified else 0) | extra])

    def create(self, options_json: str, origin: str | None = None) -> dict:
        options = json.loads(options_json)
        key = ec.generate_private_key(ec.SECP256R1())
        numbers = key.public_key().public_numbers()
        cose = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})
        cred = Credential(id=os.urandom(16), key=key, rp_id=options["rp"]["id"], user_handle=unb64u(options["user"]["id"]))
        self.credentials.append(cred)
        auth_data = (hashlib.sha256(cred.rp_id.encode()).digest() + self._flags(AT) + (0).to_bytes(4, "big")
                     + bytes(16) + len(cred.id).to_bytes(2, "big") + cred.id + cose)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {"id": b64u(cred.id), "rawId": b64u(cred.id), "type": "public-key", "clientExtensionResults": {},
                "response": {"clientDataJSON": b64u(self._client_data("webauthn.create", options["challenge"], origin)),
                             "attestationObject": b64u(attestation), "transports": ["internal"]}}

    def get(self, options_json: str, credential: Credential | None = None, origin: str | None = None,
            rp_id: str | None = None) -> dict:
        options = json.loads(options_json)
        cred = credential or self.credentials[-1]
        if self.counts:
            cred.count += 1
        auth_data = hashlib.sha256((rp_id or options["rpId"]).encode()).digest() + self._flags() + cred.count.to_bytes(4, "big")
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = cred.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return {"id": b64u(cred.id), "rawId": b64u(cred.id), "type": "public-key", "clientExtensionResults": {},
                "response": {"clientDataJSON": b64u(client_data), "authenticatorData": b64u(auth_data),
                             "signature": b64u(signature), "userHandle": b64u(cred.user_handle)}}
