"""The background purge: every overdue push expired, its secrets deleted; safe to run in
several workers at once (jobs.py gives one worker the period's lease)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import select

from pwpush_app.core import audit, owner_events
from pwpush_app.core.clock import utcnow
from pwpush_app.core.db import NoConnectionFree, transaction, unavailable
from pwpush_app.core.file_downloads import delete_released_blobs
from pwpush_app.core.models import Push
from pwpush_app.core.records import EXPIRE
from pwpush_app.core.requests import delete_old_requests, expire_requests
from pwpush_app.core.runtime import Runtime

PURGE_BATCH = 500


def purge_expired(runtime: Runtime, now: datetime | None = None) -> int:
    """Expire every overdue push and delete its secrets.

    Returns how many pushes this call expired.  Also deletes expired records older than
    the retention setting, when one is set.
    """
    now = now or utcnow()
    expired = 0
    while True:
        with transaction(runtime.engine) as db:
            ids = list(
                db.exec(
                    select(Push.id)
                    .where(Push.expired == False, Push.expires_at <= now)  # noqa: E712
                    .limit(PURGE_BATCH)
                )
            )
            if ids:
                # One statement per batch (the write lock is held for milliseconds, not for
                # a round trip per push); a push expired meanwhile is skipped, not logged twice.
                done = db.execute(EXPIRE, {"push_ids": ids, "now": now, "reason": "time"}).scalars().all()
                audit.record_many(db, done, audit.EXPIRE_AUTO, audit.SYSTEM, now, actor="time")
                owner_events.note_many(db, done, owner_events.EXPIRED, now)
                expired += len(done)
        if len(ids) < PURGE_BATCH:
            break
    # Requests past their time lose their message and link (core/requests.py).
    expire_requests(runtime, now)
    # Before the retention delete below: a push row's files must not outlive their blobs' record.
    delete_released_blobs(runtime, now)
    retention = runtime.settings.purge_records_after_days
    if retention:
        with transaction(runtime.engine) as db:
            db.execute(delete(Push).where(Push.expired == True, Push.expired_at < now - timedelta(days=retention)))  # noqa: E712
        delete_old_requests(runtime, now - timedelta(days=retention))
    checkpoint(runtime)
    return expired


def checkpoint(runtime: Runtime) -> None:
    """On SQLite, fold the WAL into the database so deleted ciphertext leaves the WAL file too."""
    if runtime.engine.dialect.name == "sqlite":
        try:
            connection = runtime.engine.raw_connection()
        except NoConnectionFree as error:
            raise unavailable(error) from error  # the job's "database unavailable", next round
        try:
            connection.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            connection.close()
