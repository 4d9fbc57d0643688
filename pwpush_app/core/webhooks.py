"""Webhooks: an account's endpoints receive signed JSON events about its pushes.

- An endpoint is https to a public address (webhook_addresses.py: checked at registration
  when the host is an address or localhost, and at every call for what its name resolves
  to); plain http and this machine or private networks only where the operator allows them
  (PWPUSH_WEBHOOK_ALLOW_PRIVATE, for development); no user:password in it.  Up to MAX_WEBHOOKS per account.  Its URL
  (which may hold a token of the receiver's) and its signing secret are sealed at rest.
- Events: push.viewed, push.failed_passphrase, push.expired, push.deleted (and ping, the
  test).  The body names the push (id, name, kind, views, expiry) and who acted (IP, user
  agent), as the owner's audit trail does: never the secret, never its link.
- Each request carries `X-Pwpush-Timestamp` (Unix seconds) and `X-Pwpush-Signature:
  sha256=<hex>`, the HMAC-SHA256 of "<timestamp>." + the raw body under the endpoint's
  secret (shown to its owner once, when made).  `X-Pwpush-Delivery` is the same for every
  attempt of one event: receivers drop repeats with it.
- A call (webhook_calls.py) has PWPUSH_WEBHOOK_TIMEOUT_SECONDS in all and reads only the
  status; its log says one of a few fixed sentences, never a socket error's text.
- A 2xx answer delivers; anything else (an error, a redirect, a timeout) is tried again
  after PWPUSH_MAIL_RETRY_SECONDS, doubling up to 2 hours, PWPUSH_WEBHOOK_MAX_ATTEMPTS
  times.  Calls are leased like mails (outbox.py): several workers, one call each.
- The delivery log (`deliveries_of`) shows each event's state to the account.
- Test events: TEST_EVENTS_PER_MINUTE per account (each holds the sender for up to a timeout).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import delete, func, or_, update
from sqlmodel import Session, select

from pwpush_app.core import crypto
from pwpush_app.core.clock import iso_utc, utcnow
from pwpush_app.core.db import transaction
from pwpush_app.core.i18n import N_, said
from pwpush_app.core.models_mail import Webhook, WebhookDelivery
from pwpush_app.core.outbox import retry_wait, wake_after_commit
from pwpush_app.core.runtime import Runtime
from pwpush_app.core.sealing import open_field, reseal_field, seal_record
from pwpush_app.core.throttle import RateLimited
from pwpush_app.core.webhook_addresses import (
    NOT_PUBLIC,
    is_this_machine,
    obviously_not_public,
)

if TYPE_CHECKING:
    import ssl

# Why a call failed, as the account's delivery log says it (stored in English; the page finds
# the sentence again: core/i18n.sentences_in). An endpoint's own answer stays its own.
# TIMED_OUT and NO_CONNECTION are webhook_calls.py's, kept equal to it (that module imports
# httpcore, ~50 ms, which a worker pays only when it first has a call to make).
TIMED_OUT = N_("The endpoint did not answer in time.")
NO_CONNECTION = N_("Could not reach the endpoint: no connection, or no valid HTTP answer.")
REDIRECTED = N_("HTTP {status}: redirects are not followed; register the final address.")
KEY_GONE = N_("The endpoint's address and secret can't be opened: their master key is not configured.")
FAILURES = (TIMED_OUT, NO_CONNECTION, NOT_PUBLIC, REDIRECTED, KEY_GONE)

log = logging.getLogger("pwpush.webhooks")

# Set when this process queued a call: the sender goes at once instead of at its next poll.
calls_waiting = threading.Event()

MAX_WEBHOOKS = 5
MAX_URL_CHARS = 2048
KEEP_DELIVERIES = timedelta(days=30)
ROUND_LIMIT = 200
SECRET_PREFIX = "whsec_"
USER_AGENT = "pwpush-app-webhooks/1"
TEST_EVENTS_PER_MINUTE = 5


class WebhookError(ValueError):
    """A request about webhooks that cannot be done; the message is fit to show."""


def _subject(webhook_id: str) -> str:
    return f"webhook {webhook_id}"


def check_url(url: str, allow_private: bool = False) -> str:
    """The endpoint, if it may receive events; WebhookError saying what to change otherwise.

    `allow_private` (PWPUSH_WEBHOOK_ALLOW_PRIVATE) lets it be this machine or a private network."""
    url = (url or "").strip() if isinstance(url, str) else ""
    if not url:
        raise WebhookError(N_("Enter the address of your endpoint, like https://hooks.example.com/pwpush."))
    if len(url) > MAX_URL_CHARS or any(c.isspace() or ord(c) < 32 for c in url):
        raise WebhookError(said(N_("That address is not usable: at most {count} characters, no spaces."),
                                count=MAX_URL_CHARS))
    try:
        parts = urlsplit(url)
        host, _port = parts.hostname, parts.port
    except ValueError:
        raise WebhookError(N_("That is not a web address: use https://host/path.")) from None
    if parts.scheme not in ("https", "http") or not host:
        raise WebhookError(N_("Use an https:// address (plain http:// only to this machine, for development)."))
    if parts.username is not None or parts.password is not None:
        raise WebhookError(N_("Leave the user name and password out of the address: check the signature instead."))
    if not allow_private and obviously_not_public(host):
        raise WebhookError(NOT_PUBLIC)
    if parts.scheme == "http" and not is_this_machine(host):
        raise WebhookError(N_("Plain http:// is allowed only to this machine (localhost): use https://."))
    if parts.fragment:
        raise WebhookError(N_("Leave out the #fragment: it never reaches your endpoint."))
    return url


def display_name(url: str) -> str:
    """The endpoint as pages show it: scheme, host and port; the path (which may hold a token) hidden."""
    parts = urlsplit(url)
    shown = f"{parts.scheme}://{parts.netloc}"
    return shown + ("/…" if parts.path.strip("/") or parts.query else "/")


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Pwpush-Signature value: sha256=HMAC-SHA256(secret, "<timestamp>." + body)."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


# --- an account's endpoints ---------------------------------------------------------------------

@dataclass(frozen=True)
class Endpoint:
    id: str
    display: str
    created_at: datetime
    secret_created_at: datetime


def _require_enabled(runtime: Runtime) -> None:
    if not runtime.settings.mail.webhooks:
        raise WebhookError(N_("Webhooks are turned off on this site (PWPUSH_ENABLE_WEBHOOKS)."))


def webhooks_of(runtime: Runtime, user_id: str) -> list[Endpoint]:
    with transaction(runtime.engine, write=False) as db:
        rows = db.exec(select(Webhook).where(Webhook.user_id == user_id).order_by(Webhook.created_at, Webhook.id)).all()
    return [Endpoint(r.id, r.display, r.created_at, r.secret_created_at) for r in rows]


def add_webhook(runtime: Runtime, user_id: str, url: str, now: datetime | None = None) -> tuple[Endpoint, str]:
    """Register an endpoint; returns it and its signing secret (shown once, then only sealed)."""
    now = now or utcnow()
    _require_enabled(runtime)
    url = check_url(url, runtime.settings.mail.webhook_allow_private)
    secret = new_secret()
    webhook_id = crypto.new_id()
    wrapped, sealed = seal_record(runtime, _subject(webhook_id), {"url": url.encode(), "secret": secret.encode()})
    with transaction(runtime.engine) as db:
        count = db.exec(select(func.count()).select_from(Webhook).where(Webhook.user_id == user_id)).one()
        if count >= MAX_WEBHOOKS:
            raise WebhookError(said(N_("An account has at most {count} webhooks: remove one first."),
                                    count=MAX_WEBHOOKS))
        row = Webhook(id=webhook_id, user_id=user_id, display=display_name(url)[:300], wrapped_key=wrapped,
                      url_sealed=sealed["url"], secret_sealed=sealed["secret"], created_at=now, secret_created_at=now)
        db.add(row)
    return Endpoint(row.id, row.display, now, now), secret


def _own(db: Session, user_id: str, webhook_id: str) -> Webhook:
    row = db.get(Webhook, webhook_id) if isinstance(webhook_id, str) and len(webhook_id) <= 32 else None
    if row is None or row.user_id != user_id:
        raise WebhookError(N_("That webhook no longer exists."))
    return row


def replace_secret(runtime: Runtime, user_id: str, webhook_id: str, now: datetime | None = None) -> str:
    """A new signing secret for an endpoint (shown once); the old one signs nothing from now on."""
    now = now or utcnow()
    secret = new_secret()
    with transaction(runtime.engine) as db:
        row = _own(db, user_id, webhook_id)
        row.secret_sealed = reseal_field(runtime, _subject(row.id), row.wrapped_key, "secret", secret.encode())
        row.secret_created_at = now
        db.add(row)
    return secret


def remove_webhook(runtime: Runtime, user_id: str, webhook_id: str) -> None:
    """The endpoint and its delivery log go; nothing more is sent to it."""
    with transaction(runtime.engine) as db:
        db.execute(delete(Webhook).where(Webhook.id == _own(db, user_id, webhook_id).id))


def send_test_event(runtime: Runtime, user_id: str, webhook_id: str, now: datetime | None = None) -> None:
    """Queue a `ping` for the endpoint (signed like every event), to check the receiver."""
    now = now or utcnow()
    _require_enabled(runtime)
    try:
        runtime.throttle.hit_account("webhook test", user_id, TEST_EVENTS_PER_MINUTE)
    except RateLimited:
        raise WebhookError(said(N_("At most {count} test events a minute: wait a minute and try again."),
                                count=TEST_EVENTS_PER_MINUTE)) from None
    with transaction(runtime.engine) as db:
        queue_event(db, _own(db, user_id, webhook_id), "ping", {"message": "A test event from your account."}, now)


def queue_event(db: Session, webhook: Webhook, event: str, data: dict, now: datetime) -> None:
    """One call of `webhook` with `event`, in the caller's transaction (sent by `deliver_due`)."""
    delivery_id = crypto.new_id()
    body = json.dumps({"id": delivery_id, "event": event, "created_at": iso_utc(now), **data},
                      ensure_ascii=False, separators=(",", ":"))
    db.add(WebhookDelivery(id=delivery_id, webhook_id=webhook.id, event=event, body=body, next_attempt_at=now,
                           created_at=now, updated_at=now))
    wake_after_commit(db, calls_waiting)


# --- the delivery log ------------------------------------------------------------------------------

@dataclass(frozen=True)
class DeliveryView:
    id: str
    endpoint: str
    event: str
    status: str
    attempts: int
    response_status: int | None
    last_error: str
    next_attempt_at: datetime | None
    created_at: datetime


def deliveries_of(runtime: Runtime, user_id: str, limit: int = 20) -> list[DeliveryView]:
    """An account's latest webhook calls, newest first."""
    with transaction(runtime.engine, write=False) as db:
        rows = db.exec(
            select(WebhookDelivery, Webhook.display).join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(Webhook.user_id == user_id).order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id)
            .limit(limit)
        ).all()
    return [DeliveryView(d.id, display, d.event, d.status, d.attempts, d.response_status, d.last_error,
                         d.next_attempt_at if d.status == "pending" else None, d.created_at) for d, display in rows]


def forget_old_deliveries(runtime: Runtime, now: datetime | None = None) -> int:
    now = now or utcnow()
    with transaction(runtime.engine) as db:
        return db.execute(delete(WebhookDelivery).where(WebhookDelivery.status != "pending",
                                                        WebhookDelivery.updated_at < now - KEEP_DELIVERIES)).rowcount


# --- the sender ---------------------------------------------------------------------------------

def _lease_free(now: datetime):
    return or_(WebhookDelivery.lease_until == None, WebhookDelivery.lease_until <= now)  # noqa: E711


def _claim_next(runtime: Runtime, holder: str, now: datetime) -> tuple[WebhookDelivery, str | None, str | None] | None:
    """The next due call for `holder`, with its endpoint's URL and secret (opened)."""
    lease = timedelta(seconds=max(runtime.settings.mail.lease_seconds, 3 * runtime.settings.mail.webhook_timeout_seconds))
    with transaction(runtime.engine) as db:
        candidates = db.exec(
            select(WebhookDelivery.id).where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now,
                                             _lease_free(now))
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(5)
        ).all()
        for delivery_id in candidates:
            taken = db.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending", _lease_free(now))
                .values(lease_until=now + lease, lease_holder=holder).execution_options(synchronize_session=False)
            ).rowcount
            if taken:
                delivery = db.get(WebhookDelivery, delivery_id)
                hook = db.get(Webhook, delivery.webhook_id)
                subject = _subject(hook.id)
                try:
                    url = open_field(runtime, subject, hook.wrapped_key, "url", hook.url_sealed).decode()
                    secret = open_field(runtime, subject, hook.wrapped_key, "secret", hook.secret_sealed).decode()
                except crypto.DecryptionError:
                    return delivery, None, None
                return delivery, url, secret
    return None


def _call(runtime: Runtime, ssl_context: ssl.SSLContext, delivery: WebhookDelivery, url: str,
          secret: str) -> tuple[int | None, str]:
    """POST the event; (HTTP status or None, error or "" when delivered)."""
    from pwpush_app.core import webhook_calls

    body = delivery.body.encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json", "User-Agent": USER_AGENT,
        "X-Pwpush-Event": delivery.event, "X-Pwpush-Delivery": delivery.id,
        "X-Pwpush-Timestamp": str(timestamp), "X-Pwpush-Signature": sign(secret, timestamp, body),
    }
    settings = runtime.settings.mail
    answer = webhook_calls.post(ssl_context, url, body, headers, settings.webhook_timeout_seconds,
                                settings.webhook_allow_private)
    if answer.status is None:
        return None, answer.reason
    if 200 <= answer.status < 300:
        return answer.status, ""
    if 300 <= answer.status < 400:
        return answer.status, said(REDIRECTED, status=answer.status)
    return answer.status, f"HTTP {answer.status} {answer.reason}".strip()[:255]


def deliver_due(runtime: Runtime, holder: str, clock=utcnow) -> int:
    """Call every endpoint whose event is due; returns how many calls were made."""
    claimed = _claim_next(runtime, holder, clock())
    if claimed is None:
        return 0  # the usual round: no TLS context made (it loads the CA store, ~10 ms)
    import httpx  # here, not at every start: httpx imports its command line's rich and pygments (~0.1-0.2 s)

    ssl_context = httpx.create_ssl_context(trust_env=False)
    calls = 0
    while claimed is not None:
        delivery, url, secret = claimed
        if url is None:
            status, error = None, KEY_GONE
        else:
            status, error = _call(runtime, ssl_context, delivery, url, secret)
        calls += 1
        _record(runtime, delivery, status, error, clock())
        claimed = _claim_next(runtime, holder, clock()) if calls < ROUND_LIMIT else None
    return calls


def _record(runtime: Runtime, delivery: WebhookDelivery, status: int | None, error: str, now: datetime) -> None:
    attempts = delivery.attempts + 1
    values = dict(attempts=attempts, response_status=status, last_error=error[:255], lease_until=None,
                  lease_holder=None, updated_at=now)
    if not error:
        values["status"] = "delivered"
    elif attempts >= runtime.settings.mail.webhook_max_attempts:
        values["status"] = "failed"
        log.warning("webhook call %s (%s) given up after %d attempts: %s", delivery.id[:8], delivery.event, attempts, error)
    else:
        values["next_attempt_at"] = now + retry_wait(runtime, attempts)
        log.info("webhook call %s (%s) failed (attempt %d), tried again later: %s", delivery.id[:8], delivery.event,
                 attempts, error)
    with transaction(runtime.engine) as db:
        db.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery.id).values(**values))
