"""Revealing a push, and a recipient deleting it: what a holder of the link may do.

- A view is taken by one conditional UPDATE (`views_remaining > 0`): the database applies
  concurrent ones one at a time, so no more callers than views get a row.  The view that
  leaves none also expires the push, in the same transaction: that, not the counter
  alone, is what keeps the last view the last (a mutation run showed it).
- Opening the link's page (`landing`) reads only: it consumes and logs nothing.
- The owner's own look (logged in, through the API) takes no view: it is logged
  `owner_view`, as in Password Pusher.
- One gate (`_admit_viewer`) for a view and for a recipient's delete: the push is live,
  and its passphrase is given when it has one (or, for a delete, the receipt of the
  reveal that gave it).
- Wrong passphrases consume nothing.  An attempt without one is logged (`failed_passphrase`)
  but is no guess: it counts towards no limit.  Each attempt is written down under the write lock
  before it is checked, so parallel guesses can't slip past a limit: five per client (an
  IPv4 address or an IPv6 /64) in ten minutes, twenty per push from everywhere in an hour
  (then the push refuses everyone for a while, and its owner sees why).  core/guesses.py
  keeps that record, and takes an attempt back when the database was too busy to settle it.
- The sender's policies (core/push_policies.py) are part of the gate: from outside the
  push's address allow-list the link is unknown (and `refused_address` logged), and the
  wrong passphrase that reaches `burn_after_failed_passphrases` expires the push.
- A push that verifies its recipient (core/recipient_code.py) takes a view only with the
  code mailed to them, checked and used up in the view's own transaction; a wrong code
  counts like a wrong passphrase (every limit above), a missing one changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from sqlalchemy import bindparam, func, update
from sqlmodel import Session

from pwpush_app.core import audit, owner_events
from pwpush_app.core.audit import Client
from pwpush_app.core.clock import utcnow
from pwpush_app.core.create import normalize_passphrase
from pwpush_app.core.db import transaction
from pwpush_app.core.db_fast import Tx, fast_transaction
from pwpush_app.core.errors import (
    NotAllowed,
    PassphraseRequired,
    PushError,
    PushUnavailable,
    UnexpectedPassphrase,
    WrongCode,
    WrongPassphrase,
)
from pwpush_app.core.file_downloads import FileDownloads, delete_blobs_of, grant_downloads
from pwpush_app.core.guesses import Reservation, reserve_attempt, settled_or_withdrawn, withdraw
from pwpush_app.core.i18n import N_
from pwpush_app.core.lockouts import Lockout, passphrase_lockouts  # noqa: F401  (the pages' import)
from pwpush_app.core.models import Push
from pwpush_app.core.push_policies import (
    BURNED,
    AddressRefused,
    OpenedBefore,
    address_allowed,
    opened_before,
    refuse_unless_allowed,
)
from pwpush_app.core.recipient_code import code_matches, needs_code, pending_code, require_code_given, use_code
from pwpush_app.core.records import LIVE, PUSHES, expire, find_by_link, looks_like_token, refuse_unless_live
from pwpush_app.core.runtime import Runtime
from pwpush_app.core.sealed_fields import NOTE, PAYLOAD

# The times of views ride along (core/push_policies.py's OpenedBefore): SET reads the row as
# it was, so previous_viewed_at gets the newest view before this one.
_TAKE_VIEW = update(PUSHES).values(
    views_remaining=PUSHES.c.views_remaining - 1, updated_at=bindparam("now"),
    first_viewed_at=func.coalesce(PUSHES.c.first_viewed_at, bindparam("now")),
    previous_viewed_at=PUSHES.c.last_viewed_at, last_viewed_at=bindparam("now"),
)
_TAKE_VIEW_BY_ID = _TAKE_VIEW.where(PUSHES.c.id == bindparam("push_id"), *LIVE).returning(*PUSHES.c)
# The same by one digest, on the hot path's transaction (`fast_transaction`): file pushes,
# whose reveal grants downloads through the ORM, and pushes with an allow-list take the
# way through the gate.
_TAKE_VIEW_BY_DIGEST = _TAKE_VIEW.where(
    PUSHES.c.token_digest == bindparam("digest"), PUSHES.c.has_passphrase == False,  # noqa: E712
    PUSHES.c.kind != "file", PUSHES.c.allowed_ips == None, PUSHES.c.verify_email_sealed == None, *LIVE,  # noqa: E711
).returning(*PUSHES.c)

DELETE_RECEIPT = "viewer delete"
CODE_BEFORE_DELETE = N_("The sender verifies the recipient: reveal the secret with the emailed code first, then "
                        "delete it from the page that revealed it.")


@dataclass
class Landing:
    """What a recipient may know before revealing: nothing secret."""

    kind: str
    needs_passphrase: bool
    retrieval_step: bool
    # The sender asked to verify the recipient: a code by email first (core/recipient_code.py).
    needs_code: bool = False
    # End-to-end (core/e2e.py): the payload is an envelope the page opens with the link's fragment.
    end_to_end: bool = False


@dataclass
class Revealed:
    push: Push
    payload: str
    # The owner's note, when the one revealing is the push's owner (opened with the same key).
    note: str = ""
    # File pushes: the files and the grant to download them (see core.file_downloads).
    downloads: FileDownloads | None = None
    # Proof that this viewer passed the gate: lets the page that revealed the push delete
    # it without asking for the passphrase again (`expire_by_viewer`).  None when the
    # viewer may not delete it.
    delete_receipt: str | None = None
    # How often and when it was viewed before this view (pushes of several views).
    opened_before: OpenedBefore | None = None

    @property
    def views_remaining(self) -> int:
        return self.push.views_remaining

    @property
    def expires_at(self) -> datetime:
        return self.push.expires_at


def landing(runtime: Runtime, token: str, client: Client | None = None, now: datetime | None = None) -> Landing:
    """What the link's landing page may show.  Reads only: consumes nothing, logs nothing.
    Outside the push's allow-list (no `client`: outside every list) it is an unknown link."""
    now = now or utcnow()
    with transaction(runtime.engine, write=False) as db:
        push = find_by_link(db, runtime, token)
    if push is None or not push.is_live(now) or not address_allowed(push, (client or Client()).ip):
        raise PushUnavailable()
    return Landing(kind=push.kind, needs_passphrase=push.has_passphrase, retrieval_step=push.retrieval_step,
                   needs_code=needs_code(push, client or Client()), end_to_end=push.end_to_end)


def find_for_viewer(runtime: Runtime, token: str, client: Client) -> Push | None:
    """The push behind a link as a holder of the link may know it (expired or not): None
    for an unknown link, and from outside the push's allow-list.  Reads only."""
    with transaction(runtime.engine, write=False) as db:
        push = find_by_link(db, runtime, token)
    return push if push is not None and address_allowed(push, client.ip) else None


def reveal_push(
    runtime: Runtime, token: str, client: Client, passphrase: str | None = None, now: datetime | None = None,
    code: str | None = None,
) -> Revealed:
    """Consume one view and return the secret; the last view also expires the push.

    Raises PushUnavailable (with the expired push, if the link was real), PassphraseRequired,
    WrongPassphrase, TooManyAttempts (or its PushLocked), UnexpectedPassphrase, CodeRequired,
    CodeExpired, WrongCode, RateLimited or ServerBusy; none of those consumes a view.
    """
    now = now or utcnow()
    runtime.throttle.hit("reveal", client.ip)
    passphrase = passphrase or ""
    # (A logged-in caller may be the owner, whose look takes no view: the path below.)
    if not normalize_passphrase(passphrase) and client.user_id is None and looks_like_token(token):
        # The common case in one statement: take a view of a live push without passphrase
        # (one statement per master key's digest: after a rotation, older links too).
        revealed = None
        with fast_transaction(runtime.engine) as db:
            for digest in runtime.keyring.token_digests(token):
                revealed = _take_view(db, runtime, _TAKE_VIEW_BY_DIGEST, {"digest": digest}, client, now)
                if revealed:
                    break
        if revealed:
            return revealed

    admitted = _admit_viewer(runtime, token, client, passphrase, now, code=code)
    wrong: Reservation | None = None
    refused: PushError | None = None
    with settled_or_withdrawn(runtime, admitted.attempt), transaction(runtime.engine) as db:
        admitted.forget_attempt(db)
        if client.user_id is not None and client.user_id == admitted.push.owner_id:
            return _owner_look(db, runtime, admitted.push, client, now)
        if needs_code(admitted.push, client):
            try:
                wrong = _check_code(db, runtime, admitted.push, code, client, now)
            except PushError as refusal:  # no code waiting, or a lock-out: nothing counted
                refused = refusal
        revealed = None if wrong or refused else _take_view(
            db, runtime, _TAKE_VIEW_BY_ID, {"push_id": admitted.push.id}, client, now)
        if revealed is None and not (wrong or refused):
            # Someone else took the last view, or it was expired, in between.
            audit.record(db, admitted.push.id, audit.FAILED_VIEW, client, now)
            gone = db.get(Push, admitted.push.id)
    if refused:
        raise refused
    if wrong:
        _after_wrong_guess(runtime, admitted.push, client, now, wrong)
        raise WrongCode(wrong.attempts_left, runtime.settings.passphrase_lockout_minutes, wrong.burns_left)
    if revealed is None:
        delete_blobs_of(runtime, gone, now)
        raise PushUnavailable(expired=gone)
    return revealed


def _check_code(db: Session, runtime: Runtime, push: Push, code, client: Client, now: datetime) -> Reservation | None:
    """In the view's transaction: use up the right code (None), or keep the wrong one
    written down as a guess (its reservation).  The lock-outs of wrong passphrases apply."""
    digest = pending_code(db, push, now)
    attempt = reserve_attempt(db, runtime, push, client, now, audit.WRONG_CODE)
    if not code_matches(runtime, push.id, digest, code):
        return attempt
    _Admitted(push, attempt.event_id).forget_attempt(db)
    use_code(db, push.id, digest, client, now)
    return None


def _take_view(db: Session | Tx, runtime: Runtime, statement, which: dict, client: Client, now: datetime) -> Revealed | None:
    """Take one view with a single conditional UPDATE; the payload if this caller got it,
    and the expiry of the push in the same transaction when it was the last view."""
    row = db.execute(statement, {**which, "now": now}).first()
    if row is None:
        return None
    push = Push.from_columns(row._mapping)
    data_key = runtime.keyring.open_data_key(push.id, push.wrapped_key)
    payload = data_key.open_text(push.id, PAYLOAD, push.payload_sealed)
    owners = client.user_id is not None and client.user_id == push.owner_id
    note = data_key.open_text(push.id, NOTE, push.note_sealed) if owners and push.note_sealed else ""
    audit.record(db, push.id, audit.VIEW, client, now)
    owner_events.note(db, push, owner_events.VIEWED, client, now)
    downloads = grant_downloads(db, runtime, push, data_key, now) if push.kind == "file" else None
    if push.views_remaining == 0:
        expire(db, push, "views", audit.SYSTEM, now)
    receipt = runtime.keyring.receipt(DELETE_RECEIPT, push.id) if push.viewer_may_delete(now) else None
    return Revealed(push=push, payload=payload, note=note, downloads=downloads, delete_receipt=receipt,
                    opened_before=opened_before(push))


def _owner_look(db: Session, runtime: Runtime, push: Push, client: Client, now: datetime) -> Revealed:
    """The owner, logged in, sees their own live push: logged `owner_view`, no view taken
    (as in Password Pusher: the sender checking the secret leaves the recipient's views)."""
    data_key = runtime.keyring.open_data_key(push.id, push.wrapped_key)
    audit.record(db, push.id, audit.OWNER_VIEW, client, now)
    return Revealed(
        push=push,
        payload=data_key.open_text(push.id, PAYLOAD, push.payload_sealed),
        note=data_key.open_text(push.id, NOTE, push.note_sealed) if push.note_sealed else "",
        downloads=grant_downloads(db, runtime, push, data_key, now) if push.kind == "file" else None,
    )


def expire_by_viewer(
    runtime: Runtime, token: str, client: Client, passphrase: str | None = None, receipt: str | None = None,
    now: datetime | None = None,
) -> Push:
    """A recipient deletes the push through its secret link, where the sender allowed it.

    Gated like a view: the push must be live and, when it has a passphrase, the caller
    must give it (counted like a reveal's attempts) or the `delete_receipt` of a reveal
    (the page that showed the secret).  Raises what `reveal_push` raises, and NotAllowed.
    """
    now = now or utcnow()
    runtime.throttle.hit("reveal", client.ip)

    def deletable(push: Push) -> None:
        if not push.deletable_by_viewer:
            raise NotAllowed(N_("The sender did not allow recipients to delete this secret."))

    admitted = _admit_viewer(runtime, token, client, passphrase or "", now, deletable, receipt)
    with settled_or_withdrawn(runtime, admitted.attempt), transaction(runtime.engine) as db:
        admitted.forget_attempt(db)
        done = expire(db, admitted.push, "viewer", client, now)
    delete_blobs_of(runtime, admitted.push, now)
    if not done:
        raise PushUnavailable()
    return admitted.push


# --- the viewer's gate: a live push, and its passphrase ----------------------------------------------

@dataclass
class _Admitted:
    push: Push
    # The failed_passphrase row reserved while the passphrase was checked; the caller
    # deletes it in the transaction that acts (a right passphrase is no failure), or
    # withdraws it when that transaction fails (core/guesses.py).
    attempt: int | None = None

    def forget_attempt(self, db: Session) -> None:
        if self.attempt is not None:
            withdraw(db, self.attempt)


def _admit_viewer(
    runtime: Runtime, token: str, client: Client, passphrase: str, now: datetime,
    check: Callable[[Push], None] | None = None, receipt: str | None = None, code: str | None = None,
) -> _Admitted:
    """What a viewer must pass to see a push or to delete it: the push is live (else a
    failed view is logged and PushUnavailable raised), `check` holds, and the passphrase is
    right when the push has one, unless `receipt` proves this viewer gave it in a reveal."""
    failure: PushError | None = None
    attempt: Reservation | None = None
    with transaction(runtime.engine) as db:
        push = find_by_link(db, runtime, token)
        try:
            # Before anything else: from outside its list, even an expired push is an unknown link.
            refuse_unless_allowed(db, push, client, now)
            push = refuse_unless_live(db, push, client, now)
        except PushUnavailable as refusal:
            failure = refusal
        else:
            if check is not None:
                check(push)
            receipt_ok = receipt is not None and runtime.keyring.check_receipt(receipt, DELETE_RECEIPT, push.id)
            if not receipt_ok and needs_code(push, client):
                if check is not None:  # a recipient's delete: only with the receipt of a reveal
                    raise NotAllowed(CODE_BEFORE_DELETE)
                require_code_given(push, client, code)  # a reveal without the code: nothing counted
            if receipt_ok:
                pass
            elif push.has_passphrase:
                if not normalize_passphrase(passphrase):
                    # Logged for the owner (as in Password Pusher), not counted as a guess.
                    audit.record(db, push.id, audit.FAILED_PASSPHRASE, client, now, actor=audit.NO_PASSPHRASE)
                    failure = PassphraseRequired()
                else:
                    attempt = reserve_attempt(db, runtime, push, client, now)
            elif normalize_passphrase(passphrase):
                raise UnexpectedPassphrase()
    if isinstance(failure, PushUnavailable) and not isinstance(failure, AddressRefused):
        delete_blobs_of(runtime, push, now)
    if failure:
        raise failure
    if attempt is None:
        return _Admitted(push)
    # Not checked (Argon2 out of turns): not a failure either.
    with settled_or_withdrawn(runtime, attempt.event_id):
        # Argon2 takes tens of milliseconds: checked outside the transaction.  Spaces around it
        # don't count (normalize_passphrase); a push made before that rule may have kept them.
        trimmed = normalize_passphrase(passphrase)
        right = runtime.hashing.verify(trimmed, push.passphrase_hash or "") or (
            trimmed != passphrase and runtime.hashing.verify(passphrase, push.passphrase_hash or ""))
    if not right:
        _after_wrong_guess(runtime, push, client, now, attempt)
        raise WrongPassphrase(attempt.attempts_left, runtime.settings.passphrase_lockout_minutes, attempt.burns_left)
    return _Admitted(push, attempt.event_id)


def _after_wrong_guess(runtime: Runtime, push: Push, client: Client, now: datetime, attempt: Reservation) -> None:
    """A wrong passphrase or code, written down: the push's lock, its owner told, the sender's burn."""
    if attempt.locks_push or attempt.burns_left == 0 or push.owner_id is not None:
        # Not written (the database busy): the guess is withdrawn, as the busy answer says.
        with settled_or_withdrawn(runtime, attempt.event_id), transaction(runtime.engine) as db:
            if attempt.locks_push:
                audit.record(db, push.id, audit.PASSPHRASE_LOCK, audit.SYSTEM, now)
            owner_events.note(db, push, owner_events.FAILED_PASSPHRASE, client, now)
            if attempt.burns_left == 0:
                # The sender's limit of wrong guesses: the push goes, as any expiry.
                audit.record(db, push.id, audit.PASSPHRASE_BURN, audit.SYSTEM, now)
                expire(db, push, BURNED, audit.SYSTEM, now)
        if attempt.burns_left == 0:
            delete_blobs_of(runtime, push, now)
