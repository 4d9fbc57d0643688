"""The audit trail: one row per event, what the owner sees of a push's life."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert
from sqlmodel import Session, select

from pwpush_app.core.models import AuditEvent

CREATION = "creation"
VIEW = "view"
FAILED_VIEW = "failed_view"
FAILED_PASSPHRASE = "failed_passphrase"
EXPIRE = "expire"
EXPIRE_AUTO = "expire_auto"
OWNER_VIEW = "owner_view"
EDIT = "edit"
# Wrong passphrases from everywhere reached the push's limit: every attempt is refused for a while.
PASSPHRASE_LOCK = "passphrase_lock"
# The `actor` of a failed_passphrase row written for an attempt without any passphrase:
# shown to the owner, never counted as a guess.
NO_PASSPHRASE = "none"
# The link was mailed to one recipient for the sender (Password Pusher's name; one event per address).
CREATION_EMAIL_SEND = "creation_email_send"
# The link was opened from an address outside the sender's allow-list: refused like an unknown link.
REFUSED_ADDRESS = "refused_address"
# The wrong passphrase that reached the sender's limit (burn_after_failed_passphrases): the push is deleted.
PASSPHRASE_BURN = "passphrase_burn"
# Verifying the recipient (core/recipient_code.py): a code mailed, a wrong code (counted like a
# wrong passphrase), the right one.
CODE_SENT = "code_sent"
WRONG_CODE = "wrong_code"
CODE_VERIFIED = "code_verified"
# What counts as a guess for the lock-outs and the sender's burn limit.
GUESS_KINDS = (FAILED_PASSPHRASE, WRONG_CODE)
EVENT_KINDS = (CREATION, VIEW, FAILED_VIEW, FAILED_PASSPHRASE, EXPIRE, EXPIRE_AUTO, OWNER_VIEW, EDIT, PASSPHRASE_LOCK,
               CREATION_EMAIL_SEND, REFUSED_ADDRESS, PASSPHRASE_BURN, CODE_SENT, WRONG_CODE, CODE_VERIFIED)

_FIELD_LIMIT = 255


@dataclass(frozen=True)
class Client:
    """Who is acting: the client IP (already resolved through trusted proxies), headers, user."""

    ip: str = ""
    user_agent: str = ""
    referrer: str = ""
    user_id: str | None = None


SYSTEM = Client(ip="", user_agent="pwpush purge job")


def cut(text: str | None, limit: int = _FIELD_LIMIT) -> str:
    """A text as an event row stores it (NULs out, at most `limit` characters)."""
    text = (text or "").replace("\x00", "")
    return text[:limit]



# Built once: every view writes an event, and building a statement costs more than running it.
_INSERT_EVENT = insert(AuditEvent.__table__).returning(AuditEvent.__table__.c.id)


def record(db: Session, push_id: str, kind: str, client: Client, now: datetime, actor: str | None = None) -> int:
    """Write one event now (not at the next flush); returns its id."""
    return db.execute(
        _INSERT_EVENT, event_values(push_id, kind, client, now, actor)
    ).scalar_one()


def record_many(db: Session, push_ids: list[str], kind: str, client: Client, now: datetime, actor: str | None = None) -> None:
    """The same event for many pushes, in one statement."""
    if push_ids:
        db.execute(insert(AuditEvent.__table__), [event_values(push_id, kind, client, now, actor) for push_id in push_ids])


def event_values(push_id: str, kind: str, client: Client, now: datetime, actor: str | None = None) -> dict:
    """The columns of one event row, as `record` writes them (benchmarks insert them in bulk)."""
    return dict(
        push_id=push_id,
        kind=kind,
        actor=actor,
        ip=cut(client.ip, 64),
        user_agent=cut(client.user_agent),
        referrer=cut(client.referrer),
        user_id=client.user_id,
        created_at=now,
    )


def events_for(db: Session, push_id: str, page: int = 1, per_page: int = 50) -> list[AuditEvent]:
    """A push's events, oldest first, `per_page` at a time."""
    offset = max(page - 1, 0) * per_page
    query = (
        select(AuditEvent)
        .where(AuditEvent.push_id == push_id)
        .order_by(AuditEvent.created_at, AuditEvent.id)
        .offset(offset)
        .limit(per_page)
    )
    return list(db.exec(query))
