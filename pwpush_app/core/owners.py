"""What a push's owner may do: an account's lists, expiring a push now, the manage link's
view with its audit trail, and moving a browser's anonymous pushes into an account.

Ownership is checked here, never by holding the secret link: an account sees and changes
only pushes whose `owner_id` is its own (`owned_push` answers anyone else as if there were
no push at all); a creator without an account holds the push's manage token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import select

from pwpush_app.core import audit
from pwpush_app.core.audit import Client
from pwpush_app.core.clock import utcnow
from pwpush_app.core.db import transaction
from pwpush_app.core.errors import PushUnavailable
from pwpush_app.core.file_downloads import delete_blobs_of
from pwpush_app.core.models import AuditEvent, Push
from pwpush_app.core.records import PUSHES, expire, find_by_manage_token, find_managed, looks_like_token, open_note
from pwpush_app.core.runtime import Runtime

# At most this many of a browser's pushes move into an account at once.
MAX_CLAIMED = 500


def expire_by_owner(runtime: Runtime, push: Push, client: Client, now: datetime | None = None) -> Push:
    """The owner (checked by the caller: manage token or account) expires the push now;
    returns it as it is afterwards."""
    now = now or utcnow()
    with transaction(runtime.engine) as db:
        fresh = db.get(Push, push.id)
        if fresh is None:
            raise PushUnavailable()
        expire(db, fresh, "owner", client, now)
    delete_blobs_of(runtime, fresh, now)
    return fresh


def expire_overdue(runtime: Runtime, push: Push, now: datetime | None = None) -> Push:
    """Bring a stored push up to date: expire it if its time ran out (owner views call this)."""
    now = now or utcnow()
    if push.expired or push.expires_at > now:
        return push
    with transaction(runtime.engine) as db:
        fresh = db.get(Push, push.id)
        if fresh is not None:
            expire(db, fresh, "time", audit.SYSTEM, now)
    if fresh is None:
        return push
    delete_blobs_of(runtime, fresh, now)
    return fresh


# --- an account's pushes -------------------------------------------------------------------------

def pushes_of_owner(
    runtime: Runtime, owner_id: str, expired: bool, page: int = 1, per_page: int = 50, now: datetime | None = None,
    name_contains: str = "",
) -> list[Push]:
    """An account's active or expired pushes, newest first, `per_page` at a time.

    Overdue pushes are expired (and their secrets deleted) first, so a list never shows
    a push as active after its time ran out, even between two runs of the purge job.
    `name_contains` keeps the pushes whose name holds that text (any case).
    """
    now = now or utcnow()
    with transaction(runtime.engine) as db:
        overdue = db.exec(
            select(Push).where(Push.owner_id == owner_id, Push.expired == False, Push.expires_at <= now)  # noqa: E712
        ).all()
        for push in overdue:
            expire(db, push, "time", audit.SYSTEM, now)
    for push in overdue:
        delete_blobs_of(runtime, push, now)
    with transaction(runtime.engine, write=False) as db:
        query = (
            select(Push)
            .where(Push.owner_id == owner_id, Push.expired == expired, *_name_filter(name_contains))
            .order_by(Push.created_at.desc(), Push.id)
            .offset(max(page - 1, 0) * per_page)
            .limit(per_page)
        )
        return list(db.exec(query))


def _name_filter(name_contains: str) -> list:
    text = (name_contains or "").strip()[:255]
    if not text:
        return []
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return [func.lower(Push.name).like(f"%{escaped.lower()}%", escape="\\")]


def count_pushes_of_owner(runtime: Runtime, owner_id: str, expired: bool, name_contains: str = "") -> int:
    with transaction(runtime.engine, write=False) as db:
        return db.exec(
            select(func.count()).select_from(Push)
            .where(Push.owner_id == owner_id, Push.expired == expired, *_name_filter(name_contains))
        ).one()


def owned_push(runtime: Runtime, owner_id: str, push_id: str) -> Push:
    """An account's own push by id; PushUnavailable for anyone else's (the same answer as
    for no push at all, so ids can't be probed)."""
    with transaction(runtime.engine, write=False) as db:
        push = db.get(Push, push_id) if isinstance(push_id, str) and len(push_id) <= 32 else None
    if push is None or owner_id is None or push.owner_id != owner_id:
        raise PushUnavailable()
    return push


def audit_trail(runtime: Runtime, push: Push, page: int = 1) -> list[AuditEvent]:
    """The events of a push its owner is already looking at (a refresh, not a new look: not logged)."""
    with transaction(runtime.engine, write=False) as db:
        return audit.events_for(db, push.id, page=page)


def count_claimable(runtime: Runtime, manage_tokens: list[str]) -> int:
    """How many of these pushes (a browser's manage tokens) belong to no account yet: what
    `claim_pushes` would move.  Pushes created while logged in are already the account's."""
    tokens = [t for t in manage_tokens if looks_like_token(t)][:MAX_CLAIMED]
    with transaction(runtime.engine, write=False) as db:
        found = (find_by_manage_token(db, runtime, token) for token in tokens)
        return sum(1 for push in found if push is not None and push.owner_id is None)


def pushes_of_manage_tokens(runtime: Runtime, manage_tokens: list[str], now: datetime | None = None) -> dict[str, Push]:
    """The pushes behind a browser's manage tokens (My pushes), brought up to date (overdue
    ones expired first, as every owner's list does), by token; unknown tokens are left out.
    A list, not a look at one push: no owner view is logged."""
    now = now or utcnow()
    tokens = [t for t in manage_tokens if looks_like_token(t)][:MAX_CLAIMED]
    with transaction(runtime.engine, write=False) as db:
        found = {token: find_by_manage_token(db, runtime, token) for token in tokens}
    return {token: expire_overdue(runtime, push, now) for token, push in found.items() if push is not None}


def claim_pushes(runtime: Runtime, user_id: str, manage_tokens: list[str], now: datetime | None = None) -> int:
    """Move pushes this browser created anonymously (it holds their manage tokens) into an
    account.  Only unowned pushes move: a manage token never takes a push from another
    account.  Returns how many moved."""
    now = now or utcnow()
    tokens = [t for t in manage_tokens if looks_like_token(t)][:MAX_CLAIMED]
    claimed = 0
    with transaction(runtime.engine) as db:
        for token in tokens:
            push = find_by_manage_token(db, runtime, token)
            if push is None or push.owner_id is not None:
                continue
            claimed += db.execute(
                update(PUSHES).where(PUSHES.c.id == push.id, PUSHES.c.owner_id.is_(None))
                .values(owner_id=user_id, updated_at=now)
            ).rowcount
    return claimed


# --- the creator's manage link --------------------------------------------------------------------

@dataclass
class ManagedPush:
    push: Push
    note: str
    events: list[AuditEvent]


# A page's look at a push is logged once in this long per owner's browser: its own reloads,
# reconnects and a second look soon after are the same look.
OWNER_VIEW_COALESCE = timedelta(minutes=30)


def owner_view(runtime: Runtime, push: Push, client: Client, now: datetime | None = None, page: int = 1) -> ManagedPush:
    """The owner's look at a push on a page: status, note and audit trail; logged as
    `owner_view`, as Password Pusher does, but not again while the same client (address,
    browser, account) had a logged look at it in the last OWNER_VIEW_COALESCE.  (The API's
    audit calls read the trail without a look logged: audit_trail.)"""
    now = now or utcnow()
    push = expire_overdue(runtime, push, now)
    with transaction(runtime.engine) as db:
        if not _looked_lately(db, push.id, client, now):
            audit.record(db, push.id, audit.OWNER_VIEW, client, now)
    with transaction(runtime.engine, write=False) as db:
        events = audit.events_for(db, push.id, page=page)
    return ManagedPush(push=push, note=open_note(runtime, push), events=events)


def _looked_lately(db, push_id: str, client: Client, now: datetime) -> bool:
    return db.exec(
        select(AuditEvent.id).where(
            AuditEvent.push_id == push_id, AuditEvent.kind == audit.OWNER_VIEW,
            AuditEvent.created_at > now - OWNER_VIEW_COALESCE,
            AuditEvent.ip == audit.cut(client.ip, 64), AuditEvent.user_agent == audit.cut(client.user_agent),
            AuditEvent.user_id == client.user_id if client.user_id else AuditEvent.user_id.is_(None),
        ).limit(1)
    ).first() is not None


def manage_view(runtime: Runtime, manage_token: str, client: Client, now: datetime | None = None, page: int = 1) -> ManagedPush:
    """The manage link's page: the push behind the token, seen by its creator (a look logged
    once per OWNER_VIEW_COALESCE from the same browser)."""
    return owner_view(runtime, find_managed(runtime, manage_token), client, now, page)


def expire_managed(runtime: Runtime, manage_token: str, client: Client, now: datetime | None = None) -> ManagedPush:
    """"Expire now" through the manage link: the push expired, and how it looks afterwards."""
    push = expire_by_owner(runtime, find_managed(runtime, manage_token), client, now)
    return ManagedPush(push=push, note="", events=audit_trail(runtime, push))
