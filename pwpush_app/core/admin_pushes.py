"""Every push's metadata for administrators, and "Expire" on any push.

What an administrator sees of a push is its metadata only: kind, when it was made, its
owner's address (or "anonymous"), views used of views allowed, when it expires, its state
and how many files of what size.  Never its payload, note, passphrase, name, recipient,
link or any token: `PushRow` has no field that could hold one, and the query reads no such
column.  The push's id (a random database key, not its link's token) names it for "Expire".

`expire_push` expires through core's expiry (records.expire: the data key, payload, note,
link and passphrase hash deleted in the same UPDATE; files deleted after the commit), with
the reason "admin", and writes the admin audit log in the same transaction.  Both check
the administrator afresh (`admin.require_admin_area`), the expiry inside its transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, not_
from sqlmodel import select

from pwpush_app.core import crypto, records
from pwpush_app.core.admin import MAX_SEARCH_CHARS, NotAdmin, address_contains, require_admin_area
from pwpush_app.core.admin_actions import EXPIRE_PUSH, PUSH_EXPIRED, AdminRefused, Done, log_action
from pwpush_app.core.audit import Client
from pwpush_app.core.clock import utcnow
from pwpush_app.core.db import transaction
from pwpush_app.core.file_downloads import delete_blobs_of
from pwpush_app.core.i18n import N_, said
from pwpush_app.core.models import Push, PushFile, User
from pwpush_app.core.runtime import Runtime
from pwpush_app.settings import KINDS

PUSHES_PER_PAGE = 50
MAX_PAGE = 10_000
ACTIVE, EXPIRED = "active", "expired"
STATES = (ACTIVE, EXPIRED)
# The reason an administrator's expiry leaves on the push (expired_reason holds 8 characters).
ADMIN_REASON = "admin"
# How the list names a push without an owner.
ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class PushRow:
    """One push as the admin list shows it: metadata, never a secret."""

    id: str
    kind: str
    created_at: datetime
    owner_email: str | None
    views_used: int
    views_allowed: int
    expires_at: datetime
    # "active" (its link works now) or "expired" (by views, time, a person or the purge-to-be).
    state: str
    expired_at: datetime | None
    expired_reason: str | None
    files: int
    file_bytes: int


@dataclass(frozen=True)
class PushPage:
    rows: list[PushRow]
    page: int
    # Pushes matching the search in all, and whether a next page holds more.
    total: int
    has_more: bool


class BadListRequest(AdminRefused):
    """A filter the list does not know (a crafted event or API call): nothing is read."""


def _page_number(page) -> int:
    try:
        number = int(page)
    except (TypeError, ValueError):
        raise BadListRequest(said(N_("{field} must be a whole number."), field="page")) from None
    return min(max(number, 1), MAX_PAGE)


def list_pushes(runtime: Runtime, admin_id: str | None, search: str = "", state: str = "", kind: str = "",
                page=1, now: datetime | None = None) -> PushPage:
    """Pushes newest first, `PUSHES_PER_PAGE` a page: `search` in the owner's address
    ("anonymous": pushes without an owner), `state` active | expired, `kind` text | file | url | qr."""
    require_admin_area(runtime, admin_id)
    now = now or utcnow()
    search = (search if isinstance(search, str) else "").strip().lower()[:MAX_SEARCH_CHARS]
    if state not in ("", *STATES):
        raise BadListRequest(said(N_("The state must be one of {states} (or nothing, for both)."),
                                  states=", ".join(STATES)))
    if kind not in ("", *KINDS):
        raise BadListRequest(said(N_("The kind must be one of {kinds} (or nothing, for every kind)."),
                                  kinds=", ".join(KINDS)))
    page = _page_number(page)
    conditions = []
    if search == ANONYMOUS:
        conditions.append(Push.owner_id == None)  # noqa: E711
    elif search:
        conditions.append(address_contains(search))
    live = records.live_at(now)  # an overdue push the purge has not reached yet is expired here too
    if state:
        conditions.append(live if state == ACTIVE else not_(live))
    if kind:
        conditions.append(Push.kind == kind)
    # Only metadata columns are selected: no sealed field, hash or digest leaves the database.
    columns = (Push.id, Push.kind, Push.created_at, User.email, Push.expire_after_views, Push.views_remaining,
               Push.expires_at, live, Push.expired_at, Push.expired_reason)
    with transaction(runtime.engine, write=False) as db:
        total = db.exec(select(func.count()).select_from(Push).outerjoin(User, User.id == Push.owner_id)
                        .where(*conditions)).one()
        rows = db.exec(select(*columns).outerjoin(User, User.id == Push.owner_id).where(*conditions)
                       .order_by(Push.created_at.desc(), Push.id).offset((page - 1) * PUSHES_PER_PAGE)
                       .limit(PUSHES_PER_PAGE)).all()
        ids = [row[0] for row in rows]
        files = {push_id: (int(n), int(size or 0)) for push_id, n, size in db.exec(
            select(PushFile.push_id, func.count(), func.sum(PushFile.size)).where(PushFile.push_id.in_(ids))
            .group_by(PushFile.push_id))} if ids else {}
    return PushPage(
        rows=[PushRow(id=push_id, kind=kind_, created_at=created, owner_email=email, views_used=allowed - remaining,
                      views_allowed=allowed,
                      expires_at=expires, state=ACTIVE if is_live else EXPIRED,
                      expired_at=expired_at, expired_reason=reason, files=files.get(push_id, (0, 0))[0],
                      file_bytes=files.get(push_id, (0, 0))[1])
              for push_id, kind_, created, email, allowed, remaining, expires, is_live, expired_at, reason in rows],
        page=page, total=int(total), has_more=page * PUSHES_PER_PAGE < total)


def expire_push(runtime: Runtime, admin_id: str | None, push_id, client: Client, now: datetime | None = None) -> Done:
    """Expire any push now, as its owner's "Expire now" does: its payload, note, link and
    passphrase go at once, its files right after; logged in the admin audit log."""
    require_admin_area(runtime, admin_id)
    now = now or utcnow()
    if not crypto.could_be_id(push_id):
        raise AdminRefused(N_("No push was chosen: reload the list and try again."))
    with transaction(runtime.engine) as db:
        actor = db.exec(select(User).where(User.id == admin_id).with_for_update()).first()
        if actor is None or not actor.is_admin:
            raise NotAdmin()
        push = db.exec(select(Push).where(Push.id == push_id).with_for_update()).first()
        if push is None:
            raise AdminRefused(N_("That push no longer exists: reload the list."))
        if push.expired:
            raise AdminRefused(N_("That push has expired already: its secret is gone."))
        owner = db.get(User, push.owner_id) if push.owner_id else None
        records.expire(db, push, ADMIN_REASON, client, now)
        detail = said(PUSH_EXPIRED, kind=push.kind, id=push.id[:8], used=push.views_used, total=push.expire_after_views)
        log_action(db, actor, EXPIRE_PUSH, push.id, owner.email if owner else ANONYMOUS, client, now, detail)
    delete_blobs_of(runtime, push, now)
    return Done(EXPIRE_PUSH, owner.email if owner else ANONYMOUS, detail)
