"""One secret for several recipients (issue 21): a push for each, made together.

- The sender names 2 to MAX_RECIPIENTS recipients: labels ("Alice", "the auditor") or
  email addresses, as a list or a text separated by commas, semicolons or new lines.
- Each recipient gets a push of their own holding the same secret, with its own link,
  views, expiry, audit trail and manage link: viewing, burning or revoking one leaves the
  others as they were.  The pushes share a random `group_id` and each names its
  `recipient`; the passphrase (one for all) is hashed once.
- A recipient named by email gets the link mailed (core/link_mail.py: a logged-in sender,
  a site that sends mail, PWPUSH_ALLOWED_RECIPIENT_DOMAINS, the daily limit).
- All or nothing: a bad request is refused whole, with a message, and stores nothing.
File pushes take no recipients (their files are stored once per push).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert
from sqlmodel import select

from pwpush_app.core import audit, crypto, link_mail, recipient_code
from pwpush_app.core.audit import Client
from pwpush_app.core.clock import utcnow
from pwpush_app.core.create import (
    CreatedPush,
    NewPush,
    new_push_key,
    normalize_passphrase,
    require_sender_allowed,
    seal_validated,
    validate_new_push,
)
from pwpush_app.core.db import transaction
from pwpush_app.core.errors import InvalidPush
from pwpush_app.core.i18n import N_, said
from pwpush_app.core.models import Push
from pwpush_app.core.push_policies import ago
from pwpush_app.core.records import PUSHES
from pwpush_app.core.runtime import Runtime

MIN_RECIPIENTS, MAX_RECIPIENTS = 2, 20
MAX_LABEL_CHARS = 254
FIELD = "recipients"
_SEPARATORS = re.compile(r"[,;\r\n]+")
_INSERT_PUSH = insert(PUSHES)


@dataclass(frozen=True)
class Recipient:
    label: str
    email: str | None  # the label, when it is an email address: the link is mailed to it


@dataclass
class CreatedGroup:
    group_id: str
    pushes: list[CreatedPush]  # in the order the recipients were named


def asks_for_recipients(request: NewPush) -> bool:
    return request.recipients not in (None, "", [])


def parse_recipients(value) -> list[Recipient]:
    """The recipients named, checked; InvalidPush saying what is wrong."""
    if isinstance(value, str):
        labels = [part.strip() for part in _SEPARATORS.split(value)]
    elif isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        labels = [item.strip() for item in value]
    else:
        raise InvalidPush({FIELD: N_("Name the recipients as a list of texts, or a text separated by commas.")})
    labels = [label for label in labels if label]
    if not MIN_RECIPIENTS <= len(labels) <= MAX_RECIPIENTS:
        raise InvalidPush({FIELD: said(N_("Name from {min} to {max} recipients ({count} given), or none for one link."),
                                       min=MIN_RECIPIENTS, max=MAX_RECIPIENTS, count=len(labels))})
    seen: set[str] = set()
    found = []
    for label in labels:
        shown = label[:60] + ("…" if len(label) > 60 else "")
        if len(label) > MAX_LABEL_CHARS:
            raise InvalidPush({FIELD: said(N_("The recipient {name} is too long: at most {count} characters."),
                                           name=repr(shown), count=MAX_LABEL_CHARS)})
        if any(ord(c) < 32 or ord(c) == 127 for c in label) or not _is_encodable(label):
            raise InvalidPush({FIELD: said(N_("The recipient {name} holds characters a label can't: use plain text."),
                                           name=repr(shown))})
        if label.lower() in seen:
            raise InvalidPush({FIELD: said(N_("{name} is named twice: give each recipient once (each gets a link)."),
                                           name=shown)})
        seen.add(label.lower())
        if "@" in label and not link_mail.is_email(label):
            raise InvalidPush({FIELD: said(N_("Not an email address: {address}. Use name@example.com, or a label without @."),
                                           address=shown)})
        found.append(Recipient(label, label if "@" in label else None))
    return found


def _is_encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_group(runtime: Runtime, request: NewPush, client: Client) -> tuple[list[Recipient], dict, link_mail.LinkRecipients | None]:
    """Everything a group's request is refused for, at once: its recipients, the push's
    fields as for one push, and the mail to the recipients named by email."""
    errors: dict[str, str] = {}
    recipients: list[Recipient] = []
    try:
        recipients = parse_recipients(request.recipients)
    except InvalidPush as refusal:
        errors.update(refusal.errors)
    if request.kind == "file":
        errors[FIELD] = N_("Recipients can't be named for a file push: push text, a URL or a QR code to several "
                           "recipients, or send the files to each one.")
    if request.notify_emails_to not in (None, "", []):
        errors[link_mail.FIELD] = N_("Name the email addresses among the recipients instead: each gets their own link.")
    resolved: dict = {}
    try:
        resolved = validate_new_push(runtime, request, client, group=True)
    except InvalidPush as refusal:
        errors.update(refusal.errors)
    emails = [r.email for r in recipients if r.email]
    if recipients and FIELD not in errors:
        problem = recipient_code.check_group_verification(runtime, client, request.verify_recipients,
                                                          [r.email for r in recipients])
        if problem:
            errors[recipient_code.GROUP_FIELD] = problem
    mail = None
    if emails and FIELD not in errors:
        try:
            # Each push's link goes to one address: the per-push limit is not the group's.
            for email in emails:
                link_mail.check_recipients(runtime, client, [email], request.notify_emails_to_locale)
            mail = link_mail.LinkRecipients(emails, request.notify_emails_to_locale or "")
        except InvalidPush as refusal:
            errors[FIELD] = next(iter(refusal.errors.values()))
    if errors:
        raise InvalidPush(errors)
    return recipients, resolved, mail


def create_group(runtime: Runtime, request: NewPush, client: Client, now: datetime | None = None) -> CreatedGroup:
    """Seal and store a push for each recipient of `request.recipients`, and queue the
    mails to those named by email, in one transaction."""
    now = now or utcnow()
    runtime.throttle.hit("create", client.ip)
    require_sender_allowed(runtime, client)
    recipients, resolved, mail = check_group(runtime, request, client)
    passphrase = normalize_passphrase(request.passphrase)
    passphrase_hash = runtime.hashing.hash(passphrase) if passphrase else None
    group_id = crypto.new_id()
    created = [seal_validated(runtime, request, client, new_push_key(runtime), now, resolved, passphrase_hash,
                              group_id=group_id, recipient=recipient.label,
                              verify_email=recipient.email if request.verify_recipients is True else None)
               for recipient in recipients]
    with transaction(runtime.engine) as db:
        for recipient, one in zip(recipients, created):
            db.execute(_INSERT_PUSH, {column.name: getattr(one.push, column.key) for column in PUSHES.c})
            audit.record(db, one.push.id, audit.CREATION, client, now)
        for recipient, one in zip(recipients, created):
            if recipient.email and mail is not None:
                link_mail.queue_link_mails(db, runtime, one.push, one.url_token,
                                           link_mail.LinkRecipients([recipient.email], mail.locale), client, now)
    return CreatedGroup(group_id, created)


# --- the group as its owner sees it -----------------------------------------------------------------

def group_of(runtime: Runtime, push: Push) -> list[Push]:
    """The pushes made with `push` for the same secret (itself among them), by recipient;
    [] for a push of no group.  The caller checked that its reader owns `push`: the group
    was made by the same sender."""
    return groups_of(runtime, [push]).get(push.group_id or "", [])


def groups_of(runtime: Runtime, pushes: list[Push]) -> dict[str, list[Push]]:
    """The groups of these pushes (one query), each by recipient: {group_id: pushes}."""
    ids = sorted({push.group_id for push in pushes if push.group_id})
    if not ids:
        return {}
    with transaction(runtime.engine, write=False) as db:
        rows = db.exec(select(Push).where(Push.group_id.in_(ids))).all()
    found: dict[str, list[Push]] = {}
    for row in sorted(rows, key=lambda one: (one.recipient or "").lower()):
        found.setdefault(row.group_id, []).append(row)
    return found


def group_facts(members: list[Push], now: datetime) -> dict[str, str]:
    """Who of a group viewed, who has not yet and whose push ended unviewed (the dashboard words
    it in the viewer's language): the group's size and each list's names, one per line."""
    if not members:
        return {"size": "", "viewed": "", "waiting": "", "closed": ""}
    return {
        "size": str(len(members)),
        "viewed": "\n".join(m.recipient or "" for m in members if m.views_used > 0),
        "waiting": "\n".join(m.recipient or "" for m in members if m.views_used == 0 and m.is_live(now)),
        "closed": "\n".join(m.recipient or "" for m in members if m.views_used == 0 and not m.is_live(now)),
    }


def describe_member(push: Push, now: datetime) -> str:
    """'viewed 1 of 2 times, last 3 minutes ago; 1 view left' — what the owner reads of
    one recipient's push (the dashboard and the manage page)."""
    used = push.views_used
    if used == 0:
        seen = "not viewed yet"
    else:
        seen = f"viewed {used} of {push.expire_after_views} time{'s' if push.expire_after_views != 1 else ''}"
        if push.last_viewed_at is not None:
            seen += f", last {ago(push.last_viewed_at, now)}"
    if push.is_live(now):
        return f"{seen}; live"
    reasons = {"owner": "revoked", "viewer": "deleted by the recipient", "views": "all views used",
               "time": "its time ran out", "guesses": "deleted after wrong passphrases",
               "admin": "expired by an administrator"}
    return f"{seen}; expired ({reasons.get(push.expired_reason or 'time', 'expired')})"
