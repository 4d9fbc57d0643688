"""Argon2id: the parameters, and the bound on how much of it runs at once (outside review,
finding 9: every login and passphrase check ran Argon2 unbounded, ~30 ms and 19 MiB each,
on the threads every other request needs)."""

from __future__ import annotations

import re
import threading

import pytest

from pwpush_app.core import crypto
from pwpush_app.core.hashing import HashingBusy, SlowHashes
from pwpush_app.core.reveal import reveal_push

from .common import ALICE, T0, audit_kinds


def test_hashes_use_argon2id_with_at_least_owasps_parameters():
    phc = crypto.hash_password("correct horse battery staple")
    fields = dict(re.findall(r"([mtp])=(\d+)", phc))
    assert phc.startswith("$argon2id$v=19$")
    assert int(fields["m"]) >= 19456 and int(fields["t"]) >= 2 and int(fields["p"]) == 1
    assert crypto.verify_password("correct horse battery staple", phc)
    assert not crypto.verify_password("correct horse battery stapler", phc)


class Held:
    """Occupies slots of a SlowHashes until released (a stand-in for slow hashing)."""

    def __init__(self, hashes: SlowHashes, count: int):
        self.release = threading.Event()
        self.started = threading.Semaphore(0)
        self.threads = [threading.Thread(target=hashes._run, args=(self._work,)) for _ in range(count)]
        for thread in self.threads:
            thread.start()

    def _work(self):
        self.started.release()
        self.release.wait(30)

    def wait_running(self, count: int):
        for _ in range(count):
            assert self.started.acquire(timeout=10)

    def done(self):
        self.release.set()
        for thread in self.threads:
            thread.join(10)


def test_past_the_running_and_waiting_callers_the_answer_is_busy_at_once():
    hashes = SlowHashes(slots=2, waiters_per_slot=1, wait_seconds=30)
    held = Held(hashes, 4)  # two run, two wait
    held.wait_running(2)
    try:
        with pytest.raises(HashingBusy):
            hashes.verify("anything", crypto.hash_password("x"))
    finally:
        held.done()
    # Once they are through, checks run again.
    assert hashes.verify("x", crypto.hash_password("x"))


def test_a_waiting_caller_gives_up_after_its_wait():
    hashes = SlowHashes(slots=1, waiters_per_slot=1, wait_seconds=0.2)
    held = Held(hashes, 1)
    held.wait_running(1)
    try:
        with pytest.raises(HashingBusy):
            hashes.hash("waits, then gives up")
    finally:
        held.done()


def test_a_passphrase_check_that_could_not_run_counts_no_failure(runtime, make_push):
    created = make_push("guarded", passphrase="right one")
    runtime.hashing = SlowHashes(slots=1, waiters_per_slot=0)
    held = Held(runtime.hashing, 1)
    held.wait_running(1)
    try:
        with pytest.raises(HashingBusy):
            reveal_push(runtime, created.url_token, ALICE, passphrase="right one", now=T0)
        # The cheap path never waits for hashing: a push without passphrase still opens.
        plain = make_push("plain")
        assert reveal_push(runtime, plain.url_token, ALICE, now=T0).payload == "plain"
    finally:
        held.done()
    assert audit_kinds(runtime, created.push.id) == ["creation"]
    assert reveal_push(runtime, created.url_token, ALICE, passphrase="right one", now=T0).payload == "guarded"
