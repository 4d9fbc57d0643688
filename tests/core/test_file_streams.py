"""The chunked AEAD format for file contents: round trips, and every way to tamper fails closed."""

from __future__ import annotations

import hashlib
import os

import pytest

from pwpush_app.core.crypto import STREAM_CHUNK_BYTES, DataKey, DecryptionError, sealed_stream_size

CHUNK = STREAM_CHUNK_BYTES
RECORD = CHUNK + 12 + 16
SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * 1024 * 1024 + 17]


def pieces(data: bytes, size: int):
    return [data[i : i + size] for i in range(0, len(data), size)]


def seal(key: DataKey, data: bytes, push_id="push-a", field="file 0", piece=7_000) -> bytes:
    return b"".join(key.seal_stream(push_id, field, pieces(data, piece)))


def open_all(key: DataKey, sealed: bytes, push_id="push-a", field="file 0", piece=9_999) -> bytes:
    return b"".join(key.open_stream(push_id, field, pieces(sealed, piece)))


def opened_until_failure(key: DataKey, sealed: bytes, push_id="push-a", field="file 0") -> tuple[bytes, bool]:
    """What a reader got before the stream failed, and whether it failed."""
    got = bytearray()
    try:
        for plain in key.open_stream(push_id, field, pieces(sealed, 50_000)):
            got += plain
    except DecryptionError:
        return bytes(got), True
    return bytes(got), False


@pytest.fixture
def key():
    return DataKey(os.urandom(32))


@pytest.mark.parametrize("size", SIZES)
def test_round_trip_of_every_size_with_any_chunking(key, size):
    data = os.urandom(size)
    for seal_piece, open_piece in ((1, 3), (7_000, 9_999), (CHUNK, RECORD), (10**7, 10**7)):
        if seal_piece == 1 and size > CHUNK + 1:
            continue  # byte-by-byte is slow for big inputs; small sizes cover it
        sealed = seal(key, data, piece=seal_piece)
        assert len(sealed) == sealed_stream_size(size)
        assert hashlib.sha256(open_all(key, sealed, piece=open_piece)).digest() == hashlib.sha256(data).digest()


def test_the_same_file_sealed_twice_looks_different(key):
    data = b"same content" * 10_000
    assert seal(key, data) != seal(key, data)


def test_no_plaintext_in_the_sealed_stream(key):
    canary = b"CANARY-7f3a9-file-content"
    sealed = seal(key, canary * 20_000)
    assert canary not in sealed and canary[:12] not in sealed


def test_a_flipped_byte_anywhere_fails(key):
    data = os.urandom(3 * CHUNK + 100)
    sealed = seal(key, data)
    for position in (0, 1, 12, 5_000, RECORD + 1, len(sealed) - 1):
        tampered = bytearray(sealed)
        tampered[position] ^= 0x01
        got, failed = opened_until_failure(key, bytes(tampered))
        assert failed, position
        # Only whole records before the damaged one came out, and they are authentic.
        assert data.startswith(got)
        assert len(got) <= max(0, (position - 1) // RECORD) * CHUNK


def test_a_flipped_byte_in_the_first_record_yields_nothing(key):
    sealed = bytearray(seal(key, os.urandom(5 * CHUNK)))
    sealed[100] ^= 0x80
    assert opened_until_failure(key, bytes(sealed)) == (b"", True)


def test_dropping_the_last_record_fails(key):
    data = os.urandom(3 * CHUNK)  # three full records: the cut falls on a record boundary
    sealed = seal(key, data)
    got, failed = opened_until_failure(key, sealed[: 1 + 2 * RECORD])
    assert failed
    assert data.startswith(got) and len(got) < len(data)


@pytest.mark.parametrize("cut", [1, 16, 28, RECORD - 1])
def test_a_truncated_stream_fails(key, cut):
    sealed = seal(key, os.urandom(2 * CHUNK + 500))
    assert opened_until_failure(key, sealed[:-cut])[1]


def test_swapped_records_fail(key):
    data = os.urandom(3 * CHUNK + 10)
    sealed = seal(key, data)
    records = [sealed[1 + i * RECORD : 1 + (i + 1) * RECORD] for i in range(4)]
    swapped = sealed[:1] + records[1] + records[0] + records[2] + records[3]
    assert opened_until_failure(key, swapped) == (b"", True)


def test_a_duplicated_record_fails(key):
    sealed = seal(key, os.urandom(2 * CHUNK + 10))
    doubled = sealed[: 1 + RECORD] + sealed[1 : 1 + RECORD] + sealed[1 + RECORD :]
    got, failed = opened_until_failure(key, doubled)
    assert failed and len(got) <= CHUNK


def test_appended_bytes_fail(key):
    sealed = seal(key, os.urandom(CHUNK + 10))
    assert opened_until_failure(key, sealed + b"\x00")[1]
    assert opened_until_failure(key, sealed + sealed[1:])[1]


def test_a_stream_moved_to_another_push_or_file_fails(key):
    sealed = seal(key, b"ssh-ed25519 AAAA... secret key")
    assert opened_until_failure(key, sealed, push_id="push-b")[1]
    assert opened_until_failure(key, sealed, field="file 1")[1]
    assert opened_until_failure(DataKey(os.urandom(32)), sealed)[1]


def test_empty_or_foreign_input_is_not_a_stream(key):
    assert opened_until_failure(key, b"") == (b"", True)
    assert opened_until_failure(key, b"\x01" + b"\x00" * 100) == (b"", True)
    empty_file = seal(key, b"")
    assert len(empty_file) == 1 + 28 and open_all(key, empty_file) == b""


def test_an_opener_refuses_everything_after_a_failure(key):
    sealed = bytearray(seal(key, os.urandom(CHUNK + 1)))
    sealed[50] ^= 1
    opener = key.stream_opener("push-a", "file 0")
    with pytest.raises(DecryptionError):
        opener.update(bytes(sealed))
    with pytest.raises(DecryptionError):
        opener.finish()


def test_the_data_key_never_shows_in_its_repr(key):
    assert "hidden" in repr(key)
