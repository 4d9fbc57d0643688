"""Views are counted exactly: many recipients at the same instant, N views, N secrets served."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from pwpush_app.core.audit import Client
from pwpush_app.core.errors import PushUnavailable
from pwpush_app.core.reveal import expire_by_viewer, reveal_push

from .common import T0, audit_kinds, push_row, run_at_once

RECIPIENTS = 100


def reveal_all_at_once(runtime, token: str) -> Counter:
    """Start RECIPIENTS threads together; count what each one got."""
    start = threading.Barrier(RECIPIENTS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def recipient(n: int):
        client = Client(ip=f"10.0.{n // 250}.{n % 250}", user_agent=f"recipient {n}")
        start.wait()
        try:
            outcome = "payload:" + reveal_push(runtime, token, client, now=T0).payload
        except PushUnavailable:
            outcome = "unavailable"
        except BaseException as error:  # noqa: BLE001 - any other outcome fails the test
            outcome = f"error:{type(error).__name__}: {error}"
        with lock:
            outcomes.append(outcome)

    run_at_once(recipient, range(RECIPIENTS))
    return Counter(outcomes)


@pytest.mark.parametrize("views", [1, 5])
def test_concurrent_reveals_serve_exactly_as_many_secrets_as_views(runtime, make_push, views):
    created = make_push("only for the first few", expire_after_views=views)

    outcomes = reveal_all_at_once(runtime, created.url_token)

    assert outcomes == {"payload:only for the first few": views, "unavailable": RECIPIENTS - views}
    assert audit_kinds(runtime, created.push.id).count("view") == views
    assert audit_kinds(runtime, created.push.id).count("expire_auto") == 1
    row = push_row(runtime, created.push.id)
    assert row["views_remaining"] == 0
    assert row["expired"] and row["expired_reason"] == "views"
    assert row["payload_sealed"] is None and row["wrapped_key"] is None


def run_together(count: int, action) -> Counter:
    """Run `action(n)` in `count` threads started at once; count outcomes by exception name."""
    start = threading.Barrier(count)
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker(n: int):
        start.wait()
        try:
            outcome = action(n)
        except BaseException as error:  # noqa: BLE001 - counted
            outcome = type(error).__name__
        with lock:
            outcomes.append(outcome)

    run_at_once(worker, range(count))
    return Counter(outcomes)


def test_parallel_wrong_guesses_from_one_ip_cannot_exceed_the_limit(runtime, make_push):
    created = make_push("guarded", passphrase="the real one")
    attacker = Client(ip="198.51.100.9", user_agent="botnet")

    outcomes = run_together(
        20, lambda n: reveal_push(runtime, created.url_token, attacker, passphrase=f"guess {n}", now=T0).payload
    )

    # Exactly five guesses were checked; every other one was refused before any check.
    assert outcomes == {"WrongPassphrase": 5, "TooManyAttempts": 15}
    assert audit_kinds(runtime, created.push.id).count("failed_passphrase") == 5
    assert push_row(runtime, created.push.id)["views_remaining"] == 5


def test_parallel_right_passphrases_on_a_one_view_push_serve_one_recipient(runtime, make_push):
    created = make_push("one reader", passphrase="shared phrase", expire_after_views=1)

    outcomes = run_together(
        8,
        lambda n: reveal_push(runtime, created.url_token, Client(ip=f"10.9.0.{n}"), passphrase="shared phrase",
                              now=T0).payload,
    )

    assert outcomes == {"one reader": 1, "PushUnavailable": 7}
    kinds = audit_kinds(runtime, created.push.id)
    assert kinds.count("view") == 1
    # A right passphrase is never recorded as a failure, even when the view was lost.
    assert "failed_passphrase" not in kinds


def test_a_recipient_deleting_while_others_reveal_the_last_view_ends_in_one_expiry(runtime, make_push):
    created = make_push("contested", expire_after_views=1)

    def act(n: int) -> str:
        if n % 2:
            expire_by_viewer(runtime, created.url_token, Client(ip=f"10.8.0.{n}"), now=T0)
            return "deleted"
        return "payload:" + reveal_push(runtime, created.url_token, Client(ip=f"10.8.0.{n}"), now=T0).payload

    outcomes = run_together(20, act)

    assert outcomes["deleted"] + outcomes["payload:contested"] == 1
    assert outcomes["PushUnavailable"] == 19
    kinds = audit_kinds(runtime, created.push.id)
    assert kinds.count("expire") + kinds.count("expire_auto") == 1
    assert push_row(runtime, created.push.id)["payload_sealed"] is None
