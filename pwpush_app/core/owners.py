"""What a push's owner may do: an account's lists, expiring a push now, the manage link's
view with its audit trail, editing a live push, and moving a browser's anonymous pushes
into an account.

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
from pwpush_app.core.create import check_end_to_end, check_payload, check_text, normalize_passphrase
from pwpush_app.core.db import transaction
from pwpush_app.core.errors import InvalidPush, NoLongerEditable, PushUnavailable
from pwpush_app.core.file_downloads import delete_blobs_of
from pwpush_app.core.i18n import N_, said
from pwpush_app.core.models import AuditEvent, Push
from pwpush_app.core.records import (
    LIVE,
    PUSHES,
    expire,
    find_by_manage_token,
    find_managed,
    looks_like_token,
    open_note,
)
from pwpush_app.core.runtime import Runtime
from pwpush_app.core.sealed_fields import NOTE, PAYLOAD

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


# --- editing a live push ----------------------------------------------------------------------------

@dataclass
class PushEdit:
    """What an owner changes in a live push, as Password Pusher lets them; None keeps a field.

    `payload`: a new secret for the same link ("" keeps it: the current one is never shown
    back).  `passphrase`: a new one (hashed anew) or "" to remove it.  `note`: "" removes it.
    `expire_after_views` / `expire_after_minutes`: the whole allowance and lifetime, counted
    from creation as when it was created; views already used and time already passed stay
    used.  The kind and the files never change."""

    name: str | None = None
    note: str | None = None
    payload: str | None = None
    passphrase: str | None = None
    expire_after_views: int | None = None
    expire_after_minutes: int | None = None
    retrieval_step: bool | None = None
    deletable_by_viewer: bool | None = None


def _edit_errors(runtime: Runtime, push: Push, edit: PushEdit, now: datetime) -> dict[str, str]:
    settings = runtime.settings
    policy = settings.policy(push.kind)
    errors: dict[str, str] = {}
    if edit.payload and push.end_to_end:
        # End-to-end: only a new envelope (a client's; the link's key changes with it).
        check_end_to_end(push.kind, edit.payload, True, settings, errors)
    elif edit.payload:
        check_payload(push.kind, edit.payload, settings, errors)
    for name in ("name", "note", "passphrase"):
        if getattr(edit, name) is not None:
            check_text(name, getattr(edit, name), errors)
    views = edit.expire_after_views
    if views is not None:
        lowest = max(policy.views_min, push.views_used + 1)
        if not _whole(views) or not lowest <= views <= policy.views_max:
            errors["expire_after_views"] = (
                said(N_("Views must be a whole number from {min} to {max}: {count} already used."), min=lowest,
                     max=policy.views_max, count=push.views_used)
                if push.views_used else said(N_("Views must be a whole number from {min} to {max}."), min=lowest,
                                             max=policy.views_max))
    minutes = edit.expire_after_minutes
    if minutes is not None:
        age = int((now - push.created_at).total_seconds() // 60)
        shortest = max(policy.minutes_min, age + 1)
        if not _whole(minutes) or not shortest <= minutes <= policy.minutes_max:
            errors["expire_after"] = (
                said(N_("The lifetime (from creation) must be from {shortest_span} to {longest_span}: the push is "
                        "{age_span} old."), shortest_span=shortest, longest_span=policy.minutes_max, age_span=age)
                if age else said(N_("The lifetime (from creation) must be from {shortest_span} to {longest_span}."),
                                 shortest_span=shortest, longest_span=policy.minutes_max))
    if settings.require_passphrase and isinstance(edit.passphrase, str) and not normalize_passphrase(edit.passphrase):
        errors["passphrase"] = N_("This site requires a passphrase on every push: it can be changed, not removed.")
    for name in ("retrieval_step", "deletable_by_viewer"):
        if getattr(edit, name) is not None and not isinstance(getattr(edit, name), bool):
            errors[name] = said(N_("{field} must be true or false."), field=name)
    return errors


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def edit_push(runtime: Runtime, push: Push, edit: PushEdit, client: Client, now: datetime | None = None) -> Push:
    """The owner (checked by the caller: manage token or account) changes a live push.

    Checked against the kind's policy like a new push (InvalidPush, a message per field);
    an expired push is NoLongerEditable.  One conditional UPDATE: a view taken meanwhile
    is never handed back, and a push that expired meanwhile stays expired.  Logged `edit`."""
    now = now or utcnow()
    with transaction(runtime.engine, write=False) as db:
        push = db.get(Push, push.id)  # as it is now: the caller's copy may be minutes old
    if push is None:
        raise PushUnavailable()
    push = expire_overdue(runtime, push, now)
    if not push.is_live(now):
        raise NoLongerEditable()
    errors = _edit_errors(runtime, push, edit, now)
    if errors:
        raise InvalidPush(errors)
    policy = runtime.settings.policy(push.kind)
    values: dict = {"updated_at": now}
    if edit.name is not None:
        values["name"] = edit.name.strip()
    if edit.retrieval_step is not None:
        values["retrieval_step"] = edit.retrieval_step and policy.retrieval_step_allowed
    if edit.deletable_by_viewer is not None:
        values["deletable_by_viewer"] = edit.deletable_by_viewer and policy.deletable_by_viewer_allowed
    if edit.passphrase is not None:
        passphrase = normalize_passphrase(edit.passphrase)  # as a new push keeps it: "  " is none
        values["passphrase_hash"] = runtime.hashing.hash(passphrase) if passphrase else None
        values["has_passphrase"] = bool(passphrase)
    if edit.payload or edit.note is not None:
        data_key = runtime.keyring.open_data_key(push.id, push.wrapped_key)
        if edit.payload:
            values["payload_sealed"] = data_key.seal_text(push.id, PAYLOAD, edit.payload)
        if edit.note is not None:
            values["note_sealed"] = data_key.seal_text(push.id, NOTE, edit.note) if edit.note else None
    conditions = [PUSHES.c.id == push.id, *LIVE]
    if edit.expire_after_views is not None:
        total = edit.expire_after_views
        values["expire_after_views"] = total
        # The views already used stay used, however many were taken since the check above.
        values["views_remaining"] = PUSHES.c.views_remaining + (total - PUSHES.c.expire_after_views)
        conditions.append(PUSHES.c.expire_after_views - PUSHES.c.views_remaining < total)
    if edit.expire_after_minutes is not None:
        values["expire_after_minutes"] = edit.expire_after_minutes
        values["expires_at"] = push.created_at + timedelta(minutes=edit.expire_after_minutes)
    with transaction(runtime.engine) as db:
        changed = db.execute(update(PUSHES).where(*conditions).values(**values), {"now": now}).rowcount
        if changed:
            audit.record(db, push.id, audit.EDIT, client, now)
    if not changed:
        # It expired, or its views ran out, in the meantime.
        raise NoLongerEditable()
    with transaction(runtime.engine, write=False) as db:
        return db.get(Push, push.id)


def edit_managed(runtime: Runtime, manage_token: str, edit: PushEdit, client: Client,
                 now: datetime | None = None) -> Push:
    """An edit through the manage link (a creator without an account)."""
    return edit_push(runtime, find_managed(runtime, manage_token), edit, client, now)
