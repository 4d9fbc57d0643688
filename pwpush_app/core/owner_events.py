"""The hook that tells a push's owner what happened to it: `note` (and `note_many`).

The core calls it in the transaction that did the thing, beside the audit row: a view
(reveal.py), a wrong passphrase (reveal.py, once the passphrase is known to be wrong), an
expiry (records.expire: by views, by time, by the owner or by the viewer; purge.py for
the background purge).  It writes an `owner_event` row only when the push has an owner
who listens (mail notifications for that kind, or a webhook), in one statement; a push
without an owner costs nothing.  The background sender (core/notices.py) turns the rows
into mails and webhook calls and deletes them: an event is never lost with a crash, and
never written for something that was rolled back.

Also here: an account's choices of what to be told (`NoticeChoices`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, exists, insert, literal, or_, select
from sqlmodel import Session

from pwpush_app.core.audit import Client
from pwpush_app.core.clock import utcnow
from pwpush_app.core.db import transaction
from pwpush_app.core.models import Push
from pwpush_app.core.models_mail import NoticePreference, OwnerEvent, Webhook
from pwpush_app.core.runtime import Runtime

VIEWED = "viewed"
FAILED_PASSPHRASE = "failed_passphrase"
EXPIRED = "expired"
DELETED = "deleted"
KINDS = (VIEWED, FAILED_PASSPHRASE, EXPIRED, DELETED)

# Which mail choice wants each kind (webhooks get every kind).
_CHOICE = {VIEWED: "on_view", FAILED_PASSPHRASE: "on_failed_passphrase", EXPIRED: "on_expire", DELETED: "on_expire"}
_EVENTS = OwnerEvent.__table__
_COLUMNS = ["user_id", "push_id", "kind", "ip", "user_agent", "by_owner", "views_left", "in_digest", "created_at"]


def _listens(owner, kind: str):
    """The owner wants to hear of `kind`: by mail, or through a webhook."""
    preferences = NoticePreference.__table__
    return or_(
        exists().where(and_(preferences.c.user_id == owner, preferences.c[_CHOICE[kind]] == True)),  # noqa: E712
        exists().where(Webhook.__table__.c.user_id == owner),
    )


def _note_statement(kind: str):
    owner = bindparam("owner", type_=_EVENTS.c.user_id.type)
    values = select(owner, bindparam("push_id", type_=_EVENTS.c.push_id.type), literal(kind),
                    bindparam("ip", type_=_EVENTS.c.ip.type), bindparam("user_agent", type_=_EVENTS.c.user_agent.type),
                    bindparam("by_owner", type_=_EVENTS.c.by_owner.type),
                    bindparam("views_left", type_=_EVENTS.c.views_left.type), literal(False),
                    bindparam("now", type_=_EVENTS.c.created_at.type)).where(_listens(owner, kind))
    return insert(_EVENTS).from_select(_COLUMNS, values)


def _note_many_statement(kind: str):
    pushes = Push.__table__
    values = select(pushes.c.owner_id, pushes.c.id, literal(kind), literal(""), literal(""), literal(False),
                    literal(0), literal(False), bindparam("now", type_=_EVENTS.c.created_at.type)).where(
        pushes.c.id.in_(bindparam("push_ids", expanding=True)), pushes.c.owner_id.is_not(None),
        _listens(pushes.c.owner_id, kind))
    return insert(_EVENTS).from_select(_COLUMNS, values)


# Built once: a view of an owned push runs this beside its audit row.
_NOTE = {kind: _note_statement(kind) for kind in KINDS}
_NOTE_MANY = {kind: _note_many_statement(kind) for kind in (EXPIRED,)}


def note(db: Session, push: Push, kind: str, client: Client, now: datetime) -> None:
    """`kind` happened to `push`, done by `client`, in this transaction: tell its owner (if any listens)."""
    if push.owner_id is None:
        return
    db.execute(_NOTE[kind], {
        "owner": push.owner_id, "push_id": push.id, "ip": (client.ip or "")[:64],
        "user_agent": (client.user_agent or "").replace("\x00", "")[:255],
        "by_owner": client.user_id is not None and client.user_id == push.owner_id, "views_left": push.views_left,
        "now": now,
    })


def note_many(db: Session, push_ids: list[str], kind: str, now: datetime) -> None:
    """The same event, done by the system (the purge), for many pushes in one statement."""
    if push_ids:
        db.execute(_NOTE_MANY[kind], {"push_ids": list(push_ids), "now": now})


# --- what an account wants to hear -----------------------------------------------------------------

@dataclass(frozen=True)
class NoticeChoices:
    on_view: bool = False
    on_failed_passphrase: bool = False
    on_expire: bool = False
    daily_digest: bool = False

    @property
    def any(self) -> bool:
        return self.on_view or self.on_failed_passphrase or self.on_expire


def notice_choices(runtime: Runtime, user_id: str) -> NoticeChoices:
    with transaction(runtime.engine, write=False) as db:
        row = db.get(NoticePreference, user_id)
    if row is None:
        return NoticeChoices()
    return NoticeChoices(row.on_view, row.on_failed_passphrase, row.on_expire, row.daily_digest)


def choose_notices(runtime: Runtime, user_id: str, choices: NoticeChoices, now: datetime | None = None) -> None:
    """Store what the account wants to be mailed about (events from now on)."""
    now = now or utcnow()
    with transaction(runtime.engine) as db:
        row = db.get(NoticePreference, user_id)
        if row is None:
            row = NoticePreference(user_id=user_id, updated_at=now)
        row.on_view, row.on_failed_passphrase = choices.on_view, choices.on_failed_passphrase
        row.on_expire, row.daily_digest = choices.on_expire, choices.daily_digest
        row.updated_at = now
        db.add(row)
