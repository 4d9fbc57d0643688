"""Requests: a logged-in user asks someone for a secret ("send me the VPN password").

- The requester writes a message for the answerer and chooses how long the request's link
  works and what the answer gets (its views and lifetime, within the text kind's limits).
  The link's token is 128 random bits, stored only as a keyed hash (like a push's); the
  message and the token (for the requester to copy the link again) are sealed under a data
  key of the request's own.
- Whoever holds the link answers once, without an account: the answer becomes a push
  owned by the requester (sealed, counted and expired like any other, with its audit
  trail): a text push, or a file push when files come with it (core/request_files.py
  uploads them; the request link stands in for the account file pushes may need),
  created in the transaction whose conditional UPDATE closes the request, so of two
  answers at once exactly one lands.  The answerer gets nothing back: no link, no manage
  token.  The requester is told by their webhooks and, unless they turned it off for this
  request (`notify_by_email`), by mail (where the server sends mail), in that same
  transaction, and sees the answer on the dashboard.
- A used, expired or unknown request link all read alike (`PushUnavailable`).
- A request's expiry (the purge, or the requester's list) deletes its message and link.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Sequence

from sqlalchemy import case, delete, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from pwpush_app.core import audit, crypto, letters
from pwpush_app.core.audit import Client
from pwpush_app.core.clock import iso_utc, utcnow
from pwpush_app.core.create import (
    NewPush,
    PushKey,
    new_push_key,
    normalize_passphrase,
    seal_validated,
    validate_new_push,
)
from pwpush_app.core.db import transaction
from pwpush_app.core.errors import InvalidPush, LoginRequired, PushError, PushUnavailable
from pwpush_app.core.i18n import N_, said
from pwpush_app.core.models import User
from pwpush_app.core.models_mail import Webhook
from pwpush_app.core.models_requests import SecretRequest
from pwpush_app.core.outbox import queue_mail
from pwpush_app.core.records import PUSHES, looks_like_token
from pwpush_app.core.runtime import Runtime
from pwpush_app.core.webhooks import queue_event

REQUESTS = SecretRequest.__table__
MAX_MESSAGE_CHARS = 1_000
OPEN, ANSWERED, EXPIRED = "open", "answered", "expired"
STATES = (OPEN, ANSWERED, EXPIRED)
# The sealed fields of a request, bound to its id.
MESSAGE, LINK = "request message", "request link"
# What the answer push is called on the requester's dashboard (a plaintext label: never the message).
ANSWER_NAME = N_("Answer to your request")
_INSERT_PUSH = insert(PUSHES)
_WIPED = dict(wrapped_key=None, message_sealed=None, link_sealed=None)


class RequestNeedsAccount(LoginRequired):
    def __init__(self):
        PushError.__init__(self, N_("Asking for a secret needs an account: log in first."))


@dataclass
class NewRequest:
    """What a requester asks for. `None`: the text kind's default from the settings."""

    message: str = ""
    # How long the request's link takes an answer.
    expire_after_minutes: int | None = None
    # What the answer push gets.
    answer_views: int | None = None
    answer_minutes: int | None = None
    # Mail the requester when the answer arrives (where the site sends mail); webhooks always hear.
    notify_by_email: bool = True


@dataclass(frozen=True)
class RequestView:
    """A request as its requester sees it (the message and link only while it can be answered
    or until it expires)."""

    id: str
    message: str
    state: str
    link_token: str | None
    answer_views: int
    answer_minutes: int
    expires_at: datetime
    created_at: datetime
    answered_at: datetime | None
    answer_push_id: str | None
    notify_by_email: bool = True
    # text or file, while the answer push's record stays (in the lists: requests_of).
    answer_kind: str | None = None


@dataclass(frozen=True)
class CreatedRequest:
    request: RequestView
    token: str


@dataclass(frozen=True)
class RequestLanding:
    """What the answerer sees before answering: the requester's message, and until when."""

    message: str
    expires_at: datetime


def _subject(request_id: str) -> str:
    """What a request's data key is wrapped for (key rotation re-wraps it: core/sealing.py)."""
    return f"request {request_id}"


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in value


def _check(runtime: Runtime, request: NewRequest) -> dict:
    policy = runtime.settings.policy("text")
    if not policy.enabled:
        raise InvalidPush({"kind": N_("Text pushes are turned off on this server, so nobody could answer a request.")})
    errors: dict[str, str] = {}
    message = request.message
    if not isinstance(message, str) or not message.strip():
        errors["message"] = N_("Write what you are asking for (the person who answers reads it).")
    elif len(message) > MAX_MESSAGE_CHARS:
        errors["message"] = said(N_("The message is too long: at most {count} characters."), count=MAX_MESSAGE_CHARS)
    elif not _is_text(message):
        errors["message"] = N_("The message is not valid UTF-8 text.")
    span = {"shortest_span": policy.minutes_min, "longest_span": policy.minutes_max}
    values = {}
    for field, given, default, low, high, wrong in (
        ("expire_after_minutes", request.expire_after_minutes, policy.minutes_default, policy.minutes_min,
         policy.minutes_max,
         said(N_("The request's lifetime must be from {shortest_span} to {longest_span}."), **span)),
        ("answer_minutes", request.answer_minutes, policy.minutes_default, policy.minutes_min, policy.minutes_max,
         said(N_("The answer's lifetime must be from {shortest_span} to {longest_span}."), **span)),
        ("answer_views", request.answer_views, policy.views_default, policy.views_min, policy.views_max,
         said(N_("The answer's views must be a whole number from {min} to {max}."), min=policy.views_min,
              max=policy.views_max)),
    ):
        value = default if given is None else given
        if not _whole(value) or not low <= value <= high:
            errors[field] = wrong
        values[field] = value
    if not isinstance(request.notify_by_email, bool):
        errors["notify_by_email"] = said(N_("{field} must be true or false."), field="notify_by_email")
    if errors:
        raise InvalidPush(errors)
    return {"message": message.strip(), "notify_by_email": request.notify_by_email, **values}


def create_request(runtime: Runtime, request: NewRequest, client: Client, now: datetime | None = None) -> CreatedRequest:
    """Store a new request of the logged-in `client`; return it with its link's token."""
    now = now or utcnow()
    runtime.throttle.hit("create", client.ip)
    if client.user_id is None:
        raise RequestNeedsAccount()
    values = _check(runtime, request)
    request_id, token = crypto.new_id(), crypto.new_token()
    data_key, wrapped = runtime.keyring.new_data_key(_subject(request_id))
    row = SecretRequest(
        id=request_id, owner_id=client.user_id, token_digest=runtime.keyring.token_digest(token),
        token_key_id=runtime.keyring.current_key_id, wrapped_key=wrapped,
        message_sealed=data_key.seal_text(request_id, MESSAGE, values["message"]),
        link_sealed=data_key.seal_text(request_id, LINK, token),
        answer_views=values["answer_views"], answer_minutes=values["answer_minutes"],
        expire_after_minutes=values["expire_after_minutes"],
        expires_at=now + timedelta(minutes=values["expire_after_minutes"]), state=OPEN, created_at=now, updated_at=now,
        notify_by_email=values["notify_by_email"],
    )
    with transaction(runtime.engine) as db:
        db.add(row)
    return CreatedRequest(request=_view(runtime, row), token=token)


def _view(runtime: Runtime, row: SecretRequest, answer_kind: str | None = None) -> RequestView:
    message, link = "", None
    if row.wrapped_key is not None:
        data_key = runtime.keyring.open_data_key(_subject(row.id), row.wrapped_key)
        message = data_key.open_text(row.id, MESSAGE, row.message_sealed) if row.message_sealed else ""
        link = data_key.open_text(row.id, LINK, row.link_sealed) if row.link_sealed else None
    return RequestView(id=row.id, message=message, state=row.state, link_token=link if row.state == OPEN else None,
                       answer_views=row.answer_views, answer_minutes=row.answer_minutes, expires_at=row.expires_at,
                       created_at=row.created_at, answered_at=row.answered_at, answer_push_id=row.answer_push_id,
                       notify_by_email=row.notify_by_email, answer_kind=answer_kind)


def _find_open(db: Session, runtime: Runtime, token: str, now: datetime) -> SecretRequest | None:
    if not looks_like_token(token):
        return None
    row = db.exec(select(SecretRequest).where(SecretRequest.token_digest.in_(runtime.keyring.token_digests(token)))).first()
    if row is None or row.state != OPEN or row.expires_at <= now or row.wrapped_key is None:
        return None
    return row


def open_request(runtime: Runtime, token: str, now: datetime | None = None) -> SecretRequest:
    """The open request behind `token`; PushUnavailable for any other link."""
    now = now or utcnow()
    with transaction(runtime.engine, write=False) as db:
        row = _find_open(db, runtime, token, now)
    if row is None:
        raise PushUnavailable()
    return row


def request_landing(runtime: Runtime, token: str, now: datetime | None = None) -> RequestLanding:
    """The message of an open request, for the answer page; PushUnavailable for any other link."""
    row = open_request(runtime, token, now)
    return RequestLanding(message=_view(runtime, row).message, expires_at=row.expires_at)


def _answer_request_values(runtime: Runtime, row: SecretRequest, kind: str) -> tuple[int, int]:
    """The answer's views and minutes, as chosen, brought within today's limits of its kind
    (an administrator may have narrowed them since: the answerer can't fix that)."""
    policy = runtime.settings.policy(kind)
    return (min(max(row.answer_views, policy.views_min), policy.views_max),
            min(max(row.answer_minutes, policy.minutes_min), policy.minutes_max))


def answer_request(runtime: Runtime, token: str, payload: str, client: Client, passphrase: str = "",
                   now: datetime | None = None) -> None:
    """Answer the request behind `token` with `payload` (and a passphrase where the site
    requires one): the answer becomes a push of the requester's; the request closes.

    PushUnavailable for a link that is unknown, answered or expired (also when another
    answer won a moment earlier); InvalidPush for an answer the text kind refuses."""
    now = now or utcnow()
    runtime.throttle.hit("create", client.ip)
    row = open_request(runtime, token, now)
    store_answer(runtime, row, payload, passphrase, client, new_push_key(runtime), now)


def store_answer(runtime: Runtime, row: SecretRequest, payload: str, passphrase: str, client: Client, key: PushKey,
                 now: datetime, files: Sequence = ()) -> None:
    """Seal the answer to `row` under `key` as a push of the requester's (a file push with
    `files`: rows of blobs already stored under `key`) and close the request, in one
    transaction; PushUnavailable if the request closed meanwhile, InvalidPush if the
    answer's kind refuses it (nothing stored either way)."""
    kind = "file" if files else "text"
    views, minutes = _answer_request_values(runtime, row, kind)
    answer = NewPush(payload=payload, kind=kind, name=ANSWER_NAME, passphrase=passphrase,
                     expire_after_views=views, expire_after_minutes=minutes)
    resolved = validate_new_push(runtime, answer)
    phrase = normalize_passphrase(passphrase)
    # The push's owner is the requester; the answerer stays anonymous in its audit trail.
    created = seal_validated(runtime, answer, Client(user_id=row.owner_id), key, now, resolved,
                             runtime.hashing.hash(phrase) if phrase else None)
    push_row = {column.name: getattr(created.push, column.key) for column in PUSHES.c}
    anonymous = Client(ip=client.ip, user_agent=client.user_agent, referrer=client.referrer)
    try:
        _store_answer(runtime, row, key.push_id, push_row, created.push, anonymous, now, files)
    except IntegrityError:
        raise PushUnavailable() from None  # the requester's account went meanwhile


def _store_answer(runtime: Runtime, row: SecretRequest, push_id: str, push_row: dict, push, client: Client,
                  now: datetime, files: Sequence) -> None:
    """The answer push (with its files' rows) and the request's closing, in one transaction (or neither)."""
    with transaction(runtime.engine) as db:
        db.execute(_INSERT_PUSH, push_row)
        for file_row in files:
            db.add(file_row)
        won = db.execute(
            update(REQUESTS)
            .where(REQUESTS.c.id == row.id, REQUESTS.c.state == OPEN, REQUESTS.c.expires_at > now,
                   REQUESTS.c.wrapped_key.is_not(None))
            .values(state=ANSWERED, answered_at=now, answer_push_id=push_id, link_sealed=None, updated_at=now)
            .returning(REQUESTS.c.id)
        ).first()
        if won is None:
            raise PushUnavailable()  # rolls the push back with it
        audit.record(db, push_id, audit.CREATION, client, now)
        _tell_requester(db, runtime, row, push_id, push, client, now, len(files))


def _tell_requester(db: Session, runtime: Runtime, row: SecretRequest, push_id: str, push, client: Client,
                    now: datetime, file_count: int) -> None:
    """Queue the webhook calls and the mail (unless the requester turned it off for this
    request) that tell the requester, in the answer's transaction."""
    mail = runtime.settings.mail
    if mail.webhooks:
        data = {
            "request": {"id": row.id, "created_at": iso_utc(row.created_at), "expires_at": iso_utc(row.expires_at),
                        "state": ANSWERED, "answered_at": iso_utc(now)},
            "push": {"id": push_id, "kind": push.kind, "expire_after_views": push.expire_after_views,
                     "expires_at": iso_utc(push.expires_at), "files": file_count},
            "actor": {"ip": client.ip, "user_agent": client.user_agent, "is_owner": False},
            "occurred_at": iso_utc(now),
        }
        for hook in db.exec(select(Webhook).where(Webhook.user_id == row.owner_id)).all():
            queue_event(db, hook, "request.answered", data, now)
    if not mail.configured or not row.notify_by_email:
        return
    user = db.get(User, row.owner_id)
    if user is None or (mail.account_emails and user.email_confirmed_at is None):
        return
    letter = letters.request_answered_letter(runtime.settings, user.email, row.created_at, now,
                                             letters.reader_locale(runtime.settings, user.locale))
    queue_mail(db, runtime, letter, "notice", user_id=user.id, now=now)


# --- the requester's side ---------------------------------------------------------------------------

def expire_requests(runtime: Runtime, now: datetime | None = None, owner_id: str | None = None) -> int:
    """Every request past its time: an open one becomes expired; any loses its message and
    link (and their key).  Returns how many open requests expired."""
    now = now or utcnow()
    where = [REQUESTS.c.expires_at <= now, REQUESTS.c.wrapped_key.is_not(None)]
    if owner_id is not None:
        where.append(REQUESTS.c.owner_id == owner_id)
    with transaction(runtime.engine) as db:
        done = db.execute(
            update(REQUESTS).where(*where)
            .values(state=case((REQUESTS.c.state == OPEN, EXPIRED), else_=REQUESTS.c.state), updated_at=now, **_WIPED)
            .returning(REQUESTS.c.state)
        ).all()
    return sum(1 for (state,) in done if state == EXPIRED)


def delete_old_requests(runtime: Runtime, before: datetime) -> None:
    """The records of requests that ended before `before` (the retention setting)."""
    with transaction(runtime.engine) as db:
        db.execute(delete(REQUESTS).where(REQUESTS.c.expires_at < before, REQUESTS.c.wrapped_key.is_(None)))


def requests_of(runtime: Runtime, owner_id: str, limit: int = 100, now: datetime | None = None) -> list[RequestView]:
    """An account's requests, newest first, `limit` at most (overdue ones expired first)."""
    now = now or utcnow()
    query = (select(SecretRequest).where(SecretRequest.owner_id == owner_id)
             .order_by(SecretRequest.created_at.desc(), SecretRequest.id).limit(limit))
    with transaction(runtime.engine, write=False) as db:
        rows = db.exec(query).all()
    # Only a list with an overdue request costs a write (the pages ask every few seconds).
    if any(row.wrapped_key is not None and row.expires_at <= now for row in rows):
        expire_requests(runtime, now, owner_id)
        with transaction(runtime.engine, write=False) as db:
            rows = db.exec(query).all()
    answers = [row.answer_push_id for row in rows if row.answer_push_id]
    kinds = {}
    if answers:
        with transaction(runtime.engine, write=False) as db:
            kinds = dict(db.execute(select(PUSHES.c.id, PUSHES.c.kind).where(PUSHES.c.id.in_(answers))).all())
    return [_view(runtime, row, kinds.get(row.answer_push_id)) for row in rows]


def request_of(runtime: Runtime, owner_id: str, request_id: str, now: datetime | None = None) -> RequestView:
    """One of the account's requests; anyone else's reads as unknown (PushUnavailable)."""
    now = now or utcnow()
    if not isinstance(request_id, str) or not looks_like_token(request_id.ljust(16, "_")):
        raise PushUnavailable()
    expire_requests(runtime, now, owner_id)
    with transaction(runtime.engine, write=False) as db:
        row = db.get(SecretRequest, request_id)
    if row is None or row.owner_id != owner_id:
        raise PushUnavailable()
    return _view(runtime, row)
