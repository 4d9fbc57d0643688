"""End-to-end file pushes (issue 20): the file format (core/e2e_files.py) round trip and its
tamper checks, and the API's door: it takes only files in the format, stores them as opaque
blobs named `encrypted-<n>`, and refuses anything else with 422, storing nothing."""

from __future__ import annotations

import os
import struct

import pytest
from sqlmodel import Session, select

from pwpush_app.core import crypto, e2e, e2e_files
from pwpush_app.core.models import Push, PushFile

CHUNK = e2e_files.CHUNK_BYTES
CANARY = b"canary-" + os.urandom(8).hex().encode()


def _key(passphrase: str = ""):
    raw = os.urandom(32)
    salt = os.urandom(16) if passphrase else None
    iterations = e2e.ITERATIONS if passphrase else None
    return raw, e2e.derive_key(raw, salt, iterations, passphrase), salt, iterations


def _sealed(data: bytes, name: str = "report.pdf", passphrase: str = "", piece: int = 70_000) -> tuple[bytes, str]:
    raw, aes, salt, iterations = _key(passphrase)
    pieces = [data[i: i + piece] for i in range(0, len(data), piece)]
    return b"".join(e2e_files.encrypt_file(aes, salt, iterations, name, "application/pdf", pieces)), e2e.b64u(raw)


def _open(sealed: bytes, key: str, passphrase: str = "", piece: int = 50_000):
    opened = e2e_files.open_file((sealed[i: i + piece] for i in range(0, len(sealed), piece)), key, passphrase)
    return opened.name, opened.content_type, b"".join(opened.chunks)


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 2 * CHUNK + 12_345])
def test_round_trip_at_every_chunk_edge(size):
    data = os.urandom(size)
    sealed, key = _sealed(data, "Zeugnis – März 🔑.pdf")
    assert len(sealed) == e2e_files.encrypted_size(size)
    assert _open(sealed, key) == ("Zeugnis – März 🔑.pdf", "application/pdf", data)


def test_with_a_passphrase_and_a_very_long_name():
    sealed, key = _sealed(b"x" * 10, "é" * 900 + ".txt", passphrase="by phone")
    name, _, data = _open(sealed, key, "by phone")
    assert data == b"x" * 10 and name.startswith("é" * 100) and len(name.encode()) <= 1024
    with pytest.raises(crypto.DecryptionError):
        _open(sealed, key, "not it")


def _records(sealed: bytes) -> tuple[bytes, list[bytes]]:
    head = e2e_files.parse_head(sealed).header
    rest, records = sealed[len(head):], []
    records.append(rest[: 1024 + 16])
    rest = rest[1024 + 16:]
    while rest:
        records.append(rest[: CHUNK + 16])
        rest = rest[CHUNK + 16:]
    return head, records


def test_tampering_truncation_and_reordering_fail_to_open():
    data = os.urandom(3 * CHUNK)
    sealed, key = _sealed(data)
    head, records = _records(sealed)
    assert len(records) == 4
    flipped = bytearray(sealed)
    flipped[len(head) + 2000] ^= 1
    other_prefix = head[:-8] + os.urandom(8)
    cases = {
        "a flipped byte": bytes(flipped),
        "cut at a record's end": head + b"".join(records[:3]),
        "cut inside a record": sealed[:-100],
        "only the name": head + records[0],
        "records swapped": head + records[0] + records[2] + records[1] + records[3],
        "a record repeated": head + b"".join(records[:3]) + records[2] + records[3],
        "another nonce prefix": other_prefix + b"".join(records),
        "a passphrase flag added": head[:8] + b"\x01" + struct.pack(">I", 600_000) + os.urandom(16) + head[9:]
                                   + b"".join(records),
    }
    for case, altered in cases.items():
        with pytest.raises(crypto.DecryptionError):
            _open(altered, key)
            pytest.fail(case)
    with pytest.raises(crypto.DecryptionError):
        _open(sealed, e2e.b64u(os.urandom(32)))
    assert _open(sealed, key)[2] == data


def _upload(api, headers, files, **fields):
    form = [(f"push[{name}]", (None, str(value))) for name, value in fields.items()]
    form += [("push[files][]", (name, content, "application/octet-stream")) for name, content in files]
    return api.post("/api/v2/pushes", files=form, headers=headers)


def test_the_api_keeps_only_opaque_blobs_and_hands_them_back(api, alice, runtime):
    raw, aes, salt, iterations = _key("pp")
    parts = [os.urandom(CHUNK + 5) + CANARY, CANARY * 3]
    sealed = [b"".join(e2e_files.encrypt_file(aes, salt, iterations, f"secret-{CANARY.decode()}-{i}.txt", "text/plain", [p]))
              for i, p in enumerate(parts)]
    message = e2e.encrypt_with(aes, salt, iterations, "the files for " + CANARY.decode())
    # The names a careless client sends are not kept either.
    created = _upload(api, alice, [("leaky-name.txt", sealed[0]), ("b.txt", sealed[1])], end_to_end="true",
                      payload=message, expire_after_views=1)
    assert created.status_code == 201, created.text
    body = api.get(f"/api/v2/pushes/{created.json()['url_token']}").json()
    assert body["end_to_end"] is True and body["payload"] == message
    assert [(f["filename"], f["content_type"]) for f in body["files"]] == [
        ("encrypted-1", "application/octet-stream"), ("encrypted-2", "application/octet-stream")]
    keys = {}
    for entry, plain in zip(body["files"], parts):
        got = api.get(entry["url"][len("http://testserver"):])
        assert got.status_code == 200 and got.content in sealed
        opened = e2e_files.open_file([got.content], e2e.b64u(raw), "pp", keys)
        assert b"".join(opened.chunks) == plain and opened.name.startswith("secret-")
    assert len(keys) == 1  # one PBKDF2 for the push's files
    assert e2e.decrypt(message, e2e.b64u(raw), "pp") == "the files for " + CANARY.decode()
    for path in runtime.settings.data_dir.rglob("*"):
        if path.is_file():
            stored = path.read_bytes()
            assert CANARY not in stored and b"leaky-name" not in stored and raw not in stored, path


NOT_THE_FORMAT = {
    "plain bytes": b"just a file " * 100,
    "the mark only": e2e_files.MAGIC + b"\x00" + os.urandom(8),
    "odd flags": e2e_files.MAGIC + b"\x07" + os.urandom(2000),
    "too few iterations": e2e_files.MAGIC + b"\x01" + struct.pack(">I", 1000) + os.urandom(2000),
}


@pytest.mark.parametrize("case", NOT_THE_FORMAT)
def test_files_not_in_the_format_are_refused_and_nothing_stays(api, alice, runtime, case):
    good, _ = _sealed(b"fine")
    answer = _upload(api, alice, [("a", good), ("b", NOT_THE_FORMAT[case])], end_to_end="true")
    assert answer.status_code == 422, answer.text
    assert "end-to-end file format" in answer.text and "docs/api.md" in answer.text
    with Session(runtime.engine) as db:
        assert list(db.exec(select(Push))) == [] and list(db.exec(select(PushFile))) == []
    assert [p for p in (runtime.settings.data_dir / "files").rglob("*") if p.is_file()] == []


def test_a_message_that_is_not_an_envelope_is_refused(api, alice):
    good, _ = _sealed(b"fine")
    answer = _upload(api, alice, [("a", good)], end_to_end="true", payload="plain words")
    assert answer.status_code == 422 and "envelope" in answer.text


def test_setting_off_and_required_passphrase(make_api):
    from pwpush_app.core.accounts import issue_api_token

    good, _ = _sealed(b"fine")
    api, runtime = make_api(PWPUSH_END_TO_END="false")
    headers = {"Authorization": f"Bearer {issue_api_token(runtime, 'a@example.com')[1]}"}
    answer = _upload(api, headers, [("a", good)], end_to_end="true")
    assert answer.status_code == 422 and "turned off" in answer.text

    api, runtime = make_api(PWPUSH_REQUIRE_PASSPHRASE="true")
    headers = {"Authorization": f"Bearer {issue_api_token(runtime, 'a@example.com')[1]}"}
    refused = _upload(api, headers, [("a", good)], end_to_end="true")
    assert refused.status_code == 422 and "requires a passphrase" in refused.text
    with_passphrase, _ = _sealed(b"fine", passphrase="pp")
    assert _upload(api, headers, [("a", with_passphrase)], end_to_end="true").status_code == 201
