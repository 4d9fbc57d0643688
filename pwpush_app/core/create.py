"""Creating a push: the sender's request checked against the kind's policy, sealed, stored.

- Every limit is a setting per kind (`KindPolicy`); a request outside it is refused with
  a message per field (`InvalidPush`), never silently replaced.
- Everything secret is sealed under the push's own data key before it is stored: the
  payload, the note, and the link itself (so its owner can copy it again).
- The link and manage tokens are 128 random bits each; only keyed hashes are stored.
- Anonymous senders only where the instance allows them (`may_create_pushes`).
File pushes bring their files through `core.file_uploads`, which builds on this.
"""

from __future__ import annotations

import unicodedata
import urllib.parse
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

from sqlalchemy import insert

from pwpush_app.core import audit, crypto, e2e, link_mail, recipient_code
from pwpush_app.core.audit import Client
from pwpush_app.core.clock import utcnow
from pwpush_app.core.db import transaction
from pwpush_app.core.db_fast import fast_transaction
from pwpush_app.core.errors import AccountRequired, InvalidPush
from pwpush_app.core.file_names import describe_bytes
from pwpush_app.core.i18n import N_, said, span_words, text_of
from pwpush_app.core.models import Push
from pwpush_app.core.push_policies import check_policies
from pwpush_app.core.qr import MAX_QR_BYTES, qr_fits
from pwpush_app.core.records import PUSHES
from pwpush_app.core.runtime import Runtime
from pwpush_app.core.sealed_fields import LINK, NOTE, PAYLOAD
from pwpush_app.settings import KINDS

_INSERT_PUSH = insert(PUSHES)

MAX_NAME_CHARS = 255
MAX_NOTE_CHARS = 10_000
MAX_PASSPHRASE_CHARS = 256
MAX_URL_CHARS = 8_192


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
    # Mail the link to these addresses (logged-in senders; core/link_mail.py), in this language.
    notify_emails_to: str | list[str] = ""
    notify_emails_to_locale: str = ""
    # The sender's policies (core/push_policies.py): addresses or CIDR networks the link
    # opens from (text or a list; None: everywhere), and wrong passphrases before it burns.
    allowed_ips: str | list[str] | None = None
    burn_after_failed_passphrases: int | None = None
    # One secret for several recipients (core/recipients.py): labels or email addresses,
    # as a list or a text separated by commas or new lines; a push for each.
    recipients: str | list[str] | None = None
    # Verify the recipient before the reveal (core/recipient_code.py): the address a code is
    # mailed to; for a group, `verify_recipients` verifies each recipient's own address.
    verify_email: str | None = None
    verify_recipients: bool | None = None
    # End-to-end (core/e2e.py): the payload is an envelope encrypted by the sender's browser
    # or client; the server checks its shape and never holds the key.
    end_to_end: bool = False


@dataclass
class CreatedPush:
    push: Push
    url_token: str
    manage_token: str


def validate_new_push(runtime: Runtime, request: NewPush, client: Client | None = None, group: bool = False) -> dict:
    """Check a request against the kind's policy; return the resolved values or raise.
    With the `client`, also who may have the link mailed to whom.  `group`: the request
    of core/recipients.py, which checks its recipients itself."""
    settings = runtime.settings
    errors: dict[str, str] = {}
    kind = request.kind
    if kind not in KINDS:
        raise InvalidPush({"kind": said(N_("Unknown kind {kind}: use one of {kinds}."), kind=repr(kind)[:40],
                                         kinds=", ".join(KINDS))})
    policy = settings.policy(kind)
    if not policy.enabled:
        raise InvalidPush({"kind": said(N_("{kind} pushes are turned off on this server."), kind=kind)})

    payload = request.payload
    if not isinstance(payload, str):
        errors["payload"] = N_("The payload must be text.")
    elif request.end_to_end is not False:
        check_end_to_end(kind, payload, request.end_to_end, settings, errors)
    else:
        check_payload(kind, payload, settings, errors)
    for name in TEXT_LIMITS:
        check_text(name, getattr(request, name), errors)

    views = policy.views_default if request.expire_after_views is None else request.expire_after_views
    if not _is_int(views) or not policy.views_min <= views <= policy.views_max:
        errors["expire_after_views"] = said(N_("Views must be a whole number from {min} to {max}."),
                                            min=policy.views_min, max=policy.views_max)
    minutes = policy.minutes_default if request.expire_after_minutes is None else request.expire_after_minutes
    if not _is_int(minutes) or not policy.minutes_min <= minutes <= policy.minutes_max:
        errors["expire_after"] = said(N_("The lifetime must be from {shortest_span} to {longest_span}."),
                                      shortest_span=policy.minutes_min, longest_span=policy.minutes_max)
    retrieval_step = policy.retrieval_step_default if request.retrieval_step is None else request.retrieval_step
    deletable = policy.deletable_by_viewer_default if request.deletable_by_viewer is None else request.deletable_by_viewer
    for name, value in (("retrieval_step", retrieval_step), ("deletable_by_viewer", deletable)):
        if not isinstance(value, bool):
            errors[name] = said(N_("{field} must be true or false."), field=name)
    if settings.require_passphrase and not normalize_passphrase(request.passphrase) and not _envelope_has_passphrase(request):
        errors["passphrase"] = PASSPHRASE_REQUIRED
    if request.recipients not in (None, "", []) and not group:
        errors["recipients"] = N_("Recipients can't be named for a file push: push text, a URL or a QR code to "
                                  "several recipients, or send the files to each one.")
    verify_email = recipient_code.check_verify_email(runtime, client or Client(), request.verify_email, errors)
    if group and request.verify_email not in (None, ""):
        errors[recipient_code.FIELD] = N_("Name the recipients' addresses among the recipients, and ask to verify "
                                          "each one (verify_recipients), instead.")
    elif not group and request.verify_recipients not in (None, False):
        errors[recipient_code.GROUP_FIELD] = N_("Verifying each recipient needs several recipients: name one email in "
                                                 "verify_email.")
    verifies = bool(verify_email) or bool(group and request.verify_recipients is True)
    policies = check_policies(request.allowed_ips, request.burn_after_failed_passphrases,
                              (bool(normalize_passphrase(request.passphrase)) if isinstance(request.passphrase, str)
                               else False) or verifies, errors)
    if client is not None:
        try:
            link_mail.check_recipients(runtime, client, request.notify_emails_to, request.notify_emails_to_locale)
        except InvalidPush as refusal:
            errors.update(refusal.errors)
    if errors:
        raise InvalidPush(errors)
    return {
        "views": views,
        "minutes": minutes,
        # PWP__<KIND>__ENABLE_RETRIEVAL_STEP / ENABLE_DELETABLE_PUSHES off: the switch is not
        # offered and never on, whatever a request asks (as in Password Pusher).
        "retrieval_step": retrieval_step and policy.retrieval_step_allowed,
        # A URL push redirects after the reveal: there is no page to delete it from.
        "deletable_by_viewer": deletable and policy.deletable_by_viewer_allowed,
        "verify_email": verify_email,
        **policies,
    }


# PWPUSH_REQUIRE_PASSPHRASE: what a sender without one reads (the page and the API alike).
PASSPHRASE_REQUIRED = N_("This site requires a passphrase on every push: set one, and tell it to the recipient "
                         "another way (a call, a chat).")


# The sender's other texts and their longest length, in characters.
TEXT_LIMITS = {"name": MAX_NAME_CHARS, "note": MAX_NOTE_CHARS, "passphrase": MAX_PASSPHRASE_CHARS}
# Texts that are one line: a name is shown in one-line lists and in a mail's Subject, where a
# line break ends the header (a name with one once stopped all of the site's mail:
# docs/security.md). The note keeps its lines; the passphrase is only ever hashed.
ONE_LINE_TEXTS = {"name"}
# U+2028/U+2029 are not category Cc but break lines all the same.
_LINE_SEPARATORS = {"\u2028", "\u2029"}


def check_text(name: str, value, errors: dict[str, str]) -> None:
    """A name, note or passphrase (TEXT_LIMITS): text, not too long, storable, one line if ONE_LINE_TEXTS."""
    limit = TEXT_LIMITS[name]
    if not isinstance(value, str):
        errors[name] = said(N_("The {field} must be text."), field=name)
    elif len(value) > limit:
        errors[name] = said(N_("The {field} is too long: at most {count} characters."), field=name, count=limit)
    elif not _is_encodable(value):
        errors[name] = said(N_("The {field} is not valid UTF-8 text."), field=name)
    elif name in ONE_LINE_TEXTS and not is_one_line(value):
        errors[name] = said(N_("The {field} must be one line: remove line breaks, tabs and other control characters."),
                            field=name)


def is_one_line(text: str) -> bool:
    """No control character (CR, LF, TAB, NUL, DEL: Unicode category Cc) and no line separator."""
    return not any(unicodedata.category(c) == "Cc" or c in _LINE_SEPARATORS for c in text)


def check_payload(kind: str, payload: str, settings, errors: dict[str, str]) -> None:
    """What a push of `kind` may hold (creating, and replacing it later)."""
    if not _is_encodable(payload):
        errors["payload"] = N_("The payload is not valid UTF-8 text.")
        return
    if kind == "file":
        if len(payload.encode()) > settings.max_payload_bytes:
            errors["payload"] = said(N_("The text is too long: at most {count} bytes."),
                                     count=settings.max_payload_bytes)
        return
    if not payload.strip():
        errors["payload"] = N_("Enter the secret to share.")
    elif kind == "text" and len(payload.encode()) > settings.max_payload_bytes:
        errors["payload"] = said(N_("The secret is too long: at most {size} ({limit_count} bytes of UTF-8). Shorten "
                                    "it, or send it as a file."), size=describe_bytes(settings.max_payload_bytes),
                                 limit_count=settings.max_payload_bytes)
    elif kind == "qr" and len(payload) > settings.max_qr_chars:
        errors["payload"] = said(N_("QR code content is too long: at most {limit_count} characters."),
                                 limit_count=settings.max_qr_chars)
    elif kind == "qr" and not qr_fits(payload):
        errors["payload"] = said(N_("QR code content is too long to draw: at most {limit_count} bytes (some characters "
                                    "take 2 to 4)."), limit_count=MAX_QR_BYTES)
    elif kind == "url" and not is_safe_url(payload):
        errors["payload"] = N_("Enter a full web address starting with http:// or https://.")


END_TO_END_OFF = N_("End-to-end encryption is turned off on this server: send the secret as it is, or ask whoever "
                    "runs it.")
END_TO_END_TEXT_ONLY = N_("End-to-end encryption is for text and file pushes: choose one of those kinds.")


def check_end_to_end(kind: str, payload: str, flag, settings, errors: dict[str, str]) -> None:
    """An end-to-end push: allowed here, a text or file push, its payload a well-formed
    envelope no longer than the payload limit (the envelope is what is stored); a file
    push's message may be left out, its files are checked as they arrive (core/e2e_files.py)."""
    if flag is not True:
        errors["end_to_end"] = N_("end_to_end must be true or false.")
    elif not settings.end_to_end:
        errors["end_to_end"] = END_TO_END_OFF
    elif kind not in ("text", "file"):
        errors["end_to_end"] = END_TO_END_TEXT_ONLY
    elif kind == "file" and payload == "":
        return
    elif not payload.strip():
        errors["payload"] = N_("Enter the secret to share.")
    elif len(payload.encode("utf-8", errors="replace")) > settings.max_payload_bytes:
        errors["payload"] = said(N_("The encrypted secret is too long: at most {size} once encrypted (about three "
                                    "quarters of that before). Shorten it, or send it as a file."),
                                 size=describe_bytes(settings.max_payload_bytes))
    else:
        try:
            e2e.check_envelope(payload)
        except e2e.BadEnvelope as bad:
            errors["payload"] = text_of(bad)


def _envelope_has_passphrase(request: NewPush) -> bool:
    """PWPUSH_REQUIRE_PASSPHRASE: an end-to-end push's passphrase is in its envelope."""
    if request.end_to_end is True and request.kind == "file" and request.payload == "":
        return True  # the files' heads say, checked as they arrive (core/file_uploads.py)
    try:
        return request.end_to_end is True and e2e.check_envelope(request.payload).has_passphrase
    except e2e.BadEnvelope:
        return False


def normalize_passphrase(text: str | None) -> str:
    """A passphrase as it is kept and checked: without the spaces and line breaks around it,
    which a paste from a chat or an email brings along (the page and the API alike)."""
    return text.strip() if isinstance(text, str) else ""


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
    """"7 days", "3 hours", "90 minutes" (in English; said(…{x_span}…) words it in any language)."""
    return span_words(minutes)


def may_create_pushes(runtime: Runtime, user_id: str | None) -> bool:
    """Anonymous pushes only where the instance allows them (PWP__ALLOW_ANONYMOUS)."""
    return user_id is not None or runtime.settings.allow_anonymous


def require_sender_allowed(runtime: Runtime, client: Client) -> None:
    if not may_create_pushes(runtime, client.user_id):
        raise AccountRequired()


def create_push(runtime: Runtime, request: NewPush, client: Client, now: datetime | None = None) -> CreatedPush:
    """Seal and store a new push; return it with its secret link token and manage token.

    File pushes come through `core.file_uploads.create_file_push`, which brings the files.
    """
    now = now or utcnow()
    runtime.throttle.hit("create", client.ip)
    require_sender_allowed(runtime, client)
    if request.kind == "file":
        raise InvalidPush({"files": N_("Attach at least one file.")})
    return store_new_push(runtime, request, client, new_push_key(runtime), now)


@dataclass
class PushKey:
    """A new push's id and data key, made before the push is stored (file blobs need both)."""

    push_id: str
    data_key: crypto.DataKey
    wrapped: bytes


def new_push_key(runtime: Runtime) -> PushKey:
    push_id = crypto.new_id()
    data_key, wrapped = runtime.keyring.new_data_key(push_id)
    return PushKey(push_id, data_key, wrapped)


def store_new_push(
    runtime: Runtime, request: NewPush, client: Client, key: PushKey, now: datetime, rows: Iterable = ()
) -> CreatedPush:
    """Validate, seal and store a push under `key`, with `rows` (e.g. its files) in the
    same transaction.  No rate limit here: the caller counted the attempt."""
    created = seal_new_push(runtime, request, client, key, now)
    push_row = {column.name: getattr(created.push, column.key) for column in PUSHES.c}
    rows = list(rows)
    recipients = link_mail.check_recipients(runtime, client, request.notify_emails_to, request.notify_emails_to_locale)
    # Rows of other tables (files, mails) go through the ORM; a push alone needs none of it.
    needs_orm = bool(rows) or recipients is not None
    with (transaction(runtime.engine) if needs_orm else fast_transaction(runtime.engine)) as db:
        db.execute(_INSERT_PUSH, push_row)
        for row in rows:
            db.add(row)
        audit.record(db, key.push_id, audit.CREATION, client, now)
        if recipients is not None:
            link_mail.queue_link_mails(db, runtime, created.push, created.url_token, recipients, client, now)
    return created


def seal_new_push(runtime: Runtime, request: NewPush, client: Client, key: PushKey, now: datetime) -> CreatedPush:
    """Validate and seal a push under `key`, with its tokens, without storing it: the row
    exactly as `store_new_push` writes it (benchmarks insert such rows in bulk)."""
    resolved = validate_new_push(runtime, request, client)
    passphrase = normalize_passphrase(request.passphrase)
    passphrase_hash = runtime.hashing.hash(passphrase) if passphrase else None
    return seal_validated(runtime, request, client, key, now, resolved, passphrase_hash)


def seal_validated(runtime: Runtime, request: NewPush, client: Client, key: PushKey, now: datetime, resolved: dict,
                   passphrase_hash: str | None, group_id: str | None = None, recipient: str | None = None,
                   verify_email: str | None = None) -> CreatedPush:
    """Seal a push of a request already validated (`resolved`), its passphrase hashed;
    `verify_email`: a group's recipient to verify (one push's is in `resolved`)."""
    keyring = runtime.keyring
    push_id, data_key = key.push_id, key.data_key
    url_token, manage_token = crypto.new_token(), crypto.new_token()
    verify_email = verify_email or resolved.get("verify_email")
    push = Push.from_columns(dict(
        id=push_id,
        kind=request.kind,
        token_digest=keyring.token_digest(url_token),
        token_key_id=keyring.current_key_id,
        manage_digest=keyring.token_digest(manage_token),
        owner_id=client.user_id,
        name=request.name.strip(),
        wrapped_key=key.wrapped,
        payload_sealed=data_key.seal_text(push_id, PAYLOAD, request.payload),
        note_sealed=data_key.seal_text(push_id, NOTE, request.note) if request.note else None,
        # For its owner to copy the link again: an account's, or a browser's whose pushes
        # move into an account later (claim_pushes).
        link_sealed=data_key.seal_text(push_id, LINK, url_token),
        passphrase_hash=passphrase_hash,
        has_passphrase=passphrase_hash is not None,
        expire_after_views=resolved["views"],
        views_remaining=resolved["views"],
        expire_after_minutes=resolved["minutes"],
        expires_at=now + timedelta(minutes=resolved["minutes"]),
        retrieval_step=resolved["retrieval_step"],
        deletable_by_viewer=resolved["deletable_by_viewer"],
        allowed_ips=resolved["allowed_ips"],
        burn_after_failed_passphrases=resolved["burn_after_failed_passphrases"],
        first_viewed_at=None,
        last_viewed_at=None,
        previous_viewed_at=None,
        group_id=group_id,
        recipient=recipient,
        verify_email_sealed=recipient_code.seal_email(data_key, push_id, verify_email) if verify_email else None,
        verify_code_digest=None,
        verify_code_expires_at=None,
        verify_code_sent_at=None,
        created_at=now,
        updated_at=now,
        expired=False,
        expired_at=None,
        expired_reason=None,
        end_to_end=request.end_to_end is True,
    ))
    return CreatedPush(push=push, url_token=url_token, manage_token=manage_token)
