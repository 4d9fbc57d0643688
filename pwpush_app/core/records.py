"""A stored push: finding it by a token, refusing it unless it is live, and expiring it.

What every other rule builds on (create, reveal, owners, purge, file downloads):
- a push is found by a keyed hash of its link or manage token (one per master key, so
  links made before a key rotation still work), never by the token itself;
- expiry deletes the secret material, the payload, note, link, passphrase hash and data
  key (crypto-shredding), not only a flag, and logs who did it; it happens once;
- outsiders can't tell an unknown link from an expired one (`PushUnavailable`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, and_, bindparam, cast, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from pwpush_app.core import audit, owner_events
from pwpush_app.core.audit import Client
from pwpush_app.core.db import transaction
from pwpush_app.core.db_fast import Tx
from pwpush_app.core.errors import PushUnavailable
from pwpush_app.core.models import Push
from pwpush_app.core.runtime import Runtime
from pwpush_app.core.sealed_fields import LINK, NOTE

PUSHES = Push.__table__

# The hot path's statements are built once (with bound parameters): building a SQLAlchemy
# statement costs more than SQLite takes to run it.
#
# "Not expired" as an expression, not a bare column: where a push is looked up by its
# token or id, SQLite would otherwise pick an (expired, ...) index for an IN list and walk
# every live push.  Only the purge, which wants every overdue push, uses those indexes.
NOT_EXPIRED = cast(PUSHES.c.expired, Integer) == 0
def _live(now) -> tuple:
    return (NOT_EXPIRED, PUSHES.c.views_remaining > 0, PUSHES.c.expires_at > now)


# `Push.is_live` for statements built once: the moment is their bound parameter "now".
LIVE = _live(bindparam("now"))


def live_at(now: datetime):
    """`Push.is_live` as a SQL condition, for queries that count or sort pushes by it: an
    overdue push the purge has not reached yet is not live, whatever its stored flag says."""
    return and_(*_live(now))


# Expiry deletes the secret material, not only sets a flag.
WIPED = dict(wrapped_key=None, payload_sealed=None, note_sealed=None, link_sealed=None, passphrase_hash=None,
             verify_email_sealed=None, verify_code_digest=None)
# Expires the given pushes that are not expired yet; returns the ids it expired.
EXPIRE = (
    update(PUSHES)
    .where(PUSHES.c.id.in_(bindparam("push_ids", expanding=True)), NOT_EXPIRED)
    .values(expired=True, expired_at=bindparam("now"), expired_reason=bindparam("reason"), updated_at=bindparam("now"), **WIPED)
    .returning(PUSHES.c.id)
)
# The same for one push (one bound id: the hot path's statements expand no lists).
EXPIRE_ONE = (
    update(PUSHES)
    .where(PUSHES.c.id == bindparam("push_id"), NOT_EXPIRED)
    .values(expired=True, expired_at=bindparam("now"), expired_reason=bindparam("reason"), updated_at=bindparam("now"), **WIPED)
    .returning(PUSHES.c.id)
)
# Who expired a push, as the audit trail names it.
BY_PEOPLE = ("owner", "viewer", "admin")

_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def looks_like_token(token: str) -> bool:
    """Could be one of our tokens (link, manage, download grant): anything else is refused
    before it costs a hash or a query."""
    return isinstance(token, str) and bool(_TOKEN_RE.match(token))


def find_by_link(db: Session, runtime: Runtime, token: str) -> Push | None:
    if not looks_like_token(token):
        return None
    return db.exec(select(Push).where(Push.token_digest.in_(runtime.keyring.token_digests(token)))).first()


def find_by_manage_token(db: Session, runtime: Runtime, manage_token: str) -> Push | None:
    if not looks_like_token(manage_token):
        return None
    return db.exec(select(Push).where(Push.manage_digest.in_(runtime.keyring.token_digests(manage_token)))).first()


def find_push(runtime: Runtime, token: str) -> Push | None:
    """The push behind a secret link token, expired or not (for owner checks and the API)."""
    with transaction(runtime.engine, write=False) as db:
        return find_by_link(db, runtime, token)


def find_managed(runtime: Runtime, manage_token: str) -> Push:
    """The push behind a creator's manage link; PushUnavailable for none."""
    with transaction(runtime.engine, write=False) as db:
        push = find_by_manage_token(db, runtime, manage_token)
    if push is None:
        raise PushUnavailable()
    return push


def refuse_unless_live(db: Session, push: Push | None, client: Client, now: datetime) -> Push:
    """The push if it is live; otherwise log a failed view, expire it if it is overdue,
    and raise PushUnavailable (carrying the expired push, for the API's answer)."""
    if push is None:
        raise PushUnavailable()
    if not push.is_live(now):
        if not push.expired:
            expire(db, push, "time" if push.expires_at <= now else "views", audit.SYSTEM, now)
        audit.record(db, push.id, audit.FAILED_VIEW, client, now)
        raise PushUnavailable(expired=push)
    return push


def expire(db: Session | Tx, push: Push, reason: str, client: Client, now: datetime) -> bool:
    """Expire `push` and delete its secret material, once; True if this call did it.

    `reason`: views, time, owner or viewer.  The push object is brought up to date."""
    done = db.execute(EXPIRE_ONE, {"push_id": push.id, "now": now, "reason": reason}).first()
    if done is None:
        return False
    for key, value in dict(expired=True, expired_at=now, expired_reason=reason, updated_at=now, **WIPED).items():
        set_committed_value(push, key, value)
    kind = audit.EXPIRE if reason in BY_PEOPLE else audit.EXPIRE_AUTO
    audit.record(db, push.id, kind, client, now, actor=reason)
    owner_events.note(db, push, owner_events.DELETED if reason in BY_PEOPLE else owner_events.EXPIRED, client, now)
    return True


@dataclass(frozen=True)
class OwnersCopy:
    """What only the owner sees of a live push: its link and note (empty once expired)."""

    link_token: str | None
    note: str


def open_for_owner(runtime: Runtime, push: Push) -> OwnersCopy:
    """The link and the note, opened with one unwrap of the data key."""
    if push.wrapped_key is None:
        return OwnersCopy(None, "")
    data_key = runtime.keyring.open_data_key(push.id, push.wrapped_key)
    return OwnersCopy(
        link_token=data_key.open_text(push.id, LINK, push.link_sealed) if push.link_sealed else None,
        note=data_key.open_text(push.id, NOTE, push.note_sealed) if push.note_sealed else "",
    )


def open_note(runtime: Runtime, push: Push) -> str:
    """The owner's note, while the push is live ("" without one)."""
    if push.note_sealed is None or push.wrapped_key is None:
        return ""
    return runtime.keyring.open_data_key(push.id, push.wrapped_key).open_text(push.id, NOTE, push.note_sealed)


def open_link_token(runtime: Runtime, push: Push) -> str | None:
    """The secret link's token for its owner, while the push is live."""
    if push.link_sealed is None or push.wrapped_key is None:
        return None
    return runtime.keyring.open_data_key(push.id, push.wrapped_key).open_text(push.id, LINK, push.link_sealed)
