"""Mailing a push's link to its recipients, for its sender (Password Pusher's
`notify_emails_to` and `notify_emails_to_locale`).

- Only a logged-in sender, for a push of their own that is still live, on a site that
  sends mail (PWP__MAIL__SMTP_ADDRESS, PWP__NOTIFY_BY_EMAIL__ENABLED).
- Only addresses in PWPUSH_ALLOWED_RECIPIENT_DOMAINS, where the instance sets it
  (`domain_allowed`; the recipients of core/recipients.py too).
- At most MAX_RECIPIENTS addresses per push, all sends together; no address twice; at
  most PWP__NOTIFY_BY_EMAIL__DAILY_LIMIT link mails per account per day (UTC).
- The mail carries the link, when it stops working and who sent it; never the secret,
  the note or the passphrase.  Sending consumes no view.
- Each address gets an audit event (`creation_email_send`) and a row that follows its
  mail: queued, sent, failed (with the server's words) or dropped (the push expired first).
A bad list is refused whole, with a message, and changes nothing.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from pwpush_app.core import audit, letters, links
from pwpush_app.core.audit import Client
from pwpush_app.core.clock import utcnow
from pwpush_app.core.db import transaction
from pwpush_app.core.errors import InvalidPush, NotAllowed, PushUnavailable
from pwpush_app.core.i18n import N_, said
from pwpush_app.core.models import Push, User
from pwpush_app.core.models_mail import PushRecipient
from pwpush_app.core.outbox import queue_mail
from pwpush_app.core.records import open_link_token
from pwpush_app.core.runtime import Runtime

MAX_RECIPIENTS = 5
# Password Pusher's limit on its notify_emails endpoint, per account.
MAIL_LINK_REQUESTS_PER_MINUTE = 5
FIELD, LOCALE_FIELD = "notify_emails_to", "notify_emails_to_locale"
_ADDRESS_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
_LOCALE_RE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8}){0,2}$")
_SEPARATORS = re.compile(r"[,;\s]+")


def split_addresses(value) -> list[str]:
    """`a@x.com, b@y.org` (commas, semicolons or spaces), or a list of addresses."""
    if isinstance(value, (list, tuple)):
        return [item.strip() for item in value if isinstance(item, str) and item.strip()]
    if not isinstance(value, str):
        return []
    return [part for part in _SEPARATORS.split(value.strip()) if part]


@dataclass(frozen=True)
class LinkRecipients:
    emails: list[str]
    locale: str


def check_recipients(runtime: Runtime, client: Client, value, locale, already_sent: int = 0) -> LinkRecipients | None:
    """The addresses to mail the link to (None for none asked); InvalidPush saying what is wrong."""
    if value is None or value == "" or value == []:
        return None  # a language alone asks for nothing
    listed = isinstance(value, (list, tuple))
    if not (isinstance(value, str) or listed and all(isinstance(item, str) for item in value)):
        raise InvalidPush({FIELD: N_("Give the addresses as text, separated by commas.")})
    mail = runtime.settings.mail
    # Both fields are named, as Password Pusher names them.
    language = {LOCALE_FIELD: N_("No language applies: no mail will be sent.")} if locale else {}
    if not mail.link_by_email:
        raise InvalidPush({FIELD: N_("This site does not send links by email: send the link yourself."), **language})
    if client.user_id is None:
        raise InvalidPush({FIELD: N_("Only logged-in senders can have the link mailed: log in, or send the link yourself."),
                           **language})
    emails = split_addresses(value)
    if not emails:
        raise InvalidPush({FIELD: N_("Enter at least one email address, or leave the field empty.")})
    if len(emails) > MAX_RECIPIENTS - already_sent:
        left = MAX_RECIPIENTS - already_sent
        raise InvalidPush({FIELD: f"A push's link goes to at most {MAX_RECIPIENTS} addresses"
                                  + (f" ({already_sent} already sent, {max(left, 0)} left)." if already_sent else ".")})
    wrong = [e for e in emails if len(e) > 254 or not _ADDRESS_RE.match(e)]
    if wrong:
        raise InvalidPush({FIELD: said(N_("Not an email address: {address}. Use name@example.com, separated by commas."),
                                      address=wrong[0][:100])})
    outside = [e for e in emails if not domain_allowed(runtime.settings, e)]
    if outside:
        raise InvalidPush({FIELD: f"{outside[0][:100]} is outside the domains this site mails links to "
                                  f"({', '.join(runtime.settings.allowed_recipient_domains)}): "
                                  "send the link to that recipient yourself."})
    lowered = [e.lower() for e in emails]
    if len(set(lowered)) != len(lowered):
        raise InvalidPush({FIELD: N_("An address is there twice: give each one once.")})
    if locale is not None and not isinstance(locale, str) or locale and not _LOCALE_RE.match(locale):
        raise InvalidPush({LOCALE_FIELD: N_("Give a language code like en or pt-BR.")})
    return LinkRecipients(emails, locale or "")


def in_sender_language(runtime: Runtime, client: Client, new_push, locale: str | None):
    """The push with `locale` (the sender's page or request) as its link mail's language, where a
    link mail can go and the sender named no language; else the push as it is."""
    if (not locale or not new_push.notify_emails_to or new_push.notify_emails_to_locale
            or not runtime.settings.mail.link_by_email or client.user_id is None):
        return new_push
    return dataclasses.replace(new_push, notify_emails_to_locale=locale)


def is_email(text: str) -> bool:
    return len(text) <= 254 and bool(_ADDRESS_RE.match(text))


def domain_allowed(settings, email: str) -> bool:
    """`email` is in one of PWPUSH_ALLOWED_RECIPIENT_DOMAINS (a domain or a subdomain of
    one), or the instance sets none."""
    domains = settings.allowed_recipient_domains
    if not domains:
        return True
    domain = email.rsplit("@", 1)[-1].lower().rstrip(".")
    return any(domain == allowed or domain.endswith("." + allowed) for allowed in domains)


def _sent_today(db: Session, user_id: str, now: datetime) -> int:
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return db.exec(select(func.count()).select_from(PushRecipient).join(Push, Push.id == PushRecipient.push_id)
                   .where(Push.owner_id == user_id, PushRecipient.created_at >= start)).one()


def queue_link_mails(db: Session, runtime: Runtime, push: Push, url_token: str, recipients: LinkRecipients,
                     client: Client, now: datetime) -> None:
    """One mail, audit event and status row per address, in the caller's transaction."""
    sender = db.get(User, push.owner_id) if push.owner_id else None
    if sender is None:
        raise NotAllowed(N_("Only the push's owner can have its link mailed."))
    limit = runtime.settings.mail.notify_daily_limit
    if _sent_today(db, sender.id, now) + len(recipients.emails) > limit:
        raise InvalidPush({FIELD: said(N_("You can have at most {limit_count} links mailed per day: send this one "
                                             "yourself, or try again tomorrow."), limit_count=limit)})
    link = links.secret_link(runtime.settings.base_url, url_token)
    for email in recipients.emails:
        event_id = audit.record(db, push.id, audit.CREATION_EMAIL_SEND, client, now)
        row = PushRecipient(push_id=push.id, audit_event_id=event_id, email=email, locale=recipients.locale,
                            created_at=now, updated_at=now)
        db.add(row)
        db.flush()
        letter = letters.link_letter(runtime.settings, email, sender.email, link, push.views_left, push.expires_at,
                                     push.has_passphrase, letters.reader_locale(runtime.settings,
                                                                                recipients.locale or sender.locale))
        queue_mail(db, runtime, letter, "link", user_id=sender.id, push_id=push.id, recipient_id=row.id, now=now)


def already_sent(db: Session, push_id: str) -> int:
    return db.exec(select(func.count()).select_from(PushRecipient).where(PushRecipient.push_id == push_id)).one()


def mail_link(runtime: Runtime, push: Push, client: Client, value, locale=None, now: datetime | None = None) -> list[str]:
    """Mail the link of an existing push to more recipients (its owner asks); returns the addresses.

    Raises NotAllowed (not the owner), PushUnavailable (expired) or InvalidPush."""
    now = now or utcnow()
    runtime.throttle.hit("create", client.ip)
    if client.user_id is None or client.user_id != push.owner_id:
        raise NotAllowed(N_("Only the push's owner can have its link mailed."))
    runtime.throttle.hit_account("mail link", client.user_id, MAIL_LINK_REQUESTS_PER_MINUTE,
                                 N_("Too many email notification requests. Please try again in a minute."))
    with transaction(runtime.engine) as db:
        fresh = db.get(Push, push.id)
        if fresh is None or not fresh.is_live(now):
            raise PushUnavailable(expired=fresh)
        recipients = check_recipients(runtime, client, value, locale, already_sent(db, fresh.id))
        if recipients is None:
            raise InvalidPush({FIELD: N_("Enter at least one email address.")})
        url_token = open_link_token(runtime, fresh)
        if url_token is None:
            raise PushUnavailable(expired=fresh)
        queue_link_mails(db, runtime, fresh, url_token, recipients, client, now)
    return recipients.emails


def recipients_by_event(runtime: Runtime, event_ids: list[int]) -> dict[int, PushRecipient]:
    """The mail behind each `creation_email_send` event of an audit trail page."""
    if not event_ids:
        return {}
    with transaction(runtime.engine, write=False) as db:
        rows = db.exec(select(PushRecipient).where(PushRecipient.audit_event_id.in_(event_ids))).all()
    return {row.audit_event_id: row for row in rows}


# What became of a mailed link, as its sender reads it (catalogue entries: the pages word them).
STATUS_WORDS = {"queued": N_("queued"), "sent": N_("sent"), "failed": N_("not delivered"),
                "dropped": N_("not sent (the push expired first)")}
# The same in Password Pusher's words (the API's notify_by_email.status).
API_STATUS = {"queued": "pending", "sent": "completed", "failed": "failed", "dropped": "failed"}


def recipient_facts(row: PushRecipient) -> dict[str, str]:
    """A mailed link in an audit trail: to whom, what became of it and, when it failed, the
    mail server's reason (in the server's words)."""
    return {"mailed_to": row.email, "mail_status": STATUS_WORDS.get(row.status, row.status),
            "mail_error": row.error if row.status == "failed" and row.error else ""}  # outbox.FAILURES made it
