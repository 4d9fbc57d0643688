"""The rules of a push: create, look, reveal, expire, purge.  Pages and API both call these.

Every rule of the lifecycle lives here and nowhere else:
- views and time limits, whichever comes first;
- a view is taken by one conditional UPDATE (`views_remaining > 0`): the database
  applies concurrent ones one at a time, so no more callers than views get a row;
- the view that leaves none returns the payload and expires the push in the same
  transaction: that, not the counter alone, is what keeps the last view the last
  (a mutation run showed it; see `_take_view`);
- expiry deletes the payload, note, passphrase hash and data key (not only a flag);
- outsiders cannot tell an unknown link from an expired one (`PushUnavailable`);
- a viewer passes one gate (`_admit_viewer`) to see the push and to delete it: a live
  push, and its passphrase when it has one;
- wrong passphrases consume nothing, lock out one client (an IPv4 address or an IPv6
  /64) after a few failures, and lock the push for everyone after more from anywhere.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Callable, Iterable

from sqlalchemy import Integer, bindparam, cast, delete, func, insert, select as sa_select, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from pwpush_app.core import audit, crypto
from pwpush_app.core.audit import Client
from pwpush_app.core.clock import utcnow
from pwpush_app.core.db import transaction
from pwpush_app.core.errors import PushError
from pwpush_app.core.throttle import RateLimited  # noqa: F401  (re-exported for callers)
from pwpush_app.core.models import AuditEvent, Push
from pwpush_app.core.network import client_network
from pwpush_app.core.qr import MAX_QR_BYTES, qr_fits
from pwpush_app.core.vault import Vault
from pwpush_app.settings import KINDS

if TYPE_CHECKING:
    from pwpush_app.core.files import FileDownloads

PUSHES = Push.__table__

# The hot path's statements are built once (with bound parameters): building a SQLAlchemy
# statement costs more than SQLite takes to run it.
_INSERT_PUSH = insert(PUSHES)
# "Not expired" as an expression, not a bare column: where a push is looked up by its
# token or id, SQLite would otherwise pick an (expired, ...) index for an IN list and walk
# every live push.  Only the purge, which wants every overdue push, uses those indexes.
_NOT_EXPIRED = cast(PUSHES.c.expired, Integer) == 0
_LIVE = (
    _NOT_EXPIRED,
    PUSHES.c.views_remaining > 0,
    PUSHES.c.expires_at > bindparam("now"),
)
_TAKE_VIEW = update(PUSHES).values(views_remaining=PUSHES.c.views_remaining - 1, updated_at=bindparam("now"))
# A view of a live push without passphrase, by its link token's digests (one per key).
_TAKE_VIEW_BY_TOKEN = _TAKE_VIEW.where(
    PUSHES.c.token_digest.in_(bindparam("digests", expanding=True)), PUSHES.c.has_passphrase == False, *_LIVE  # noqa: E712
).returning(*PUSHES.c)
_TAKE_VIEW_BY_ID = _TAKE_VIEW.where(PUSHES.c.id == bindparam("push_id"), *_LIVE).returning(*PUSHES.c)
# Expiry deletes the secret material, not only sets a flag.
_WIPED = dict(wrapped_key=None, payload_sealed=None, note_sealed=None, link_sealed=None, passphrase_hash=None)
# Expires the given pushes that are not expired yet; returns the ids it expired.
_EXPIRE = (
    update(PUSHES)
    .where(PUSHES.c.id.in_(bindparam("push_ids", expanding=True)), _NOT_EXPIRED)
    .values(expired=True, expired_at=bindparam("now"), expired_reason=bindparam("reason"), updated_at=bindparam("now"), **_WIPED)
    .returning(PUSHES.c.id)
)

MAX_NAME_CHARS = 255
MAX_NOTE_CHARS = 10_000
MAX_PASSPHRASE_CHARS = 256
MAX_URL_CHARS = 8_192
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


# --- outcomes a caller must handle ---------------------------------------------------------

class InvalidPush(PushError):
    """The request to create a push breaks a rule; `errors` maps each field to a message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


class PushUnavailable(PushError):
    """Unknown, expired or deleted: outsiders are never told which."""

    def __init__(self):
        super().__init__("This secret link has expired or never existed.")


class PassphraseRequired(PushError):
    def __init__(self):
        super().__init__("This secret is protected by a passphrase. Enter it to continue.")


class WrongPassphrase(PushError):
    def __init__(self, attempts_left: int, pause_minutes: int = 0):
        self.attempts_left = attempts_left
        if attempts_left:
            then = f" {attempts_left} attempt{'s' if attempts_left != 1 else ''} left before a pause."
        else:
            then = f" That was the last attempt for now: try again in {_in_minutes(pause_minutes * 60)}."
        super().__init__("That passphrase is not correct." + then)


def _in_minutes(seconds: int) -> str:
    minutes = (seconds + 59) // 60
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


class TooManyAttempts(PushError):
    """Wrong passphrases from this client (address or IPv6 network) reached the limit."""

    def __init__(self, retry_after_seconds: int, message: str | None = None):
        self.retry_after_seconds = max(1, retry_after_seconds)
        super().__init__(
            message or f"Too many wrong passphrases from your network. Try again in {_in_minutes(self.retry_after_seconds)}."
        )


class PushLocked(TooManyAttempts):
    """Wrong passphrases for this push from everywhere reached the limit: nobody may try."""

    def __init__(self, retry_after_seconds: int):
        super().__init__(
            retry_after_seconds,
            "This secret is locked after too many wrong passphrases. "
            f"Try again in {_in_minutes(max(1, retry_after_seconds))}, or ask the sender for a new link.",
        )


class UnexpectedPassphrase(PushError):
    def __init__(self):
        super().__init__("This push has no passphrase; send the request without one.")


class NotAllowed(PushError):
    """The action exists but this caller may not do it (e.g. deleting a non-deletable push)."""


# --- what callers get back -------------------------------------------------------------------

@dataclass
class NewPush:
    """What a sender asks for. `None` means: use the kind's default from the settings."""

    payload: str = ""
    kind: str = "text"
    name: str = ""
    note: str = ""
    passphrase: str = ""
    expire_after_views: int | None = None
    expire_after_minutes: int | None = None
    retrieval_step: bool | None = None
    deletable_by_viewer: bool | None = None


@dataclass
class CreatedPush:
    push: Push
    url_token: str
    manage_token: str


@dataclass
class Landing:
    """What a recipient may know before revealing: nothing secret."""

    kind: str
    needs_passphrase: bool
    retrieval_step: bool


@dataclass
class Revealed:
    push: Push
    payload: str
    note: str = ""
    extras: dict = field(default_factory=dict)
    # File pushes: the files and the grant to download them (see core.files).
    downloads: "FileDownloads | None" = None
    # Proof that this viewer passed the gate: lets the page that revealed the push delete
    # it without asking for the passphrase again (`expire_by_viewer`).  None when the
    # viewer may not delete it.
    delete_receipt: str | None = None

    @property
    def views_remaining(self) -> int:
        return self.push.views_remaining

    @property
    def expires_at(self) -> datetime:
        return self.push.expires_at


# --- create -------------------------------------------------------------------------------

def validate_new_push(vault: Vault, request: NewPush) -> dict:
    """Check a request against the kind's policy; return the resolved values or raise."""
    settings = vault.settings
    errors: dict[str, str] = {}
    kind = request.kind
    if kind not in KINDS:
        raise InvalidPush({"kind": f"Unknown kind {kind!r}: use one of {', '.join(KINDS)}."})
    policy = settings.policy(kind)
    if not policy.enabled:
        raise InvalidPush({"kind": f"{kind} pushes are turned off on this server."})

    payload = request.payload
    if not isinstance(payload, str):
        errors["payload"] = "The payload must be text."
    else:
        _check_payload(kind, payload, settings, errors)

    for name, value, limit in (
        ("name", request.name, MAX_NAME_CHARS),
        ("note", request.note, MAX_NOTE_CHARS),
        ("passphrase", request.passphrase, MAX_PASSPHRASE_CHARS),
    ):
        if not isinstance(value, str):
            errors[name] = f"The {name} must be text."
        elif len(value) > limit:
            errors[name] = f"The {name} is too long: at most {limit} characters."
        elif not _is_encodable(value):
            errors[name] = f"The {name} is not valid UTF-8 text."

    views = policy.views_default if request.expire_after_views is None else request.expire_after_views
    if not _is_int(views) or not policy.views_min <= views <= policy.views_max:
        errors["expire_after_views"] = (
            f"Views must be a whole number from {policy.views_min} to {policy.views_max}."
        )
    minutes = policy.minutes_default if request.expire_after_minutes is None else request.expire_after_minutes
    if not _is_int(minutes) or not policy.minutes_min <= minutes <= policy.minutes_max:
        errors["expire_after"] = (
            f"The lifetime must be from {describe_minutes(policy.minutes_min)} to {describe_minutes(policy.minutes_max)}."
        )
    retrieval_step = policy.retrieval_step_default if request.retrieval_step is None else request.retrieval_step
    deletable = policy.deletable_by_viewer_default if request.deletable_by_viewer is None else request.deletable_by_viewer
    for name, value in (("retrieval_step", retrieval_step), ("deletable_by_viewer", deletable)):
        if not isinstance(value, bool):
            errors[name] = f"{name} must be true or false."
    if errors:
        raise InvalidPush(errors)
    return {
        "views": views,
        "minutes": minutes,
        "retrieval_step": retrieval_step,
        # A URL push redirects after the reveal: there is no page to delete it from.
        "deletable_by_viewer": deletable and policy.deletable_by_viewer_allowed,
    }


def _check_payload(kind: str, payload: str, settings, errors: dict[str, str]) -> None:
    if not _is_encodable(payload):
        errors["payload"] = "The payload is not valid UTF-8 text."
        return
    if kind == "file":
        if len(payload.encode()) > settings.max_payload_bytes:
            errors["payload"] = f"The text is too long: at most {settings.max_payload_bytes} bytes."
        return
    if not payload.strip():
        errors["payload"] = "Enter the secret to share."
    elif kind == "text" and len(payload.encode()) > settings.max_payload_bytes:
        errors["payload"] = f"The secret is too long: at most {settings.max_payload_bytes:,} bytes of text."
    elif kind == "qr" and len(payload) > settings.max_qr_chars:
        errors["payload"] = f"QR code content is too long: at most {settings.max_qr_chars:,} characters."
    elif kind == "qr" and not qr_fits(payload):
        errors["payload"] = f"QR code content is too long to draw: at most {MAX_QR_BYTES:,} bytes (some characters take 2 to 4)."
    elif kind == "url" and not is_safe_url(payload):
        errors["payload"] = "Enter a full web address starting with http:// or https://."


def is_safe_url(text: str) -> bool:
    if len(text) > MAX_URL_CHARS or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in text):
        return False
    try:
        parts = urllib.parse.urlsplit(text)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _is_encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def describe_minutes(minutes: int) -> str:
    if minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        return f"{days} day{'s' if days != 1 else ''}"
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


class AccountRequired(PushError):
    def __init__(self):
        super().__init__("This site needs an account to create pushes: log in or sign up first.")


def may_create_pushes(vault: Vault, user_id: str | None) -> bool:
    """Anonymous pushes only where the instance allows them (PWP__ALLOW_ANONYMOUS)."""
    return user_id is not None or vault.settings.allow_anonymous


def require_sender_allowed(vault: Vault, client: Client) -> None:
    if not may_create_pushes(vault, client.user_id):
        raise AccountRequired()


def create_push(vault: Vault, request: NewPush, client: Client, now: datetime | None = None) -> CreatedPush:
    """Seal and store a new push; return it with its secret link token and manage token.

    File pushes come through `core.files.create_file_push`, which brings the files.
    """
    now = now or utcnow()
    vault.throttle.hit("create", client.ip)
    require_sender_allowed(vault, client)
    if request.kind == "file":
        raise InvalidPush({"files": "Attach at least one file."})
    return store_new_push(vault, request, client, new_push_key(vault), now)


@dataclass
class PushKey:
    """A new push's id and data key, made before the push is stored (file blobs need both)."""

    push_id: str
    data_key: crypto.DataKey
    wrapped: bytes


def new_push_key(vault: Vault) -> PushKey:
    push_id = crypto.new_id()
    data_key, wrapped = vault.keyring.new_data_key(push_id)
    return PushKey(push_id, data_key, wrapped)


def store_new_push(
    vault: Vault, request: NewPush, client: Client, key: PushKey, now: datetime, rows: Iterable = ()
) -> CreatedPush:
    """Validate, seal and store a push under `key`, with `rows` (e.g. its files) in the
    same transaction.  No rate limit here: the caller counted the attempt."""
    created = seal_new_push(vault, request, client, key, now)
    push_row = {column.name: getattr(created.push, column.key) for column in PUSHES.c}
    with transaction(vault.engine) as db:
        db.execute(_INSERT_PUSH, push_row)
        for row in rows:
            db.add(row)
        audit.record(db, key.push_id, audit.CREATION, client, now)
    return created


def seal_new_push(vault: Vault, request: NewPush, client: Client, key: PushKey, now: datetime) -> CreatedPush:
    """Validate and seal a push under `key`, with its tokens, without storing it: the row
    exactly as `store_new_push` writes it (benchmarks insert such rows in bulk)."""
    resolved = validate_new_push(vault, request)
    keyring = vault.keyring
    push_id, data_key = key.push_id, key.data_key
    url_token, manage_token = crypto.new_token(), crypto.new_token()
    passphrase_hash = vault.hashing.hash(request.passphrase) if request.passphrase else None
    push = Push(
        id=push_id,
        kind=request.kind,
        token_digest=keyring.token_digest(url_token),
        token_key_id=keyring.current_key_id,
        manage_digest=keyring.token_digest(manage_token),
        owner_id=client.user_id,
        name=request.name.strip(),
        wrapped_key=key.wrapped,
        payload_sealed=data_key.seal_text(push_id, "payload", request.payload),
        note_sealed=data_key.seal_text(push_id, "note", request.note) if request.note else None,
        # For its owner to copy the link again: an account's, or a browser's whose pushes
        # move into an account later (claim_pushes).
        link_sealed=data_key.seal_text(push_id, "link", url_token),
        passphrase_hash=passphrase_hash,
        has_passphrase=passphrase_hash is not None,
        expire_after_views=resolved["views"],
        views_remaining=resolved["views"],
        expire_after_minutes=resolved["minutes"],
        expires_at=now + timedelta(minutes=resolved["minutes"]),
        retrieval_step=resolved["retrieval_step"],
        deletable_by_viewer=resolved["deletable_by_viewer"],
        created_at=now,
        updated_at=now,
    )
    return CreatedPush(push=push, url_token=url_token, manage_token=manage_token)


# --- finding a push ---------------------------------------------------------------------------

def _looks_like_token(token: str) -> bool:
    return isinstance(token, str) and bool(_TOKEN_RE.match(token))


def _find(db: Session, vault: Vault, token: str) -> Push | None:
    if not _looks_like_token(token):
        return None
    digests = vault.keyring.token_digests(token)
    return db.exec(select(Push).where(Push.token_digest.in_(digests))).first()


def _find_managed(db: Session, vault: Vault, manage_token: str) -> Push | None:
    if not _looks_like_token(manage_token):
        return None
    digests = vault.keyring.token_digests(manage_token)
    return db.exec(select(Push).where(Push.manage_digest.in_(digests))).first()


def find_push(vault: Vault, token: str) -> Push | None:
    """The push behind a secret link token, expired or not (for owner checks and the API)."""
    with transaction(vault.engine, write=False) as db:
        return _find(db, vault, token)


def _is_live(push: Push, now: datetime) -> bool:
    return not push.expired and push.views_remaining > 0 and push.expires_at > now


def _open_or_expire(db: Session, vault: Vault, push: Push | None, client: Client, now: datetime) -> Push:
    """The push if it is live; otherwise log a failed view, expire it if overdue, and refuse."""
    if push is None:
        raise PushUnavailable()
    if not _is_live(push, now):
        if not push.expired:
            _expire(db, push, "time" if push.expires_at <= now else "views", audit.SYSTEM, now)
        audit.record(db, push.id, audit.FAILED_VIEW, client, now)
        raise PushUnavailable()
    return push


def landing(vault: Vault, token: str, now: datetime | None = None) -> Landing:
    """What the link's landing page may show.  Reads only: consumes nothing, logs nothing."""
    now = now or utcnow()
    with transaction(vault.engine, write=False) as db:
        push = _find(db, vault, token)
    if push is None or not _is_live(push, now):
        raise PushUnavailable()
    return Landing(kind=push.kind, needs_passphrase=push.has_passphrase, retrieval_step=push.retrieval_step)


# --- reveal ---------------------------------------------------------------------------------------

def reveal_push(
    vault: Vault, token: str, client: Client, passphrase: str | None = None, now: datetime | None = None
) -> Revealed:
    """Consume one view and return the secret; the last view also expires the push.

    Raises PushUnavailable, PassphraseRequired, WrongPassphrase, TooManyAttempts (or its
    PushLocked), UnexpectedPassphrase, RateLimited or ServerBusy; none of those consumes a
    view.
    """
    now = now or utcnow()
    vault.throttle.hit("reveal", client.ip)
    passphrase = passphrase or ""
    if not passphrase and _looks_like_token(token):
        # The common case in one statement: take a view of a live push without passphrase.
        with transaction(vault.engine) as db:
            revealed = _take_view(
                db, vault, _TAKE_VIEW_BY_TOKEN, {"digests": vault.keyring.token_digests(token)}, client, now
            )
        if revealed:
            return revealed

    admitted = _admit_viewer(vault, token, client, passphrase, now)
    with transaction(vault.engine) as db:
        admitted.forget_attempt(db)
        revealed = _take_view(db, vault, _TAKE_VIEW_BY_ID, {"push_id": admitted.push.id}, client, now)
        if revealed is None:
            # Someone else took the last view, or it was expired, in between.
            audit.record(db, admitted.push.id, audit.FAILED_VIEW, client, now)
    if revealed is None:
        _delete_file_blobs(vault, admitted.push, now)
        raise PushUnavailable()
    return revealed


def _take_view(db: Session, vault: Vault, statement, which: dict, client: Client, now: datetime) -> Revealed | None:
    """Take one view with a single conditional UPDATE; the payload if this caller got it.

    Exactly once, in two guards: `views_remaining > 0` in the WHERE clause (_LIVE) lets the
    database apply concurrent UPDATEs one at a time, so at most as many callers as views
    get a row; and the view that leaves 0 expires the push in this same transaction, so
    nobody can be served from a push whose last view was taken (the time check in _LIVE
    and the purge cover the clock).
    """
    row = db.execute(statement, {**which, "now": now}).first()
    if row is None:
        return None
    push = Push(**row._mapping)
    data_key = vault.keyring.open_data_key(push.id, push.wrapped_key)
    payload = data_key.open_text(push.id, "payload", push.payload_sealed)
    audit.record(db, push.id, audit.VIEW, client, now)
    downloads = _grant_file_downloads(db, vault, push, data_key, now)
    if push.views_remaining == 0:
        _expire(db, push, "views", audit.SYSTEM, now)
    receipt = vault.keyring.receipt("viewer delete", push.id) if push.deletable_by_viewer and not push.expired else None
    return Revealed(push=push, payload=payload, downloads=downloads, delete_receipt=receipt)


# --- the viewer's gate: a live push, and its passphrase ----------------------------------------------

@dataclass
class _Admitted:
    push: Push
    # The failed_passphrase row reserved while the passphrase was checked; the caller
    # deletes it in the transaction that acts (a right passphrase is no failure).
    attempt: int | None = None

    def forget_attempt(self, db: Session) -> None:
        if self.attempt is not None:
            db.execute(delete(AuditEvent).where(AuditEvent.id == self.attempt))


def _admit_viewer(
    vault: Vault, token: str, client: Client, passphrase: str, now: datetime,
    check: Callable[[Push], None] | None = None, receipt: str | None = None,
) -> _Admitted:
    """What a viewer must pass to see a push or to delete it: the push is live (else a
    failed view is logged and PushUnavailable raised), `check` holds, and the passphrase is
    right when the push has one, unless `receipt` proves this viewer gave it in a reveal.
    Every passphrase attempt is counted before it is checked (under the write lock, so
    parallel guesses can't slip past a limit)."""
    failure: PushError | None = None
    attempt: _Reservation | None = None
    with transaction(vault.engine) as db:
        push = _find(db, vault, token)
        try:
            push = _open_or_expire(db, vault, push, client, now)
        except PushUnavailable as refusal:
            failure = refusal
        else:
            if check is not None:
                check(push)
            if receipt is not None and vault.keyring.check_receipt(receipt, "viewer delete", push.id):
                pass
            elif push.has_passphrase:
                if not passphrase:
                    raise PassphraseRequired()
                attempt = _reserve_passphrase_attempt(db, vault, push, client, now)
            elif passphrase:
                raise UnexpectedPassphrase()
    if failure:
        _delete_file_blobs(vault, push, now)
        raise failure
    if attempt is None:
        return _Admitted(push)
    try:
        # Argon2 takes tens of milliseconds: checked outside the transaction.
        right = vault.hashing.verify(passphrase, push.passphrase_hash or "")
    except BaseException:
        # Not checked (the server is busy): not a failure either.
        with transaction(vault.engine) as db:
            _Admitted(push, attempt.event_id).forget_attempt(db)
        raise
    if not right:
        if attempt.locks_push:
            with transaction(vault.engine) as db:
                audit.record(db, push.id, audit.PASSPHRASE_LOCK, audit.SYSTEM, now)
        raise WrongPassphrase(attempt.attempts_left, vault.settings.passphrase_lockout_minutes)
    return _Admitted(push, attempt.event_id)


@dataclass
class _Reservation:
    event_id: int
    # Left to this client after this attempt, if it is wrong.
    attempts_left: int
    # This attempt, if wrong, is the one that locks the push for everyone.
    locks_push: bool


def _reserve_passphrase_attempt(db: Session, vault: Vault, push: Push, client: Client, now: datetime) -> _Reservation:
    """Refuse when this client, or everyone together, had too many wrong passphrases for
    this push lately; otherwise write this attempt down as a failure (undone if right)."""
    if db.get_bind().dialect.name == "postgresql":
        db.exec(select(Push.id).where(Push.id == push.id).with_for_update())
    settings = vault.settings
    client_window = timedelta(minutes=settings.passphrase_lockout_minutes)
    push_window = timedelta(minutes=settings.passphrase_push_lockout_minutes)
    recent = db.execute(
        sa_select(AuditEvent.ip, AuditEvent.created_at).where(
            AuditEvent.push_id == push.id,
            AuditEvent.kind == audit.FAILED_PASSPHRASE,
            AuditEvent.created_at > now - max(client_window, push_window),
        )
    ).all()
    everyone = sorted(at for _ip, at in recent if at > now - push_window)
    if len(everyone) >= settings.passphrase_push_max_failures:
        raise PushLocked(_seconds_until(everyone[-settings.passphrase_push_max_failures] + push_window, now))
    network = client_network(client.ip, settings.ipv6_prefix)
    mine = sorted(
        at for ip, at in recent if at > now - client_window and client_network(ip, settings.ipv6_prefix) == network
    )
    if len(mine) >= settings.passphrase_max_failures:
        raise TooManyAttempts(_seconds_until(mine[-settings.passphrase_max_failures] + client_window, now))
    return _Reservation(
        event_id=audit.record(db, push.id, audit.FAILED_PASSPHRASE, client, now),
        attempts_left=settings.passphrase_max_failures - len(mine) - 1,
        locks_push=len(everyone) + 1 == settings.passphrase_push_max_failures,
    )


def _seconds_until(moment: datetime, now: datetime) -> int:
    return int((moment - now).total_seconds()) + 1


# --- expire -----------------------------------------------------------------------------------------

def _expire(db: Session, push: Push, reason: str, client: Client, now: datetime) -> bool:
    """Expire and delete the secret material, once; True if this call did it."""
    done = db.execute(_EXPIRE, {"push_ids": [push.id], "now": now, "reason": reason}).first()
    if done is None:
        return False
    values = dict(expired=True, expired_at=now, expired_reason=reason, updated_at=now, **_WIPED)
    for key, value in values.items():
        set_committed_value(push, key, value)
    if reason in ("owner", "viewer"):
        audit.record(db, push.id, audit.EXPIRE, client, now, actor=reason)
    else:
        audit.record(db, push.id, audit.EXPIRE_AUTO, client, now, actor=reason)
    return True


def expire_by_viewer(
    vault: Vault, token: str, client: Client, passphrase: str | None = None, receipt: str | None = None,
    now: datetime | None = None,
) -> Push:
    """A recipient deletes the push through its secret link, where the sender allowed it.

    Gated like a view: the push must be live and, when it has a passphrase, the caller
    must give it (counted like a reveal's attempts) or the `delete_receipt` of a reveal
    (the page that showed the secret).  Raises what `reveal_push` raises, and NotAllowed.
    """
    now = now or utcnow()
    vault.throttle.hit("reveal", client.ip)

    def deletable(push: Push) -> None:
        if not push.deletable_by_viewer:
            raise NotAllowed("The sender did not allow recipients to delete this secret.")

    admitted = _admit_viewer(vault, token, client, passphrase or "", now, deletable, receipt)
    with transaction(vault.engine) as db:
        admitted.forget_attempt(db)
        done = _expire(db, admitted.push, "viewer", client, now)
    _delete_file_blobs(vault, admitted.push, now)
    if not done:
        raise PushUnavailable()
    return admitted.push


def expire_by_owner(vault: Vault, push: Push, client: Client, now: datetime | None = None) -> Push:
    """The owner (checked by the caller: manage token or account) expires the push now."""
    now = now or utcnow()
    with transaction(vault.engine) as db:
        fresh = db.get(Push, push.id)
        if fresh is None:
            raise PushUnavailable()
        _expire(db, fresh, "owner", client, now)
    _delete_file_blobs(vault, fresh, now)
    return fresh


def expire_overdue(vault: Vault, push: Push, now: datetime | None = None) -> Push:
    """Bring a stored push up to date: expire it if its time ran out (owner views call this)."""
    now = now or utcnow()
    if push.expired or push.expires_at > now:
        return push
    with transaction(vault.engine) as db:
        fresh = db.get(Push, push.id)
        if fresh is not None:
            _expire(db, fresh, "time", audit.SYSTEM, now)
    if fresh is None:
        return push
    _delete_file_blobs(vault, fresh, now)
    return fresh


def _grant_file_downloads(db: Session, vault: Vault, push: Push, data_key: crypto.DataKey, now: datetime):
    """A view of a file push grants downloads; call it in the view's transaction, before
    the last view expires the push (the grant keeps the key for the last viewer's window)."""
    if push.kind != "file":
        return None
    from pwpush_app.core import files  # files builds on this module

    return files.grant_downloads(db, vault, push, data_key, now)


def _delete_file_blobs(vault: Vault, push: Push | None, now: datetime) -> None:
    """Expiry deletes a file push's blobs at once (after the last viewer's window, for views).

    Called after the expiring transaction commits: a rolled-back expiry keeps its files.
    """
    if push is not None and push.kind == "file":
        from pwpush_app.core import files  # files builds on this module

        files.delete_released_blobs(vault, now, push_id=push.id)


# --- an account's pushes -------------------------------------------------------------------------

def pushes_of_owner(
    vault: Vault, owner_id: str, expired: bool, page: int = 1, per_page: int = 50, now: datetime | None = None,
    name_contains: str = "",
) -> list[Push]:
    """An account's active or expired pushes, newest first, `per_page` at a time.

    Overdue pushes are expired (and their secrets deleted) first, so a list never shows
    a push as active after its time ran out, even between two runs of the purge job.
    `name_contains` keeps the pushes whose name holds that text (any case).
    """
    now = now or utcnow()
    with transaction(vault.engine) as db:
        overdue = db.exec(
            select(Push).where(Push.owner_id == owner_id, Push.expired == False, Push.expires_at <= now)  # noqa: E712
        ).all()
        for push in overdue:
            _expire(db, push, "time", audit.SYSTEM, now)
    for push in overdue:
        _delete_file_blobs(vault, push, now)
    with transaction(vault.engine, write=False) as db:
        query = (
            select(Push)
            .where(Push.owner_id == owner_id, Push.expired == expired, *_name_filter(name_contains))
            .order_by(Push.created_at.desc(), Push.id)
            .offset(max(page - 1, 0) * per_page)
            .limit(per_page)
        )
        return list(db.exec(query))


def _name_filter(name_contains: str) -> list:
    text = (name_contains or "").strip()[:255]
    if not text:
        return []
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return [func.lower(Push.name).like(f"%{escaped.lower()}%", escape="\\")]


def count_pushes_of_owner(vault: Vault, owner_id: str, expired: bool, name_contains: str = "") -> int:
    with transaction(vault.engine, write=False) as db:
        return db.exec(
            select(func.count()).select_from(Push)
            .where(Push.owner_id == owner_id, Push.expired == expired, *_name_filter(name_contains))
        ).one()


def owned_push(vault: Vault, owner_id: str, push_id: str) -> Push:
    """An account's own push by id; PushUnavailable for anyone else's (the same answer as
    for no push at all, so ids can't be probed)."""
    with transaction(vault.engine, write=False) as db:
        push = db.get(Push, push_id) if isinstance(push_id, str) and len(push_id) <= 32 else None
    if push is None or owner_id is None or push.owner_id != owner_id:
        raise PushUnavailable()
    return push


def audit_trail(vault: Vault, push: Push, page: int = 1) -> list[AuditEvent]:
    """The events of a push its owner is already looking at (a refresh, not a new look: not logged)."""
    with transaction(vault.engine, write=False) as db:
        return audit.events_for(db, push.id, page=page)


def claim_pushes(vault: Vault, user_id: str, manage_tokens: list[str], now: datetime | None = None) -> int:
    """Move pushes this browser created anonymously (it holds their manage tokens) into an
    account.  Only unowned pushes move: a manage token never takes a push from another
    account.  Returns how many moved."""
    now = now or utcnow()
    tokens = [t for t in manage_tokens if _looks_like_token(t)][:500]
    claimed = 0
    with transaction(vault.engine) as db:
        for token in tokens:
            push = _find_managed(db, vault, token)
            if push is None or push.owner_id is not None:
                continue
            claimed += db.execute(
                update(PUSHES).where(PUSHES.c.id == push.id, PUSHES.c.owner_id.is_(None))
                .values(owner_id=user_id, updated_at=now)
            ).rowcount
    return claimed


# --- the creator's manage link --------------------------------------------------------------------

@dataclass
class ManagedPush:
    push: Push
    note: str
    events: list[AuditEvent]


def find_managed(vault: Vault, manage_token: str) -> Push:
    with transaction(vault.engine, write=False) as db:
        push = _find_managed(db, vault, manage_token)
    if push is None:
        raise PushUnavailable()
    return push


def owner_view(vault: Vault, push: Push, client: Client, now: datetime | None = None, page: int = 1) -> ManagedPush:
    """The owner's look at a push: status, note and audit trail; logged as `owner_view`."""
    now = now or utcnow()
    push = expire_overdue(vault, push, now)
    with transaction(vault.engine) as db:
        audit.record(db, push.id, audit.OWNER_VIEW, client, now)
    with transaction(vault.engine, write=False) as db:
        events = audit.events_for(db, push.id, page=page)
    return ManagedPush(push=push, note=open_note(vault, push), events=events)


def open_note(vault: Vault, push: Push) -> str:
    if push.note_sealed is None or push.wrapped_key is None:
        return ""
    return vault.keyring.open_data_key(push.id, push.wrapped_key).open_text(push.id, "note", push.note_sealed)


def open_link_token(vault: Vault, push: Push) -> str | None:
    """The secret link's token for its owner, while the push is live."""
    if push.link_sealed is None or push.wrapped_key is None:
        return None
    return vault.keyring.open_data_key(push.id, push.wrapped_key).open_text(push.id, "link", push.link_sealed)


# --- the background job -----------------------------------------------------------------------------

PURGE_BATCH = 500


def purge_expired(vault: Vault, now: datetime | None = None) -> int:
    """Expire every overdue push and delete its secrets; safe to run in several workers at once.

    Returns how many pushes this call expired.  Also deletes expired records older than
    the retention setting, when one is set.
    """
    now = now or utcnow()
    expired = 0
    while True:
        with transaction(vault.engine) as db:
            ids = list(
                db.exec(
                    select(Push.id)
                    .where(Push.expired == False, Push.expires_at <= now)  # noqa: E712
                    .limit(PURGE_BATCH)
                )
            )
            if ids:
                # One statement per batch (the write lock is held for milliseconds, not for
                # a round trip per push); a push expired meanwhile is skipped, not logged twice.
                done = db.execute(_EXPIRE, {"push_ids": ids, "now": now, "reason": "time"}).scalars().all()
                audit.record_many(db, done, audit.EXPIRE_AUTO, audit.SYSTEM, now, actor="time")
                expired += len(done)
        if len(ids) < PURGE_BATCH:
            break
    from pwpush_app.core import files  # files builds on this module

    # Before the retention delete below: a push row's files must not outlive their blobs' record.
    files.delete_released_blobs(vault, now)
    retention = vault.settings.purge_records_after_days
    if retention:
        with transaction(vault.engine) as db:
            db.execute(delete(Push).where(Push.expired == True, Push.expired_at < now - timedelta(days=retention)))  # noqa: E712
    _checkpoint(vault)
    return expired


def _checkpoint(vault: Vault) -> None:
    """On SQLite, fold the WAL into the database so deleted ciphertext leaves the WAL file too."""
    if vault.engine.dialect.name == "sqlite":
        connection = vault.engine.raw_connection()
        try:
            connection.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            connection.close()
