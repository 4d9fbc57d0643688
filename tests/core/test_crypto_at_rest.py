"""What someone with write or read access to the database can (not) do with the ciphertext."""

from __future__ import annotations

import hashlib

import pytest

from pwpush_app.core.create import NewPush, create_push
from pwpush_app.core.crypto import DecryptionError
from pwpush_app.core.errors import PushUnavailable
from pwpush_app.core.records import find_push, open_note
from pwpush_app.core.reveal import reveal_push

from .common import ALICE, T0, audit_kinds, push_row, set_column


def flip_bit(blob: bytes, index: int) -> bytes:
    return blob[:index] + bytes([blob[index] ^ 0x01]) + blob[index + 1:]


def test_a_payload_copied_to_another_push_does_not_open(runtime, make_push):
    source = make_push("source secret", expire_after_views=3)
    target = make_push("target secret", expire_after_views=3)
    set_column(runtime, target.push.id, "payload_sealed", push_row(runtime, source.push.id)["payload_sealed"])

    with pytest.raises(DecryptionError):
        reveal_push(runtime, target.url_token, ALICE, now=T0)
    # Failing closed took no view and served nothing.
    assert push_row(runtime, target.push.id)["views_remaining"] == 3
    assert audit_kinds(runtime, target.push.id) == ["creation"]


def test_a_payload_copied_with_its_wrapped_key_to_another_push_does_not_open(runtime, make_push):
    source = make_push("source secret")
    target = make_push("target secret")
    stolen = push_row(runtime, source.push.id)
    set_column(runtime, target.push.id, "payload_sealed", stolen["payload_sealed"])
    set_column(runtime, target.push.id, "wrapped_key", stolen["wrapped_key"])

    with pytest.raises(DecryptionError):
        reveal_push(runtime, target.url_token, ALICE, now=T0)


def test_a_payload_copied_into_the_note_field_of_the_same_push_does_not_open(runtime, make_push):
    created = make_push("the payload", note="the note")
    row = push_row(runtime, created.push.id)
    set_column(runtime, created.push.id, "note_sealed", row["payload_sealed"])

    with pytest.raises(DecryptionError):
        open_note(runtime, find_push(runtime, created.url_token))
    assert reveal_push(runtime, created.url_token, ALICE, now=T0).payload == "the payload"


@pytest.mark.sqlite_only  # the cryptography is the same on every engine
@pytest.mark.parametrize("column", ["payload_sealed", "wrapped_key"])
@pytest.mark.parametrize("where", ["nonce", "ciphertext", "tag"])
def test_one_flipped_bit_fails_closed(runtime, make_push, column, where):
    created = make_push("integrity matters", expire_after_views=2)
    blob = push_row(runtime, created.push.id)[column]
    # Layout: version byte, [4-byte key id for wrapped keys], 12-byte nonce, ciphertext, 16-byte tag.
    nonce_at = 1 + (4 if column == "wrapped_key" else 0)
    index = {"nonce": nonce_at, "ciphertext": nonce_at + 12, "tag": len(blob) - 1}[where]
    set_column(runtime, created.push.id, column, flip_bit(blob, index))

    with pytest.raises(DecryptionError):
        reveal_push(runtime, created.url_token, ALICE, now=T0)
    assert push_row(runtime, created.push.id)["views_remaining"] == 2


def test_a_truncated_or_empty_ciphertext_fails_closed(runtime, make_push):
    created = make_push("x")
    blob = push_row(runtime, created.push.id)["payload_sealed"]
    for broken in (blob[:-1], blob[:10], b"", b"\x02" + blob[1:]):
        set_column(runtime, created.push.id, "payload_sealed", broken)
        with pytest.raises(DecryptionError):
            reveal_push(runtime, created.url_token, ALICE, now=T0)


def test_the_database_with_another_master_key_finds_no_push_by_its_link(make_runtime):
    ours = make_runtime()
    created = create_push(ours, NewPush(payload="x"), ALICE, now=T0)
    # Same database file, a different master key: what a stolen copy of the database gives.
    theirs = make_runtime()
    assert theirs.settings.db_url == ours.settings.db_url
    assert theirs.keyring.current_key_id != ours.keyring.current_key_id

    assert find_push(theirs, created.url_token) is None
    with pytest.raises(PushUnavailable):
        reveal_push(theirs, created.url_token, ALICE, now=T0)
    # The stored hash is not the token, nor a plain hash of it.
    row = push_row(theirs, created.push.id)
    assert created.url_token not in row["token_digest"]
    assert row["token_digest"] != hashlib.sha256(created.url_token.encode()).hexdigest()
    # The wrapped data key does not open either.
    with pytest.raises(DecryptionError):
        theirs.keyring.open_data_key(created.push.id, row["wrapped_key"])
    assert reveal_push(ours, created.url_token, ALICE, now=T0).payload == "x"


def test_links_are_128_bit_random_tokens_and_the_database_keeps_neither(runtime, make_push):
    made = [make_push(f"p{i}") for i in range(50)]
    tokens = [m.url_token for m in made] + [m.manage_token for m in made]

    assert len(set(tokens)) == 100
    assert all(len(t) == 22 and t.replace("-", "").replace("_", "").isalnum() for t in tokens)
    for m in made[:5]:
        row = push_row(runtime, m.push.id)
        assert m.url_token not in str(row) and m.manage_token not in str(row)
