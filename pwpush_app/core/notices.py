"""Telling senders what happened to their pushes: the owner events noted by the core
(core/owner_events.py) become mails and webhook calls.

- `hand_out_events` takes a batch of events with one DELETE ... RETURNING (so two workers
  never hand out the same event) and, in that same transaction, queues a webhook call for
  each of the owner's endpoints, and a mail when the owner asked for that kind, or keeps
  the event for the owner's daily digest.  Nothing is mailed about what the owner did
  themselves (webhooks still hear it), nor to an address not yet confirmed.
  Each event is handed out in a savepoint of its own: one that raises (a row the sender
  can't read or write a letter for) is rolled back alone, logged and dropped, so it can't
  hold up the events behind it round after round (audit F1: a push name with a line break
  once stopped all of the site's mail this way).
- `send_due_digests` mails each account whose digest hour came one mail with everything
  kept for it (a conditional UPDATE of its due time decides between workers).
Mail needs an SMTP server; without one only webhooks are called.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from pwpush_app.core import letters
from pwpush_app.core.clock import iso_utc, utcnow
from pwpush_app.core.db import DatabaseUnavailable, transaction
from pwpush_app.core.models import Push, User
from pwpush_app.core.models_mail import NoticePreference, OwnerEvent, Webhook
from pwpush_app.core.outbox import queue_mail
from pwpush_app.core.owner_events import DELETED, EXPIRED, FAILED_PASSPHRASE, VIEWED
from pwpush_app.core.runtime import Runtime
from pwpush_app.core.webhooks import queue_event

log = logging.getLogger("pwpush.notices")

BATCH = 200
_EVENTS = OwnerEvent.__table__
_MAIL_CHOICE = {VIEWED: "on_view", FAILED_PASSPHRASE: "on_failed_passphrase", EXPIRED: "on_expire", DELETED: "on_expire"}


def next_digest_time(hour_utc: int, now: datetime) -> datetime:
    """The next `hour_utc`:00 UTC after now."""
    moment = now.replace(hour=hour_utc, minute=0, second=0, microsecond=0)
    return moment if moment > now else moment + timedelta(days=1)


def _push_event(event, push: Push) -> letters.PushEvent:
    return letters.PushEvent(kind=event.kind, push_name=push.name, push_created_at=push.created_at,
                             at=event.created_at, ip=event.ip, user_agent=event.user_agent, views_left=event.views_left,
                             expired_reason=push.expired_reason)


def webhook_data(event, push: Push) -> dict:
    """What an endpoint hears of an event: the push as its owner's list shows it, and who
    acted; never the secret, never the link."""
    ended = event.kind in (EXPIRED, DELETED)
    return {
        "push": {
            "id": push.id, "name": push.name, "kind": push.kind, "expire_after_views": push.expire_after_views,
            "views_remaining": event.views_left, "expires_at": iso_utc(push.expires_at),
            "expired": ended, "expired_reason": push.expired_reason if ended else None,
        },
        "actor": {"ip": event.ip, "user_agent": event.user_agent, "is_owner": bool(event.by_owner)},
        "occurred_at": iso_utc(event.created_at),
    }


def _mail_wanted(runtime: Runtime, event, user: User, choices: NoticePreference | None) -> bool:
    if choices is None or event.by_owner or not runtime.settings.mail.configured:
        return False
    if runtime.settings.mail.account_emails and user.email_confirmed_at is None:
        return False
    return bool(getattr(choices, _MAIL_CHOICE.get(event.kind, ""), False))


def hand_out_events(runtime: Runtime, now: datetime | None = None) -> int:
    """Turn a batch of new owner events into webhook calls and mails; returns how many it took."""
    now = now or utcnow()
    with transaction(runtime.engine) as db:
        ids = db.exec(select(OwnerEvent.id).where(OwnerEvent.in_digest == False)  # noqa: E712
                      .order_by(OwnerEvent.id).limit(BATCH)).all()
        if not ids:
            return 0
        taken = db.execute(delete(_EVENTS).where(_EVENTS.c.id.in_(ids), _EVENTS.c.in_digest == False)  # noqa: E712
                           .returning(*_EVENTS.c)).all()
        for event in sorted(taken, key=lambda e: e.id):
            try:
                with db.begin_nested():
                    _hand_out(db, runtime, event, now)
            except (OperationalError, DatabaseUnavailable):
                raise  # the database itself, not this event: the whole batch waits for the next round
            except Exception as error:
                # Not the error's text: it may quote the row.  The push's name is no secret,
                # but the log needs only which event went and why in kind.
                log.error("owner event %s (%s, push %s) could not be handed out and is dropped: %s", event.id,
                          event.kind, event.push_id, type(error).__name__)
    return len(taken)


def _hand_out(db: Session, runtime: Runtime, event, now: datetime) -> None:
    push, user = db.get(Push, event.push_id), db.get(User, event.user_id)
    if push is None or user is None:
        return
    if runtime.settings.mail.webhooks:
        for hook in db.exec(select(Webhook).where(Webhook.user_id == user.id)).all():
            queue_event(db, hook, f"push.{event.kind}", webhook_data(event, push), now)
    choices = db.get(NoticePreference, user.id)
    if not _mail_wanted(runtime, event, user, choices):
        return
    if choices.daily_digest:
        db.add(OwnerEvent(user_id=event.user_id, push_id=event.push_id, kind=event.kind, ip=event.ip,
                          user_agent=event.user_agent, by_owner=False, views_left=event.views_left, in_digest=True,
                          created_at=event.created_at))
        if choices.digest_due_at is None:
            choices.digest_due_at = next_digest_time(runtime.settings.mail.digest_hour_utc, now)
            db.add(choices)
        return
    letter = letters.notice_letter(runtime.settings, user.email, _push_event(event, push),
                                   letters.reader_locale(runtime.settings, user.locale))
    queue_mail(db, runtime, letter, "notice", user_id=user.id, push_id=None, now=now)


def send_due_digests(runtime: Runtime, now: datetime | None = None) -> int:
    """Mail every account whose digest is due its events since the last one; returns how many digests went."""
    now = now or utcnow()
    if not runtime.settings.mail.configured:
        return 0
    with transaction(runtime.engine, write=False) as db:
        due = db.exec(select(NoticePreference.user_id, NoticePreference.digest_due_at)
                      .where(NoticePreference.digest_due_at <= now)).all()
    sent = 0
    for user_id, due_at in due:
        with transaction(runtime.engine) as db:
            claimed = db.execute(update(NoticePreference)
                                 .where(NoticePreference.user_id == user_id, NoticePreference.digest_due_at == due_at)
                                 .values(digest_due_at=None).execution_options(synchronize_session=False)).rowcount
            if not claimed:
                continue  # another worker sends this one
            events = db.execute(delete(_EVENTS).where(_EVENTS.c.user_id == user_id, _EVENTS.c.in_digest == True)  # noqa: E712
                                .returning(*_EVENTS.c)).all()
            user = db.get(User, user_id)
            lines = []
            for event in sorted(events, key=lambda e: (e.created_at, e.id)):
                push = db.get(Push, event.push_id)
                if push is not None:
                    lines.append(_push_event(event, push))
            if lines and user is not None:
                letter = letters.digest_letter(runtime.settings, user.email, lines,
                                               letters.reader_locale(runtime.settings, user.locale))
                queue_mail(db, runtime, letter, "digest",
                           user_id=user_id, now=now)
                sent += 1
    return sent
