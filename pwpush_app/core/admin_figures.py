"""The instance's figures on /admin: pushes by kind and state, views per day, file storage,
the mail outbox and the last purge.  Counts only: never a payload, a note, a name or a link.

Each figure is one aggregate query (a store of millions of pushes answers in one scan of an
index, not a row per push).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case, func
from sqlmodel import select

from pwpush_app.core import audit, records
from pwpush_app.core.admin import require_admin_area
from pwpush_app.core.clock import utcnow
from pwpush_app.core.db import transaction
from pwpush_app.core.models import AuditEvent, JobLease, Push, PushFile
from pwpush_app.core.models_mail import MailOutbox
from pwpush_app.core.runtime import Runtime
from pwpush_app.settings import KINDS

VIEW_DAYS = 14
ACTIVE, EXPIRED = "active", "expired"


@dataclass(frozen=True)
class Figures:
    # (kind, "active" | "expired") -> pushes; every kind and state present, 0 included.
    pushes: dict[tuple[str, str], int]
    # Oldest first: (UTC day, views that day), the last VIEW_DAYS days with today.
    views_per_day: list[tuple[date, int]]
    # Bytes of files still stored (plaintext sizes of blobs not yet deleted), and how many.
    file_bytes: int
    files: int
    mail_queued: int
    mail_failed: int
    # When the purge job last started (its lease), or None: never on this database.
    last_purge: datetime | None


def instance_figures(runtime: Runtime, admin_id: str | None, now: datetime | None = None) -> Figures:
    require_admin_area(runtime, admin_id)
    now = now or utcnow()
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    days = [today - timedelta(days=n) for n in range(VIEW_DAYS - 1, -1, -1)]
    with transaction(runtime.engine, write=False) as db:
        pushes = {(kind, state): 0 for kind in KINDS for state in (ACTIVE, EXPIRED)}
        # Live now, as the push list counts it: an overdue push not yet purged is expired.
        state = case((records.live_at(now), ACTIVE), else_=EXPIRED)
        for kind, state_now, count in db.exec(select(Push.kind, state, func.count()).group_by(Push.kind, state)):
            pushes[(kind, state_now)] = count
        columns = [func.coalesce(func.sum(case((AuditEvent.created_at >= day, 1), else_=0)), 0) for day in days]
        cumulative = db.exec(select(*columns).where(AuditEvent.kind == audit.VIEW, AuditEvent.created_at >= days[0])).one()
        file_bytes, files = db.exec(select(func.coalesce(func.sum(PushFile.size), 0), func.count())
                                    .where(PushFile.blob_deleted == False)).one()  # noqa: E712
        mail = dict(db.exec(select(MailOutbox.status, func.count()).where(MailOutbox.status.in_(("queued", "failed")))
                            .group_by(MailOutbox.status)).all())
        lease = db.get(JobLease, "purge")
    # Views since each day's start, made into views on each day.
    since = [int(n) for n in cumulative] + [0]
    views = [(day.date(), since[i] - since[i + 1]) for i, day in enumerate(days)]
    last_purge = lease.lease_until - timedelta(seconds=runtime.settings.purge_interval_seconds) if lease else None
    return Figures(pushes=pushes, views_per_day=views, file_bytes=int(file_bytes), files=int(files),
                   mail_queued=mail.get("queued", 0), mail_failed=mail.get("failed", 0), last_purge=last_purge)
