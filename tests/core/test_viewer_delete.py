"""A recipient's delete passes the gate of a view (outside review, finding 2): anyone with
the link could delete a passphrase-protected push without the passphrase.  Now the
passphrase is needed (and counted like a reveal's), or the receipt of a reveal that gave it
(the page that showed the secret deletes with that)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pwpush_app.core.crypto import Keyring
from pwpush_app.core.errors import (
    NotAllowed,
    PassphraseRequired,
    PushUnavailable,
    TooManyAttempts,
    WrongPassphrase,
)
from pwpush_app.core.reveal import expire_by_viewer, reveal_push
from pwpush_app.master_key import generate_master_key_text, parse_master_key

from .common import ALICE, MALLORY, T0, audit_kinds, push_row

PASSPHRASE = "ask me on the phone"


@pytest.fixture
def protected(make_push):
    return make_push("behind a passphrase", passphrase=PASSPHRASE, expire_after_views=3, deletable_by_viewer=True)


def _still_live(runtime, created, views=3):
    row = push_row(runtime, created.push.id)
    assert not row["expired"] and row["views_remaining"] == views and row["payload_sealed"] is not None


def test_without_the_passphrase_a_viewer_cannot_delete(runtime, protected):
    for missing in (None, ""):
        with pytest.raises(PassphraseRequired):
            expire_by_viewer(runtime, protected.url_token, MALLORY, passphrase=missing, now=T0)
    _still_live(runtime, protected)
    # Logged for the owner (as in Password Pusher), counted as no guess.
    assert audit_kinds(runtime, protected.push.id) == ["creation", "failed_passphrase", "failed_passphrase"]


def test_a_wrong_passphrase_deletes_nothing_and_counts_like_a_reveals(runtime, protected):
    for i in range(3):
        with pytest.raises(WrongPassphrase):
            expire_by_viewer(runtime, protected.url_token, MALLORY, passphrase=f"guess {i}", now=T0)
    # The same five-attempt budget as reveals: two more reveal guesses, then a pause for both.
    for i in range(2):
        with pytest.raises(WrongPassphrase):
            reveal_push(runtime, protected.url_token, MALLORY, passphrase=f"other {i}", now=T0)
    with pytest.raises(TooManyAttempts):
        expire_by_viewer(runtime, protected.url_token, MALLORY, passphrase=PASSPHRASE, now=T0)
    _still_live(runtime, protected)
    assert audit_kinds(runtime, protected.push.id).count("failed_passphrase") == 5


def test_the_right_passphrase_deletes(runtime, protected):
    gone = expire_by_viewer(runtime, protected.url_token, ALICE, passphrase=PASSPHRASE, now=T0)
    assert gone.expired and gone.expired_reason == "viewer"
    assert push_row(runtime, protected.push.id)["payload_sealed"] is None
    assert audit_kinds(runtime, protected.push.id) == ["creation", "expire"]


def test_the_receipt_of_a_reveal_deletes_without_asking_again(runtime, protected):
    revealed = reveal_push(runtime, protected.url_token, ALICE, passphrase=PASSPHRASE, now=T0)
    assert revealed.delete_receipt
    gone = expire_by_viewer(runtime, protected.url_token, ALICE, receipt=revealed.delete_receipt, now=T0)
    assert gone.expired and gone.expired_reason == "viewer"


def test_a_receipt_for_another_push_or_a_made_up_one_proves_nothing(runtime, protected, make_push):
    other = make_push("no passphrase", deletable_by_viewer=True)
    foreign = reveal_push(runtime, other.url_token, ALICE, now=T0).delete_receipt
    for receipt in (foreign, "0" * 64, "", "x" * 10_000, None):
        with pytest.raises(PassphraseRequired):
            expire_by_viewer(runtime, protected.url_token, MALLORY, receipt=receipt, now=T0)
    _still_live(runtime, protected)


def test_a_receipt_made_under_another_master_key_proves_nothing(runtime, protected):
    stranger = Keyring(parse_master_key(generate_master_key_text()))
    forged = stranger.receipt("viewer delete", protected.push.id)
    with pytest.raises(PassphraseRequired):
        expire_by_viewer(runtime, protected.url_token, MALLORY, receipt=forged, now=T0)
    _still_live(runtime, protected)


def test_no_receipt_when_the_viewer_may_not_delete(runtime, make_push):
    kept = make_push("kept", deletable_by_viewer=False)
    assert reveal_push(runtime, kept.url_token, ALICE, now=T0).delete_receipt is None
    last = make_push("last", expire_after_views=1)
    assert reveal_push(runtime, last.url_token, ALICE, now=T0).delete_receipt is None  # nothing left to delete


def test_a_non_deletable_push_refuses_before_any_passphrase_is_counted(runtime, make_push):
    kept = make_push("kept", passphrase=PASSPHRASE, deletable_by_viewer=False)
    with pytest.raises(NotAllowed):
        expire_by_viewer(runtime, kept.url_token, MALLORY, passphrase="guess", now=T0)
    assert audit_kinds(runtime, kept.push.id) == ["creation"]


def test_deleting_an_expired_push_is_refused_like_viewing_it(runtime, protected):
    with pytest.raises(PushUnavailable):
        expire_by_viewer(runtime, protected.url_token, ALICE, passphrase=PASSPHRASE, now=T0 + timedelta(days=8))
