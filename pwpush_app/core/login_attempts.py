"""Wrong passwords, codes and passkeys for a login address, and the lock they end in.

- An attempt is **reserved before its guess is checked**: one conditional upsert counts it
  as wrong while the address is not locked and fewer than `login_max_failures` are counted
  (those being checked right now included), or it refuses (LoginLocked) and the guess is
  never checked.  So parallel guesses get at most the limit of checks per lock period: a
  check-then-count would let every guess in flight past the lock (an audit saw 43-49 codes
  of a burst of 100 checked, against a limit of 10).
- A wrong guess leaves its count; the one that reaches the limit locks the address for
  `login_lockout_minutes` (and mails the account's owner an unlock link, account emails).
- A right guess clears the count (the caller deletes the row), or gives its reservation back
  (`give_back`) where it proves less than a whole login: a right password before its code, a
  current password asked again by a logged-in form (the session may be a thief's).
- Rows are keyed by a keyed digest of the address, known or not: unknown addresses count
  and lock exactly as accounts do, so nothing tells them apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import import_module
from typing import Callable, TypeVar

from sqlalchemy import update

from pwpush_app.core import account_mail
from pwpush_app.core.account_messages import LoginLocked
from pwpush_app.core.db import transaction
from pwpush_app.core.models import LoginFailures, User
from pwpush_app.core.runtime import Runtime

T = TypeVar("T")
_ROW = LoginFailures.__table__.c


@dataclass(frozen=True)
class Attempt:
    """One guess allowed to be checked: already counted as wrong (`failures`, itself included)."""

    digest: str
    failures: int


def lock_end(runtime: Runtime, failures: LoginFailures | None, now: datetime) -> datetime | None:
    """When the lock of this row ends as the login tells it, or None (not locked).  A lock set
    by an administrator lasts until one lifts it, but is told like a wrong-password lock
    (paused for the usual while, from now): the answer never tells whether the address has an
    account, and only an account can be locked by an administrator."""
    until = failures.locked_until if failures is not None else None
    if until is None or until <= now:
        return None
    if failures.by_admin:
        return now + timedelta(minutes=runtime.settings.login_lockout_minutes)
    return until


def reserve(runtime: Runtime, digest: str, now: datetime) -> Attempt:
    """Count one guess for this address before it is checked (one write, the same for known
    and unknown addresses), or raise LoginLocked: locked, or every allowed guess is taken by
    guesses being checked (told as the usual lock, from now)."""
    settings = runtime.settings
    with transaction(runtime.engine) as db:
        # The dialect's own INSERT (for ON CONFLICT); PostgreSQL's module is loaded only where it is used.
        dialect = import_module(f"sqlalchemy.dialects.{db.get_bind().dialect.name}")
        open_ = ((_ROW.locked_until == None) | (_ROW.locked_until <= now)) & (  # noqa: E711
            _ROW.failures < settings.login_max_failures)
        # One statement: the count and the condition are read and written together (the row is
        # locked for the statement on PostgreSQL; SQLite has one writer).
        counted = db.execute(
            dialect.insert(LoginFailures.__table__)
            .values(email_digest=digest, failures=1, updated_at=now)
            .on_conflict_do_update(index_elements=["email_digest"],
                                   set_={"failures": _ROW.failures + 1, "updated_at": now}, where=open_)
            .returning(_ROW.failures)
        ).scalar_one_or_none()
        row = db.get(LoginFailures, digest) if counted is None else None
    if counted is None:
        raise LoginLocked(lock_end(runtime, row, now) or now + timedelta(minutes=settings.login_lockout_minutes))
    return Attempt(digest=digest, failures=counted)


def checked(runtime: Runtime, attempt: Attempt, check: Callable[[], T]) -> T:
    """`check()`'s answer; if it raised (the hashing busy, the database gone), the guess was
    never judged, so its reservation is given back."""
    try:
        return check()
    except Exception:
        give_back(runtime, attempt)
        raise


def give_back(runtime: Runtime, attempt: Attempt) -> None:
    """Uncount a reserved attempt that was no wrong guess (a lock set meanwhile stays)."""
    with transaction(runtime.engine) as db:
        db.execute(update(LoginFailures).where(LoginFailures.email_digest == attempt.digest, LoginFailures.failures > 0)
                   .values(failures=LoginFailures.failures - 1))


def count_wrong(runtime: Runtime, attempt: Attempt, now: datetime, user: User | None = None) -> datetime | None:
    """The reserved guess was wrong: it stays counted.  The one that reached the limit locks the
    address (and mails the owner of `user` an unlock link): the lock's end, or None."""
    settings = runtime.settings
    if attempt.failures < settings.login_max_failures:
        return None
    until = now + timedelta(minutes=settings.login_lockout_minutes)
    with transaction(runtime.engine) as db:
        # Not if a right guess cleared the count meanwhile.
        locked = db.execute(
            update(LoginFailures).where(LoginFailures.email_digest == attempt.digest,
                                        LoginFailures.failures >= settings.login_max_failures)
            .values(failures=0, locked_until=until)
        ).rowcount
        if locked and user is not None:
            account_mail.send_unlock(db, runtime, user, until, now)
    return until if locked else None


def count_failure(runtime: Runtime, digest: str, now: datetime, user: User | None = None) -> datetime | None:
    """A failure found before any guess was checked (a passkey of another account): reserved and
    counted at once.  Raises LoginLocked while locked; else as `count_wrong`."""
    return count_wrong(runtime, reserve(runtime, digest, now), now, user)
