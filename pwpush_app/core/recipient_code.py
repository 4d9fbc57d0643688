"""Verify the recipient before the reveal (issue 21; pglombardo/PasswordPusher#1370).

- The sender names the recipient's email address (`verify_email`): a logged-in sender, on
  a site that sends mail, to an address in PWPUSH_ALLOWED_RECIPIENT_DOMAINS where the
  instance sets it.  The address is sealed under the push's data key (field
  "verify email") and deleted with it at expiry; the database never holds it in the clear.
  With several recipients (core/recipients.py), `verify_recipients` makes each push verify
  its own recipient's address.
- The link's page asks for a code (`send_code`): 6 digits from `secrets`, of which only a
  keyed hash bound to the push is stored; it works for CODE_MINUTES, once, and a new
  request replaces the one before.  It goes through the mail outbox (sealed while it
  waits).  Sends are limited per push (one per RESEND_SECONDS, SENDS_PER_HOUR an hour) so
  the page can't be used to flood the address.  The mail names the site, when the code
  stops working and that someone opened a link for them: never the secret, the note or the
  sender.
- The reveal takes the view only with the right code, checked and consumed in the same
  transaction as the view (`take_code`, called by core/reveal.py).  A wrong code counts
  exactly like a wrong passphrase: the lock-outs per client and per push, and the sender's
  burn after N (core/push_policies.py).  No code, or none waiting (never sent, used,
  replaced or too old), is refused and changes nothing.
- The audit trail records each code sent (`code_sent`), wrong code (`wrong_code`) and the
  verification (`code_verified`).  The owner's own look (logged in) needs no code.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone

from sqlalchemy import select as sa_select
from sqlalchemy import update
from sqlmodel import Session, select

from pwpush_app.core import audit, letters, link_mail
from pwpush_app.core.audit import Client
from pwpush_app.core.clock import utcnow
from pwpush_app.core.db import transaction
from pwpush_app.core.errors import CodeExpired, CodeRequired, CodeSendLimited, PushError, PushUnavailable
from pwpush_app.core.i18n import N_
from pwpush_app.core.models import AuditEvent, Push
from pwpush_app.core.outbox import queue_mail
from pwpush_app.core.push_policies import refuse_unless_allowed
from pwpush_app.core.records import PUSHES, find_by_link, refuse_unless_live
from pwpush_app.core.runtime import Runtime
from pwpush_app.core.sealed_fields import VERIFY_EMAIL

FIELD, GROUP_FIELD = "verify_email", "verify_recipients"
CODE_DIGITS = 6
CODE_MINUTES = 10
RESEND_SECONDS = 60
SENDS_PER_HOUR = 5
_PURPOSE = "verify code"


class NotVerifying(PushError):
    """A code asked for a push whose sender named no address to verify."""

    def __init__(self):
        super().__init__(N_("This link needs no code: open it without one."))


# --- the sender's request --------------------------------------------------------------------------

def check_verify_email(runtime: Runtime, client: Client, value, errors: dict[str, str]) -> str | None:
    """The address to verify, checked (None for none), or its message added to `errors`."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not link_mail.is_email(value.strip()):
        errors[FIELD] = N_("Not an email address: write the recipient's address as name@example.com, or leave it empty.")
        return None
    problem = why_no_codes(runtime, client, value.strip())
    if problem:
        errors[FIELD] = problem
        return None
    return value.strip()


def why_no_codes(runtime: Runtime, client: Client, email: str) -> str:
    """Why this sender may not have a code mailed to `email` ("" when they may)."""
    if not runtime.settings.mail.configured:
        return N_("This site sends no mail, so it can't mail the recipient a code: leave this empty and protect "
                  "the secret with a passphrase instead.")
    if client.user_id is None:
        return N_("Only logged-in senders can have the recipient verified by email: log in, or use a passphrase.")
    if not link_mail.domain_allowed(runtime.settings, email):
        return (f"{email[:100]} is outside the domains this site mails ({', '.join(runtime.settings.allowed_recipient_domains)}): "
                "verify this recipient another way (a passphrase).")
    return ""


def check_group_verification(runtime: Runtime, client: Client, wanted, emails: list[str | None]) -> str:
    """`verify_recipients` on a group: each recipient named by email ("" when fine)."""
    if wanted in (None, False):
        return ""
    if wanted is not True:
        return "verify_recipients must be true or false."
    if not all(emails):
        return N_("To verify each recipient, name every recipient by email address (a label can't get a code), "
                  "or turn verification off.")
    for email in emails:
        problem = why_no_codes(runtime, client, email)
        if problem:
            return problem
    return ""


def seal_email(data_key, push_id: str, email: str) -> bytes:
    return data_key.seal_text(push_id, VERIFY_EMAIL, email)


# --- sending a code --------------------------------------------------------------------------------

def mask(email: str) -> str:
    """'b•••@example.com': enough for the recipient to know which inbox to look in."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}"


def send_code(runtime: Runtime, token: str, client: Client, now: datetime | None = None, locale: str = "en") -> str:
    """Mail a new code to the push's recipient (it replaces any code before it), in `locale` (the
    language of the page it was asked on); returns the address, masked, to show.  Raises
    PushUnavailable, NotVerifying or CodeSendLimited."""
    now = now or utcnow()
    runtime.throttle.hit("reveal", client.ip)
    failure: PushError | None = None
    with transaction(runtime.engine) as db:
        push = find_by_link(db, runtime, token)
        try:
            refuse_unless_allowed(db, push, client, now)
            push = refuse_unless_live(db, push, client, now)
        except PushError as refusal:
            failure = refusal
    if failure is not None:
        raise failure
    if not push.verifies_recipient:
        raise NotVerifying()
    data_key = runtime.keyring.open_data_key(push.id, push.wrapped_key)
    email = data_key.open_text(push.id, VERIFY_EMAIL, push.verify_email_sealed)
    code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
    with transaction(runtime.engine) as db:
        _lock(db, push.id)
        wait = _send_wait(db, push.id, now)
        if wait:
            raise CodeSendLimited(wait)
        # Only if it is still live: the code of a push expired in between is never sent.
        done = db.execute(update(PUSHES).where(PUSHES.c.id == push.id, PUSHES.c.expired == False,  # noqa: E712
                                               PUSHES.c.verify_email_sealed != None)  # noqa: E711
                          .values(verify_code_digest=_digest(runtime, push.id, code),
                                  verify_code_expires_at=now + timedelta(minutes=CODE_MINUTES),
                                  verify_code_sent_at=now)).rowcount
        if not done:
            raise PushUnavailable()
        audit.record(db, push.id, audit.CODE_SENT, client, now)
        letter = letters.code_letter(runtime.settings, email, code, CODE_MINUTES, locale)
        queue_mail(db, runtime, letter, "code", user_id=push.owner_id, push_id=push.id, now=now)
    return mask(email)


def _lock(db: Session, push_id: str) -> None:
    """PostgreSQL: one sender or checker of this push's code at a time (SQLite's write lock is one already)."""
    if db.get_bind().dialect.name == "postgresql":
        db.exec(select(Push.id).where(Push.id == push_id).with_for_update())


def _send_wait(db: Session, push_id: str, now: datetime) -> int:
    """Seconds before this push may send another code (0: now)."""
    sent = sorted(db.execute(sa_select(AuditEvent.created_at).where(
        AuditEvent.push_id == push_id, AuditEvent.kind == audit.CODE_SENT,
        AuditEvent.created_at > now - timedelta(hours=1))).scalars())
    waits = []
    if sent and sent[-1] > now - timedelta(seconds=RESEND_SECONDS):
        waits.append(sent[-1] + timedelta(seconds=RESEND_SECONDS) - now)
    if len(sent) >= SENDS_PER_HOUR:
        waits.append(sent[-SENDS_PER_HOUR] + timedelta(hours=1) - now)
    return int(max(waits).total_seconds()) + 1 if waits else 0


def _digest(runtime: Runtime, push_id: str, code: str) -> str:
    return runtime.keyring.receipt(_PURPOSE, f"{push_id}\x00{code}")


def normalize_code(code) -> str:
    """What was typed, without the spaces and dashes a mail client or a person adds."""
    if not isinstance(code, str):
        return ""
    return "".join(c for c in code if c not in " -\t\u00a0").strip()


# --- the reveal's check ----------------------------------------------------------------------------

def needs_code(push: Push, client: Client) -> bool:
    """This caller must give the push's code: it verifies its recipient, and the caller is
    not its owner (whose own look takes no view and needs none)."""
    return push.verifies_recipient and not (client.user_id is not None and client.user_id == push.owner_id)


def require_code_given(push: Push, client: Client, code) -> None:
    """Before anything is counted: CodeRequired when this caller needs a code and gave none."""
    if needs_code(push, client) and not normalize_code(code):
        raise CodeRequired()


def pending_code(db: Session, push: Push, now: datetime) -> str:
    """The keyed hash of the code waiting for this push, under the push's lock; CodeExpired
    when none is waiting (never sent, used, replaced or too old): that changes nothing."""
    _lock(db, push.id)
    row = db.execute(sa_select(PUSHES.c.verify_code_digest, PUSHES.c.verify_code_expires_at)
                     .where(PUSHES.c.id == push.id)).first()
    if row is None or row.verify_code_digest is None or row.verify_code_expires_at is None \
            or _aware(row.verify_code_expires_at) <= now:
        raise CodeExpired()
    return row.verify_code_digest


def code_matches(runtime: Runtime, push_id: str, digest: str, code) -> bool:
    given = normalize_code(code)
    return len(given) == CODE_DIGITS and given.isdigit() and runtime.keyring.check_receipt(
        digest, _PURPOSE, f"{push_id}\x00{given}")


def use_code(db: Session, push_id: str, digest: str, client: Client, now: datetime) -> None:
    """The right code, used up (single use) and logged, in the view's transaction."""
    used = db.execute(update(PUSHES).where(PUSHES.c.id == push_id, PUSHES.c.verify_code_digest == digest)
                      .values(verify_code_digest=None, verify_code_expires_at=None)).rowcount
    if not used:
        raise CodeExpired()
    audit.record(db, push_id, audit.CODE_VERIFIED, client, now)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
