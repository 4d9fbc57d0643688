"""Attempts at a push's passphrase (or its recipient's code): each written down before it is
checked, the limits it is checked against, and what becomes of it when the database is busy.

- An attempt is reserved (a `failed_passphrase` or `wrong_code` row) under the write lock
  before Argon2 runs, so parallel guesses can't slip past a limit (core/reveal.py's rules).
  A right one is deleted in the transaction that acts on it; a wrong one stays: the guess.
- "Busy, nothing was changed" holds: when the write that settles an attempt (the view that
  uses a right one, the lock and burn after a wrong one) can't be had, the reservation is
  withdrawn in a short transaction of its own (`settled_or_withdrawn`).
- If even that fails, the row counts as a guess for the per-client and per-push limits (ten
  minutes, an hour), but the last chance of `burn_after_failed_passphrases` waits for it
  only as long as it may still be being checked (`in_flight_seconds`): then the right
  passphrase opens the push and the next wrong one burns it.  Nothing locks a push for ever.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterator

from sqlalchemy import bindparam, delete, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from pwpush_app.core import audit
from pwpush_app.core.audit import Client
from pwpush_app.core.db import transaction
from pwpush_app.core.errors import PushLocked, TooManyAttempts
from pwpush_app.core.hashing import WAIT_SECONDS
from pwpush_app.core.models import AuditEvent, Push
from pwpush_app.core.network import client_network
from pwpush_app.core.push_policies import burns_left
from pwpush_app.core.runtime import Runtime

log = logging.getLogger("pwpush")


@dataclass
class Reservation:
    event_id: int
    # Left to this client after this attempt, if it is wrong.
    attempts_left: int
    # This attempt, if wrong, is the one that locks the push for everyone.
    locks_push: bool
    # Wrong passphrases the push takes after this one, if wrong, before it is deleted (None:
    # the sender set no such limit; 0: this one deletes it).
    burns_left: int | None = None


def guess_windows(runtime: Runtime) -> tuple[timedelta, timedelta]:
    """How far back wrong guesses count: against one client, against everyone."""
    settings = runtime.settings
    return (timedelta(minutes=settings.passphrase_lockout_minutes),
            timedelta(minutes=settings.passphrase_push_lockout_minutes))


def recent_guesses(db: Session, runtime: Runtime, push_id: str, now: datetime) -> list:
    """(ip, when) of the push's wrong guesses in the longer window: what the limits count (an
    attempt without a passphrase is logged but is no guess)."""
    return db.execute(
        sa_select(AuditEvent.ip, AuditEvent.created_at).where(
            AuditEvent.push_id == push_id,
            AuditEvent.kind.in_(audit.GUESS_KINDS),
            func.coalesce(AuditEvent.actor, "") != audit.NO_PASSPHRASE,
            AuditEvent.created_at > now - max(guess_windows(runtime)),
        )
    ).all()


def reserve_attempt(db: Session, runtime: Runtime, push: Push, client: Client, now: datetime,
                    kind: str = audit.FAILED_PASSPHRASE) -> Reservation:
    """Refuse when this client, or everyone together, had too many wrong passphrases (or
    codes) for this push lately; otherwise write this attempt down as a failed `kind`
    (undone if right)."""
    if db.get_bind().dialect.name == "postgresql":
        db.exec(select(Push.id).where(Push.id == push.id).with_for_update())
    settings = runtime.settings
    client_window, push_window = guess_windows(runtime)
    recent = recent_guesses(db, runtime, push.id, now)
    everyone = sorted(at for _ip, at in recent if at > now - push_window)
    if len(everyone) >= settings.passphrase_push_max_failures:
        raise PushLocked(_seconds_until(everyone[-settings.passphrase_push_max_failures] + push_window, now))
    network = client_network(client.ip, settings.ipv6_prefix)
    mine = sorted(
        at for ip, at in recent if at > now - client_window and client_network(ip, settings.ipv6_prefix) == network
    )
    if len(mine) >= settings.passphrase_max_failures:
        raise TooManyAttempts(_seconds_until(mine[-settings.passphrase_max_failures] + client_window, now))
    burns = None
    if burns_left(push, 0) is not None:
        # Every wrong passphrase of the push's life, and those being checked right now.
        wrong_ever, newest = db.execute(_WRONG_EVER, {"push_id": push.id}).one()
        burns = burns_left(push, wrong_ever)
        if burns == 0:
            settled_by = newest + timedelta(seconds=in_flight_seconds(runtime))
            if settled_by > now:
                # The last allowed guesses may be being checked: a right one keeps the push.
                raise PushLocked(_seconds_until(settled_by, now))
            # None is: the burn of the last one was never written (the database busy).
            burns = 1
    return Reservation(
        event_id=audit.record(db, push.id, kind, client, now),
        attempts_left=settings.passphrase_max_failures - len(mine) - 1,
        locks_push=len(everyone) + 1 == settings.passphrase_push_max_failures,
        burns_left=None if burns is None else burns - 1,
    )


def in_flight_seconds(runtime: Runtime) -> float:
    """The longest an attempt stays unsettled, counted from its request's start (its row's
    time): three transactions (the reservation, the one that acts, the withdrawal), each
    waiting at most twice the busy timeout (a pooled connection, then the lock), and two
    Argon2 checks (a passphrase with and without the spaces around it) each waiting at most
    `WAIT_SECONDS` for its turn; 5 s to spare."""
    return 3 * 2 * runtime.settings.busy_timeout_ms / 1000 + 2 * WAIT_SECONDS + 5


def withdraw(db: Session, event_id: int) -> None:
    """An attempt that is no failure (right, or never settled): not a guess after all."""
    db.execute(delete(AuditEvent).where(AuditEvent.id == event_id))


@contextmanager
def settled_or_withdrawn(runtime: Runtime, event_id: int | None) -> Iterator[None]:
    """Around what settles a reserved attempt: if it fails (the database busy, Argon2 out of
    turns), nothing of it was written, so the reservation is withdrawn in a transaction of
    its own; if even that can't be had, `in_flight_seconds` bounds what it holds up."""
    try:
        yield
    except BaseException:
        if event_id is not None:
            try:
                with transaction(runtime.engine) as db:
                    withdraw(db, event_id)
            except Exception as error:
                log.warning("A passphrase attempt could not be withdrawn (%s): it counts for a while", error)
        raise


_WRONG_EVER = sa_select(func.count(), func.max(AuditEvent.created_at)).where(
    AuditEvent.push_id == bindparam("push_id"),
    AuditEvent.kind.in_(audit.GUESS_KINDS),
    func.coalesce(AuditEvent.actor, "") != audit.NO_PASSPHRASE,
)


def _seconds_until(moment: datetime, now: datetime) -> int:
    return int((moment - now).total_seconds()) + 1
