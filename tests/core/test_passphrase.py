"""Passphrases: required before reveal, wrong ones consume nothing, one client (an IPv4
address or an IPv6 network) gets paused, and too many from everywhere lock the push."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pwpush_app.core.audit import Client
from pwpush_app.core.create import NewPush, create_push
from pwpush_app.core.errors import (
    PassphraseRequired,
    PushError,
    PushLocked,
    TooManyAttempts,
    UnexpectedPassphrase,
    WrongPassphrase,
)
from pwpush_app.core.reveal import reveal_push

from .common import ALICE, MALLORY, SENDER, T0, audit_kinds, audit_rows, push_row, run_at_once

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def protected(make_push):
    return make_push("behind a passphrase", passphrase=PASSPHRASE, expire_after_views=3)


def test_the_passphrase_is_stored_only_as_an_argon2id_hash(runtime, protected):
    row = push_row(runtime, protected.push.id)
    assert row["has_passphrase"]
    assert row["passphrase_hash"].startswith("$argon2id$")
    assert PASSPHRASE not in row["passphrase_hash"]


def test_no_passphrase_asks_for_one_consumes_nothing_and_is_logged_but_no_guess(runtime, protected):
    # Far more than the per-client and per-push limits: asking without one is no guess.
    for missing in (None, "") * 12:
        with pytest.raises(PassphraseRequired):
            reveal_push(runtime, protected.url_token, ALICE, passphrase=missing, now=T0)

    assert push_row(runtime, protected.push.id)["views_remaining"] == 3
    # The owner sees each attempt, as in Password Pusher.
    assert audit_kinds(runtime, protected.push.id) == ["creation"] + ["failed_passphrase"] * 24
    assert reveal_push(runtime, protected.url_token, ALICE, passphrase=PASSPHRASE, now=T0).payload == "behind a passphrase"


def test_a_wrong_passphrase_consumes_no_view_and_is_logged(runtime, protected):
    with pytest.raises(WrongPassphrase) as refused:
        reveal_push(runtime, protected.url_token, MALLORY, passphrase="guess", now=T0)

    assert refused.value.attempts_left == 4
    assert "4 attempts left" in str(refused.value)
    assert push_row(runtime, protected.push.id)["views_remaining"] == 3
    failed = audit_rows(runtime, protected.push.id)[-1]
    assert (failed["kind"], failed["ip"], failed["user_agent"]) == ("failed_passphrase", MALLORY.ip, MALLORY.user_agent)


def test_the_right_passphrase_after_some_wrong_ones_reveals_and_takes_one_view(runtime, protected):
    for guess in ("one", "two"):
        with pytest.raises(WrongPassphrase):
            reveal_push(runtime, protected.url_token, ALICE, passphrase=guess, now=T0)

    revealed = reveal_push(runtime, protected.url_token, ALICE, passphrase=PASSPHRASE, now=T0)

    assert revealed.payload == "behind a passphrase"
    assert revealed.views_remaining == 2
    # The successful attempt is a view, not one more failure.
    assert audit_kinds(runtime, protected.push.id) == ["creation", "failed_passphrase", "failed_passphrase", "view"]


def test_five_failures_pause_that_ip_only_and_the_pause_ends_when_announced(runtime, protected):
    # Five wrong guesses, 30 seconds apart, from one IP.
    for i in range(5):
        with pytest.raises(WrongPassphrase) as refused:
            reveal_push(runtime, protected.url_token, MALLORY, passphrase=f"guess {i}", now=T0 + timedelta(seconds=30 * i))
    assert refused.value.attempts_left == 0

    # Now even the right passphrase is refused from that IP, and a retry time is given.
    paused_at = T0 + timedelta(minutes=3)
    with pytest.raises(TooManyAttempts) as paused:
        reveal_push(runtime, protected.url_token, MALLORY, passphrase=PASSPHRASE, now=paused_at)
    retry_after = paused.value.retry_after_seconds
    # The first failure (at T0) leaves the 10-minute window at T0+10min.
    assert retry_after == 7 * 60 + 1
    assert "Try again in 8 minutes" in str(paused.value)

    # Another IP is not locked out.
    assert reveal_push(runtime, protected.url_token, ALICE, passphrase=PASSPHRASE, now=paused_at).payload

    # Just before the announced time: still paused. At it: allowed to try again.
    with pytest.raises(TooManyAttempts):
        reveal_push(runtime, protected.url_token, MALLORY, passphrase=PASSPHRASE,
                    now=paused_at + timedelta(seconds=retry_after - 2))
    revealed = reveal_push(runtime, protected.url_token, MALLORY, passphrase=PASSPHRASE,
                           now=paused_at + timedelta(seconds=retry_after))
    assert revealed.payload == "behind a passphrase"
    assert revealed.views_remaining == 1
    # Refused attempts took no view: two reveals, two views used.
    assert audit_kinds(runtime, protected.push.id).count("view") == 2


def test_a_fresh_window_allows_wrong_guesses_again(runtime, protected):
    for i in range(5):
        with pytest.raises(WrongPassphrase):
            reveal_push(runtime, protected.url_token, MALLORY, passphrase="nope", now=T0)
    with pytest.raises(TooManyAttempts):
        reveal_push(runtime, protected.url_token, MALLORY, passphrase="nope", now=T0 + timedelta(minutes=9))

    with pytest.raises(WrongPassphrase) as refused:
        reveal_push(runtime, protected.url_token, MALLORY, passphrase="nope", now=T0 + timedelta(minutes=10, seconds=1))
    assert refused.value.attempts_left == 4
    assert push_row(runtime, protected.push.id)["views_remaining"] == 3


def test_a_passphrase_on_a_push_without_one_is_refused_and_consumes_nothing(runtime, make_push):
    created = make_push("no passphrase here")

    with pytest.raises(UnexpectedPassphrase):
        reveal_push(runtime, created.url_token, ALICE, passphrase="anything", now=T0)

    assert push_row(runtime, created.push.id)["views_remaining"] == 5
    assert audit_kinds(runtime, created.push.id) == ["creation"]


def test_the_pause_is_per_push(runtime, protected, make_push):
    other = make_push("another secret", passphrase=PASSPHRASE)
    for _ in range(5):
        with pytest.raises(WrongPassphrase):
            reveal_push(runtime, protected.url_token, MALLORY, passphrase="nope", now=T0)
    with pytest.raises(TooManyAttempts):
        reveal_push(runtime, protected.url_token, MALLORY, passphrase=PASSPHRASE, now=T0)

    assert reveal_push(runtime, other.url_token, MALLORY, passphrase=PASSPHRASE, now=T0).payload == "another secret"


# --- who counts as one client, and the push's own limit (outside review, finding 3) ----------------

def _from(ip: str) -> Client:
    return Client(ip=ip, user_agent="guesser/1.0")


def test_every_address_of_one_ipv6_64_counts_as_one_client(runtime, protected):
    # The review got 12 wrong answers (401) from 12 addresses of one /64: unlimited guesses.
    for host in range(1, 6):
        with pytest.raises(WrongPassphrase):
            reveal_push(runtime, protected.url_token, _from(f"2001:db8:1:2::{host:x}"), passphrase=f"guess {host}", now=T0)
    for host in range(6, 13):
        with pytest.raises(TooManyAttempts):
            reveal_push(runtime, protected.url_token, _from(f"2001:db8:1:2:ffff::{host:x}"), passphrase=PASSPHRASE, now=T0)
    # The next /64 is another client; so is an IPv4 address.
    assert reveal_push(runtime, protected.url_token, _from("2001:db8:1:3::1"), passphrase=PASSPHRASE, now=T0).payload
    assert reveal_push(runtime, protected.url_token, _from("192.0.2.77"), passphrase=PASSPHRASE, now=T0).payload


def test_the_ipv6_prefix_is_a_setting(make_runtime):
    runtime = make_runtime(PWPUSH_IPV6_PREFIX="48")
    created = create_push(runtime, NewPush(payload="x", passphrase=PASSPHRASE), SENDER, now=T0)
    for subnet in range(5):
        with pytest.raises(WrongPassphrase):
            reveal_push(runtime, created.url_token, _from(f"2001:db8:7:{subnet:x}::1"), passphrase="nope", now=T0)
    # Another /64, the same /48: the same client.
    with pytest.raises(TooManyAttempts):
        reveal_push(runtime, created.url_token, _from("2001:db8:7:ff::1"), passphrase=PASSPHRASE, now=T0)


def test_wrong_passphrases_from_everywhere_lock_the_push_for_everyone(runtime, make_push):
    created = make_push("many guessers", passphrase=PASSPHRASE, expire_after_views=2)
    # Twenty addresses, each under its own limit of five, four guesses each: 80 > 20.
    failures = 0
    for attempt in range(4):
        for host in range(20):
            try:
                reveal_push(runtime, created.url_token, _from(f"198.51.100.{host}"), passphrase=f"g{attempt}",
                            now=T0 + timedelta(minutes=attempt))
            except WrongPassphrase:
                failures += 1
            except TooManyAttempts as refusal:
                assert isinstance(refusal, PushLocked)
    assert failures == 20
    # Locked for everyone, the right passphrase and a fresh address included, and nothing consumed.
    with pytest.raises(PushLocked) as locked:
        reveal_push(runtime, created.url_token, ALICE, passphrase=PASSPHRASE, now=T0 + timedelta(minutes=30))
    assert locked.value.retry_after_seconds == 30 * 60 + 1  # the first of the 20 leaves the hour then
    assert "locked after too many wrong passphrases" in str(locked.value)
    assert push_row(runtime, created.push.id)["views_remaining"] == 2
    # The owner sees it in the audit trail: the 20 failures, then the lock, once.
    kinds = audit_kinds(runtime, created.push.id)
    assert kinds.count("failed_passphrase") == 20 and kinds.count("passphrase_lock") == 1
    assert kinds.index("passphrase_lock") == len(kinds) - 1
    # When the hour has passed, the right passphrase works again.
    revealed = reveal_push(runtime, created.url_token, ALICE, passphrase=PASSPHRASE, now=T0 + timedelta(minutes=61))
    assert revealed.payload == "many guessers"


def test_the_push_limit_is_a_setting(make_runtime):
    runtime = make_runtime(PWPUSH_PASSPHRASE_PUSH_MAX_FAILURES="3", PWPUSH_PASSPHRASE_PUSH_LOCKOUT_MINUTES="5")
    created = create_push(runtime, NewPush(payload="x", passphrase=PASSPHRASE), SENDER, now=T0)
    for host in range(3):
        with pytest.raises(WrongPassphrase):
            reveal_push(runtime, created.url_token, _from(f"203.0.113.{host}"), passphrase="nope", now=T0)
    with pytest.raises(PushLocked):
        reveal_push(runtime, created.url_token, ALICE, passphrase=PASSPHRASE, now=T0 + timedelta(minutes=4))
    assert reveal_push(runtime, created.url_token, ALICE, passphrase=PASSPHRASE, now=T0 + timedelta(minutes=5, seconds=1)).payload


def test_parallel_guesses_from_many_addresses_never_pass_the_push_limit(make_runtime):
    runtime = make_runtime(PWPUSH_PASSPHRASE_PUSH_MAX_FAILURES="6")
    created = create_push(runtime, NewPush(payload="x", passphrase=PASSPHRASE), SENDER, now=T0)
    outcomes = []

    def guess(host):
        try:
            reveal_push(runtime, created.url_token, _from(f"198.51.100.{host}"), passphrase="nope", now=T0)
        except PushError as refusal:
            outcomes.append(type(refusal).__name__)

    run_at_once(guess, range(16))
    assert sorted(outcomes) == ["PushLocked"] * 10 + ["WrongPassphrase"] * 6
    assert audit_kinds(runtime, created.push.id).count("failed_passphrase") == 6


def test_the_last_attempt_says_that_a_pause_follows(runtime, protected):
    for i in range(3):
        with pytest.raises(WrongPassphrase):
            reveal_push(runtime, protected.url_token, MALLORY, passphrase=f"guess {i}", now=T0)
    # Issue 24, item 9: the attempt before the one that pauses says so.
    with pytest.raises(WrongPassphrase) as fourth:
        reveal_push(runtime, protected.url_token, MALLORY, passphrase="guess 4", now=T0)
    assert ("One attempt left: if the next one is wrong too, attempts from your network pause for 10 minutes."
            in str(fourth.value))
    with pytest.raises(WrongPassphrase) as last:
        reveal_push(runtime, protected.url_token, MALLORY, passphrase="guess 5", now=T0)
    assert "That was the last attempt for now: try again in 10 minutes" in str(last.value)


@pytest.mark.parametrize("pasted", [PASSPHRASE + "\n", " " + PASSPHRASE, "\t" + PASSPHRASE + " \r\n"])
def test_spaces_and_line_breaks_around_a_pasted_passphrase_do_not_count(runtime, make_push, pasted):
    # Issue 24, item 9: trimmed where it is set and where it is typed (the core, so page and API alike).
    assert reveal_push(runtime, make_push("pasted", passphrase=pasted).url_token, ALICE, passphrase=PASSPHRASE,
                       now=T0).payload == "pasted"
    assert reveal_push(runtime, make_push("typed", passphrase=PASSPHRASE).url_token, ALICE, passphrase=pasted,
                       now=T0).payload == "typed"
    # Only around it: inside, every character counts.
    with pytest.raises(WrongPassphrase):
        reveal_push(runtime, make_push("inner", passphrase=PASSPHRASE).url_token, ALICE, passphrase=PASSPHRASE.replace(" ", "  "),
                    now=T0)
    # Spaces alone are no passphrase.
    with pytest.raises(PassphraseRequired):
        reveal_push(runtime, make_push("blank", passphrase=PASSPHRASE).url_token, ALICE, passphrase=" \n", now=T0)


def test_a_push_made_before_trimming_still_opens_with_its_spaces(runtime, make_push):
    from sqlalchemy import text

    created = make_push("old push", passphrase="placeholder")
    with runtime.engine.begin() as connection:  # as an older version stored it: spaces kept in the hash
        connection.execute(text("UPDATE push SET passphrase_hash = :h WHERE id = :id"),
                           {"h": runtime.hashing.hash(" spaced "), "id": created.push.id})
    assert reveal_push(runtime, created.url_token, ALICE, passphrase=" spaced ", now=T0).payload == "old push"


def test_the_owner_sees_who_is_locked_out(runtime, protected):
    from pwpush_app.core.reveal import passphrase_lockouts

    assert passphrase_lockouts(runtime, protected.push, now=T0) == []
    for i in range(5):
        with pytest.raises(WrongPassphrase):
            reveal_push(runtime, protected.url_token, MALLORY, passphrase=f"guess {i}", now=T0 + timedelta(seconds=i))
    [lockout] = passphrase_lockouts(runtime, protected.push, now=T0 + timedelta(minutes=1))
    assert lockout.ip == MALLORY.ip and lockout.until == T0 + timedelta(minutes=10)
    # It ends when the pause does.
    assert passphrase_lockouts(runtime, protected.push, now=T0 + timedelta(minutes=10, seconds=1)) == []
