"""The outbox: mail is never sent on a request's path and never lost.

To send a mail from the core, write a `letters.Letter` and call

    outbox.queue_mail(db, runtime, letter, purpose, user_id=..., now=now)

inside the transaction that decided to send it: the mail is queued if and only if that
transaction commits.  The background sender (`send_due_mails`, run by jobs.py in every
worker) then hands it to the SMTP server.

- At rest a queued mail is sealed (it may carry a secret link or a one-time token) under a
  data key of its own, wrapped by the master key; once the server took it the row is
  deleted, key and all.
- Several workers send at once without sending a mail twice: a worker takes one mail at a
  time with a conditional UPDATE that sets its lease (PWPUSH_MAIL_LEASE_SECONDS, longer than
  one mail may take).  A worker killed mid-mail leaves it to the next after the lease.
- At least once: a mail the server accepted just before its worker died (the row not yet
  deleted) goes a second time after the lease, with the same Message-ID, so mail clients
  show it once.  Nothing else is ever sent twice.
- A failure the server calls temporary, or no server reachable, is tried again after
  PWPUSH_MAIL_RETRY_SECONDS, doubling up to 2 hours, PWPUSH_MAIL_MAX_ATTEMPTS times; a
  refusal for good (5xx to the recipient or the mail), or the last attempt, gives it up:
  the message is deleted, the row stays (recipient, error) for its account to see
  (`mail_problems`) and the log says why.
- A link mail whose push expired before it could go is dropped, never sent.
"""

from __future__ import annotations

import email.policy
import email.utils
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, event, func, or_, update
from sqlmodel import Session, select

from pwpush_app.core import crypto
from pwpush_app.core.clock import utcnow
from pwpush_app.core.db import transaction
from pwpush_app.core.i18n import N_
from pwpush_app.core.letters import Letter
from pwpush_app.core.models import Push
from pwpush_app.core.models_mail import MailOutbox, PushRecipient
from pwpush_app.core.runtime import Runtime
from pwpush_app.core.sealing import open_field, seal_record
from pwpush_app.core.smtp import FAILURES as SMTP_FAILURES
from pwpush_app.core.smtp import SendFailed, SmtpSession

# A mail's end that is not a mail server's answer; FAILURES: every reason a failed mail is kept with.
EXPIRED_FIRST = N_("Not sent: the push expired before the mail could go.")
KEY_GONE = N_("The queued mail could not be opened (its master key is no longer configured).")
FAILURES = (*SMTP_FAILURES, EXPIRED_FIRST, KEY_GONE)

log = logging.getLogger("pwpush.mail")

MAX_RETRY_WAIT = timedelta(hours=2)
# Given-up mails stay this long on their account's page.
KEEP_FAILED = timedelta(days=30)
# The most mails one round sends before it lets the other jobs of its loop run.
ROUND_LIMIT = 200

# Set when this process queued a mail: the sender goes at once instead of at its next poll.
mail_waiting = threading.Event()


# Mails whose address is stored only inside the sealed message (core/recipient_code.py).
SEALED_RECIPIENT = frozenset(("code",))


class MailUnavailable(Exception):
    """This server sends no mail (no PWP__MAIL__SMTP_ADDRESS)."""


def _subject(mail_id: str) -> str:
    return f"mail {mail_id}"


def queue_mail(
    db: Session, runtime: Runtime, letter: Letter, purpose: str, *, now: datetime, user_id: str | None = None,
    push_id: str | None = None, recipient_id: int | None = None,
) -> str:
    """Queue `letter` in the caller's transaction (sent only if it commits); returns the mail's id.

    `user_id`: the account the mail belongs to, which sees it if it fails.  Link mails give
    their push (not sent once it expired) and their PushRecipient row (its status)."""
    if not runtime.settings.mail.configured:
        raise MailUnavailable(N_("This server sends no mail: PWP__MAIL__SMTP_ADDRESS is not set."))
    mail_id = crypto.new_id()
    # CRLF line ends, as SMTP wants them (smtplib sends bytes as they are).
    message = letter.message(runtime.settings, now).as_bytes(policy=email.policy.SMTP)
    wrapped, sealed = seal_record(runtime, _subject(mail_id), {"message": message})
    # An address that is itself a secret of a push (a recipient to verify) is kept only in
    # the sealed message: the row names it masked, and the sender reads it from the message.
    recipient = masked(letter.to) if purpose in SEALED_RECIPIENT else letter.to
    db.add(MailOutbox(
        id=mail_id, purpose=purpose, recipient=recipient, user_id=user_id, push_id=push_id, recipient_id=recipient_id,
        wrapped_key=wrapped, message_sealed=sealed["message"], next_attempt_at=now, created_at=now, updated_at=now,
    ))
    wake_after_commit(db, mail_waiting)
    return mail_id


def wake_after_commit(db: Session, flag: threading.Event) -> None:
    """Set `flag` once `db`'s transaction commits (a sender waiting on it goes at once)."""
    def wake(_session) -> None:
        flag.set()

    event.listen(db, "after_commit", wake, once=True)


def retry_wait(runtime: Runtime, attempts: int) -> timedelta:
    """How long after its `attempts`-th failure a mail (or webhook call) is tried again."""
    first = timedelta(seconds=runtime.settings.mail.retry_seconds)
    return min(first * (2 ** min(max(attempts - 1, 0), 20)), MAX_RETRY_WAIT)


def masked(address: str) -> str:
    """An address as the log may show it: 'b…@example.com'."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}…@{domain}" if local else "…"


# --- the sender ---------------------------------------------------------------------------------

@dataclass
class SendRound:
    sent: int = 0
    retrying: int = 0
    given_up: int = 0
    dropped: int = 0


@dataclass
class _Claimed:
    row: MailOutbox
    live_push: bool


_DUE = (MailOutbox.status == "queued",)


def _lease_free(now: datetime):
    return or_(MailOutbox.lease_until == None, MailOutbox.lease_until <= now)  # noqa: E711


def _claim_next(runtime: Runtime, holder: str, now: datetime) -> _Claimed | None:
    """Take the next due mail for `holder`, if any: one conditional UPDATE decides between workers."""
    lease = timedelta(seconds=runtime.settings.mail.lease_seconds)
    with transaction(runtime.engine) as db:
        candidates = db.exec(
            select(MailOutbox.id).where(*_DUE, MailOutbox.next_attempt_at <= now, _lease_free(now))
            .order_by(MailOutbox.next_attempt_at, MailOutbox.id).limit(5)
        ).all()
        for mail_id in candidates:
            taken = db.execute(
                update(MailOutbox).where(MailOutbox.id == mail_id, *_DUE, _lease_free(now))
                .values(lease_until=now + lease, lease_holder=holder).execution_options(synchronize_session=False)
            ).rowcount
            if taken:
                row = db.get(MailOutbox, mail_id)
                push = db.get(Push, row.push_id) if row.push_id else None
                return _Claimed(row, live_push=push is not None and push.is_live(now))
    return None


def send_due_mails(runtime: Runtime, holder: str, clock=utcnow) -> SendRound:
    """Send every mail that is due, one at a time over one SMTP connection (see the module's rules)."""
    done = SendRound()
    mail = runtime.settings.mail
    if not mail.configured:
        return done
    with SmtpSession(mail) as session:
        for _ in range(ROUND_LIMIT):
            now = clock()
            claimed = _claim_next(runtime, holder, now)
            if claimed is None:
                break
            row = claimed.row
            if row.purpose == "link" and not claimed.live_push:
                _finish(runtime, row, "dropped", EXPIRED_FIRST, clock())
                done.dropped += 1
                continue
            try:
                message = open_field(runtime, _subject(row.id), row.wrapped_key, "message", row.message_sealed)
                session.send(mail.sender, _envelope_to(row, message), message)
            except crypto.DecryptionError:
                failure = SendFailed(KEY_GONE, permanent=True)
            except SendFailed as error:
                failure = error
            else:
                _finish(runtime, row, "sent", "", clock())
                done.sent += 1
                continue
            if _record_failure(runtime, row, failure, clock()):
                done.given_up += 1
            else:
                done.retrying += 1
            if failure.connection_lost:
                break
    return done


def _envelope_to(row: MailOutbox, message: bytes) -> str:
    """Where the mail goes: its row's recipient, or the sealed message's To for SEALED_RECIPIENT."""
    if row.purpose not in SEALED_RECIPIENT:
        return row.recipient
    parsed = email.message_from_bytes(message, policy=email.policy.SMTP)
    return email.utils.parseaddr(str(parsed["To"]))[1]


def _finish(runtime: Runtime, row: MailOutbox, status: str, error: str, now: datetime) -> None:
    """The mail went (or was dropped): its row and sealed message are deleted."""
    with transaction(runtime.engine) as db:
        db.execute(delete(MailOutbox).where(MailOutbox.id == row.id))
        if row.recipient_id is not None:
            db.execute(update(PushRecipient).where(PushRecipient.id == row.recipient_id)
                       .values(status=status, error=error, updated_at=now))
    log.info("mail %s (%s) to %s: %s", row.id[:8], row.purpose, masked(row.recipient), status)


def _record_failure(runtime: Runtime, row: MailOutbox, failure: SendFailed, now: datetime) -> bool:
    """Count a failed attempt; True if the mail is given up (then its message is deleted)."""
    attempts = row.attempts + 1
    give_up = failure.permanent or attempts >= runtime.settings.mail.max_attempts
    values = dict(attempts=attempts, last_error=failure.reason[:255], lease_until=None, lease_holder=None, updated_at=now)
    if give_up:
        values.update(status="failed", wrapped_key=None, message_sealed=None)
    else:
        values.update(next_attempt_at=now + retry_wait(runtime, attempts))
    with transaction(runtime.engine) as db:
        db.execute(update(MailOutbox).where(MailOutbox.id == row.id).values(**values))
        if give_up and row.recipient_id is not None:
            db.execute(update(PushRecipient).where(PushRecipient.id == row.recipient_id)
                       .values(status="failed", error=failure.reason[:255], updated_at=now))
    if give_up:
        log.warning("mail %s (%s) to %s given up after %d attempt%s: %s", row.id[:8], row.purpose,
                    masked(row.recipient), attempts, "" if attempts == 1 else "s", failure.reason)
    else:
        log.warning("mail %s (%s) to %s not sent (attempt %d, next in %s): %s", row.id[:8], row.purpose,
                    masked(row.recipient), attempts, retry_wait(runtime, attempts), failure.reason)
    return give_up


# --- what an account sees ---------------------------------------------------------------------------

PURPOSE_LABELS = {
    "link": N_("Secret link"), "confirm": N_("Address confirmation"), "reset": N_("Password reset"),
    "unlock": N_("Account unlock"), "password_changed": N_("Password change notice"),
    "email_change": N_("New address confirmation"), "email_changed": N_("Address change notice"),
    "notice": N_("Notification"), "digest": N_("Daily digest"), "test": N_("Test mail"),
    "code": N_("Recipient's verification code"),
    "passkey_added": N_("New passkey notice"), "api_token_created": N_("New API token notice"),
}


@dataclass(frozen=True)
class MailProblem:
    id: str
    purpose: str
    recipient: str
    error: str
    attempts: int
    given_up: bool
    next_attempt_at: datetime | None
    created_at: datetime


def mail_problems(runtime: Runtime, user_id: str, limit: int = 20) -> list[MailProblem]:
    """An account's mails that failed or are being retried, newest first."""
    with transaction(runtime.engine, write=False) as db:
        rows = db.exec(
            select(MailOutbox).where(MailOutbox.user_id == user_id,
                                     or_(MailOutbox.status == "failed", MailOutbox.attempts > 0))
            .order_by(MailOutbox.created_at.desc()).limit(limit)
        ).all()
    return [MailProblem(r.id, r.purpose, r.recipient, r.last_error, r.attempts, r.status == "failed",
                        None if r.status == "failed" else r.next_attempt_at, r.created_at) for r in rows]


def dismiss_mail_problem(runtime: Runtime, user_id: str, mail_id: str) -> None:
    """The account read about a given-up mail: forget it (a queued one stays)."""
    with transaction(runtime.engine) as db:
        db.execute(delete(MailOutbox).where(MailOutbox.id == mail_id, MailOutbox.user_id == user_id,
                                            MailOutbox.status == "failed"))


def forget_old_failures(runtime: Runtime, now: datetime | None = None) -> int:
    now = now or utcnow()
    with transaction(runtime.engine) as db:
        return db.execute(delete(MailOutbox).where(MailOutbox.status == "failed",
                                                   MailOutbox.updated_at < now - KEEP_FAILED)).rowcount


def queued_mail(runtime: Runtime, mail_id: str) -> MailOutbox | None:
    """A mail still in the outbox (queued, or given up), or None once sent."""
    with transaction(runtime.engine, write=False) as db:
        return db.get(MailOutbox, mail_id)


def queued_count(runtime: Runtime) -> int:
    with transaction(runtime.engine, write=False) as db:
        return db.exec(select(func.count()).select_from(MailOutbox).where(*_DUE)).one()
