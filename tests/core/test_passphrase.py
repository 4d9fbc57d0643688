"""Passphrases: required before reveal, wrong ones consume nothing, and one IP gets paused."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pwpush_app.core.pushes import (
    PassphraseRequired,
    TooManyAttempts,
    UnexpectedPassphrase,
    WrongPassphrase,
    reveal_push,
)

from .common import ALICE, MALLORY, T0, audit_kinds, audit_rows, push_row

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def protected(make_push):
    return make_push("behind a passphrase", passphrase=PASSPHRASE, expire_after_views=3)


def test_the_passphrase_is_stored_only_as_an_argon2id_hash(vault, protected):
    row = push_row(vault, protected.push.id)
    assert row["has_passphrase"]
    assert row["passphrase_hash"].startswith("$argon2id$")
    assert PASSPHRASE not in row["passphrase_hash"]


def test_no_passphrase_asks_for_one_and_consumes_nothing(vault, protected):
    for missing in (None, ""):
        with pytest.raises(PassphraseRequired):
            reveal_push(vault, protected.url_token, ALICE, passphrase=missing, now=T0)

    assert push_row(vault, protected.push.id)["views_remaining"] == 3
    assert audit_kinds(vault, protected.push.id) == ["creation"]


def test_a_wrong_passphrase_consumes_no_view_and_is_logged(vault, protected):
    with pytest.raises(WrongPassphrase) as refused:
        reveal_push(vault, protected.url_token, MALLORY, passphrase="guess", now=T0)

    assert refused.value.attempts_left == 4
    assert "4 attempts left" in str(refused.value)
    assert push_row(vault, protected.push.id)["views_remaining"] == 3
    failed = audit_rows(vault, protected.push.id)[-1]
    assert (failed["kind"], failed["ip"], failed["user_agent"]) == ("failed_passphrase", MALLORY.ip, MALLORY.user_agent)


def test_the_right_passphrase_after_some_wrong_ones_reveals_and_takes_one_view(vault, protected):
    for guess in ("one", "two"):
        with pytest.raises(WrongPassphrase):
            reveal_push(vault, protected.url_token, ALICE, passphrase=guess, now=T0)

    revealed = reveal_push(vault, protected.url_token, ALICE, passphrase=PASSPHRASE, now=T0)

    assert revealed.payload == "behind a passphrase"
    assert revealed.views_remaining == 2
    # The successful attempt is a view, not one more failure.
    assert audit_kinds(vault, protected.push.id) == ["creation", "failed_passphrase", "failed_passphrase", "view"]


def test_five_failures_pause_that_ip_only_and_the_pause_ends_when_announced(vault, protected):
    # Five wrong guesses, 30 seconds apart, from one IP.
    for i in range(5):
        with pytest.raises(WrongPassphrase) as refused:
            reveal_push(vault, protected.url_token, MALLORY, passphrase=f"guess {i}", now=T0 + timedelta(seconds=30 * i))
    assert refused.value.attempts_left == 0

    # Now even the right passphrase is refused from that IP, and a retry time is given.
    paused_at = T0 + timedelta(minutes=3)
    with pytest.raises(TooManyAttempts) as paused:
        reveal_push(vault, protected.url_token, MALLORY, passphrase=PASSPHRASE, now=paused_at)
    retry_after = paused.value.retry_after_seconds
    # The first failure (at T0) leaves the 10-minute window at T0+10min.
    assert retry_after == 7 * 60 + 1
    assert "Try again in 8 minutes" in str(paused.value)

    # Another IP is not locked out.
    assert reveal_push(vault, protected.url_token, ALICE, passphrase=PASSPHRASE, now=paused_at).payload

    # Just before the announced time: still paused. At it: allowed to try again.
    with pytest.raises(TooManyAttempts):
        reveal_push(vault, protected.url_token, MALLORY, passphrase=PASSPHRASE,
                    now=paused_at + timedelta(seconds=retry_after - 2))
    revealed = reveal_push(vault, protected.url_token, MALLORY, passphrase=PASSPHRASE,
                           now=paused_at + timedelta(seconds=retry_after))
    assert revealed.payload == "behind a passphrase"
    assert revealed.views_remaining == 1
    # Refused attempts took no view: two reveals, two views used.
    assert audit_kinds(vault, protected.push.id).count("view") == 2


def test_a_fresh_window_allows_wrong_guesses_again(vault, protected):
    for i in range(5):
        with pytest.raises(WrongPassphrase):
            reveal_push(vault, protected.url_token, MALLORY, passphrase="nope", now=T0)
    with pytest.raises(TooManyAttempts):
        reveal_push(vault, protected.url_token, MALLORY, passphrase="nope", now=T0 + timedelta(minutes=9))

    with pytest.raises(WrongPassphrase) as refused:
        reveal_push(vault, protected.url_token, MALLORY, passphrase="nope", now=T0 + timedelta(minutes=10, seconds=1))
    assert refused.value.attempts_left == 4
    assert push_row(vault, protected.push.id)["views_remaining"] == 3


def test_a_passphrase_on_a_push_without_one_is_refused_and_consumes_nothing(vault, make_push):
    created = make_push("no passphrase here")

    with pytest.raises(UnexpectedPassphrase):
        reveal_push(vault, created.url_token, ALICE, passphrase="anything", now=T0)

    assert push_row(vault, created.push.id)["views_remaining"] == 5
    assert audit_kinds(vault, created.push.id) == ["creation"]


def test_the_pause_is_per_push(vault, protected, make_push):
    other = make_push("another secret", passphrase=PASSPHRASE)
    for _ in range(5):
        with pytest.raises(WrongPassphrase):
            reveal_push(vault, protected.url_token, MALLORY, passphrase="nope", now=T0)
    with pytest.raises(TooManyAttempts):
        reveal_push(vault, protected.url_token, MALLORY, passphrase=PASSPHRASE, now=T0)

    assert reveal_push(vault, other.url_token, MALLORY, passphrase=PASSPHRASE, now=T0).payload == "another secret"
