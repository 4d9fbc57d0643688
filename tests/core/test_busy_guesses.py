"""A passphrase checked while the database is busy: "busy, nothing was changed" holds.

Each attempt is written down (reserved) before Argon2 runs; when the write that settles it
(the view, or the wrong guess's lock and burn) can't be had, the reservation is withdrawn,
and one that could not even be withdrawn stops counting as "being checked" after a short
bound.  So a busy database never turns the right passphrase into a wrong guess, and never
leaves a push of `burn_after_failed_passphrases` locked forever without being burned.

Another writer is a second sqlite3 connection holding BEGIN IMMEDIATE from the moment the
passphrase was checked (the audit's reproduction).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import timedelta

import pytest

from pwpush_app.core.audit import Client
from pwpush_app.core.clock import utcnow
from pwpush_app.core.create import NewPush, create_push
from pwpush_app.core.errors import PushLocked, PushUnavailable, ServerBusy, WrongPassphrase
from pwpush_app.core.records import find_push
from pwpush_app.core.reveal import expire_by_viewer, reveal_push

from .common import audit_kinds, push_row

PASSPHRASE = "correct horse"
RECIPIENT = Client(ip="198.51.100.20", user_agent="recipient")
# Past any reservation's time in flight (core/guesses.py's in_flight_seconds) in these settings.
LATER = timedelta(minutes=10)


def burn_after_one(runtime) -> str:
    return create_push(runtime, NewPush(payload="burn canary", passphrase=PASSPHRASE, burn_after_failed_passphrases=1,
                                        expire_after_views=2, deletable_by_viewer=True), Client(ip="10.9.9.9")).url_token


def lock_after_the_check(runtime, hold_seconds: float) -> list[threading.Thread]:
    """The next passphrase check is followed by another writer taking the write lock for
    `hold_seconds`; the returned list gets the holding thread (join it: the lock is gone)."""
    real_verify, holders = runtime.hashing.verify, []

    def verify_then_lock(password, phc):
        runtime.hashing.verify = real_verify
        right, held = real_verify(password, phc), threading.Event()

        def hold():
            other = sqlite3.connect(str(runtime.engine.url.database), isolation_level=None, timeout=5)
            other.execute("BEGIN IMMEDIATE")
            held.set()
            time.sleep(hold_seconds)
            other.execute("ROLLBACK")
            other.close()

        holders.append(threading.Thread(target=hold, daemon=True))
        holders[0].start()
        held.wait()
        return right

    runtime.hashing.verify = verify_then_lock
    return holders


def push_row_id(runtime, token: str) -> str:
    return find_push(runtime, token).id


# Busy timeout 600 ms, the lock held 900 ms: the settling write gives up at ~600 ms, the
# withdrawal (waiting up to 1.2 s) gets the lock once it is released.
@pytest.mark.sqlite_only
def test_the_right_passphrase_answered_busy_reveals_once_the_lock_is_gone(make_runtime):
    runtime = make_runtime(PWPUSH_BUSY_TIMEOUT_MS="600")
    token = burn_after_one(runtime)
    holders = lock_after_the_check(runtime, 0.9)
    with pytest.raises(ServerBusy):
        reveal_push(runtime, token, RECIPIENT, passphrase=PASSPHRASE)
    holders[0].join()
    assert "failed_passphrase" not in audit_kinds(runtime, push_row_id(runtime, token))  # nothing was changed
    assert reveal_push(runtime, token, RECIPIENT, passphrase=PASSPHRASE).payload == "burn canary"


@pytest.mark.sqlite_only
def test_a_recipients_delete_answered_busy_leaves_the_right_passphrase_right(make_runtime):
    runtime = make_runtime(PWPUSH_BUSY_TIMEOUT_MS="600")
    token = burn_after_one(runtime)
    holders = lock_after_the_check(runtime, 0.9)
    with pytest.raises(ServerBusy):
        expire_by_viewer(runtime, token, RECIPIENT, passphrase=PASSPHRASE)
    holders[0].join()
    assert reveal_push(runtime, token, RECIPIENT, passphrase=PASSPHRASE).payload == "burn canary"


@pytest.mark.sqlite_only
def test_the_last_wrong_guess_answered_busy_is_not_counted(make_runtime):
    runtime = make_runtime(PWPUSH_BUSY_TIMEOUT_MS="600")
    token = burn_after_one(runtime)
    holders = lock_after_the_check(runtime, 0.9)
    with pytest.raises(ServerBusy):
        reveal_push(runtime, token, RECIPIENT, passphrase="wrong guess")
    holders[0].join()
    push_id = push_row_id(runtime, token)
    assert not push_row(runtime, push_id)["expired"]
    # Not locked: the allowed wrong guess is still there, and it burns the push.
    with pytest.raises(WrongPassphrase) as wrong:
        reveal_push(runtime, token, RECIPIENT, passphrase="another wrong guess")
    assert wrong.value.burns_left == 0 and push_row(runtime, push_id)["expired"]
    with pytest.raises(PushUnavailable):
        reveal_push(runtime, token, RECIPIENT, passphrase=PASSPHRASE)


# Busy timeout 300 ms, the lock held 1.5 s: the withdrawal fails too.
@pytest.mark.sqlite_only
def test_a_reservation_that_could_not_be_withdrawn_locks_for_a_short_while_only(make_runtime):
    runtime = make_runtime(PWPUSH_BUSY_TIMEOUT_MS="300")
    token = burn_after_one(runtime)
    holders = lock_after_the_check(runtime, 1.5)
    with pytest.raises(ServerBusy):
        reveal_push(runtime, token, RECIPIENT, passphrase=PASSPHRASE)
    holders[0].join()
    # For all anyone knows it may still be being checked: the last chance waits for it...
    with pytest.raises(PushLocked):
        reveal_push(runtime, token, RECIPIENT, passphrase=PASSPHRASE)
    # ...for a short while, not for ever.
    assert reveal_push(runtime, token, RECIPIENT, passphrase=PASSPHRASE, now=utcnow() + LATER).payload == "burn canary"


@pytest.mark.sqlite_only
def test_a_last_wrong_guess_that_could_not_be_settled_never_locks_for_ever(make_runtime):
    runtime = make_runtime(PWPUSH_BUSY_TIMEOUT_MS="300")
    token = burn_after_one(runtime)
    holders = lock_after_the_check(runtime, 1.5)
    with pytest.raises(ServerBusy):
        reveal_push(runtime, token, RECIPIENT, passphrase="wrong guess")
    holders[0].join()
    push_id = push_row_id(runtime, token)
    with pytest.raises(WrongPassphrase) as wrong:
        reveal_push(runtime, token, RECIPIENT, passphrase="another wrong guess", now=utcnow() + LATER)
    assert wrong.value.burns_left == 0 and push_row(runtime, push_id)["expired"]
