"""Run a periodic job once per period across workers, with a row in the database as the lock."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from pwpush_app.core.clock import utcnow
from pwpush_app.core.db import transaction
from pwpush_app.core.models import JobLease
from pwpush_app.core.runtime import Runtime


def claim_period(runtime: Runtime, job: str, holder: str, period_seconds: float, now: datetime | None = None) -> bool:
    """True for exactly one caller per period: the one that moved the lease forward."""
    now = now or utcnow()
    until = now + timedelta(seconds=period_seconds)
    with transaction(runtime.engine) as db:
        taken = db.execute(
            update(JobLease)
            .where(JobLease.name == job, JobLease.lease_until <= now)
            .values(holder=holder, lease_until=until)
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken:
            return True
        if db.get(JobLease, job) is not None:
            return False
    try:
        with transaction(runtime.engine) as db:
            db.add(JobLease(name=job, holder=holder, lease_until=until))
    except IntegrityError:
        return False  # another worker created it first
    return True
