"""The purge job runs once per period across workers."""

import threading
from datetime import timedelta

from pwpush_app.core.clock import utcnow
from pwpush_app.core.leases import claim_period

from .common import run_at_once


def test_exactly_one_of_many_workers_claims_each_period(runtime):
    now = utcnow()
    for period in range(3):
        moment = now + timedelta(seconds=60 * period + 1)
        winners = []
        barrier = threading.Barrier(12)

        def worker(i):
            barrier.wait()
            if claim_period(runtime, "purge", f"worker-{i}", 60, now=moment):
                winners.append(i)

        run_at_once(worker, range(12))
        assert len(winners) == 1, f"period {period}: {len(winners)} workers ran the job"


def test_a_lease_is_not_taken_again_within_its_period(runtime):
    now = utcnow()
    assert claim_period(runtime, "purge", "a", 60, now=now)
    assert not claim_period(runtime, "purge", "b", 60, now=now + timedelta(seconds=59))
    assert claim_period(runtime, "purge", "b", 60, now=now + timedelta(seconds=60))
