"""What the API answers: Password Pusher's push JSON, files, audit rows, as pydantic models.

The routes declare these as their response models and return them: one declaration of
each shape, for the answers and for /api/openapi.json alike.  Fields a caller may not see
(`name`, `note` for anyone but the owner) are left unset, and unset fields are left out.
"""

from __future__ import annotations

import math
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from pwpush_app.api.bodies import DURATION_MINUTES
from pwpush_app.core import links
from pwpush_app.core.clock import iso_utc, utcnow
from pwpush_app.core.create import describe_minutes
from pwpush_app.core.file_downloads import FileDownloads
from pwpush_app.core.link_mail import API_STATUS
from pwpush_app.core.models import AuditEvent, Push
from pwpush_app.core.models_mail import PushRecipient
from pwpush_app.core.push_policies import BURN_MAX, BURN_MIN, MAX_ALLOWED_IPS, allowed_ips_list
from pwpush_app.core.reveal import Revealed

DAY_MINUTES = 24 * 60
PER_PAGE = 50


# What `passphrase` says while a push has one: Password Pusher echoes the passphrase itself,
# we keep only its Argon2id hash (docs/compatibility.md).
PASSPHRASE_SET = "********"


def api_time(moment: datetime | None) -> str | None:
    """Timestamps as Password Pusher writes them: UTC, milliseconds, a Z."""
    return iso_utc(moment, "milliseconds")


def push_out(
    push: Push,
    base_url: str,
    url_token: str | None,
    model: type[PushOut] | None = None,
    *,
    owner: bool = False,
    note: str = "",
    now: datetime | None = None,
    viewed: bool = False,
    **extra,
) -> PushOut:
    """Password Pusher's push fields.

    `owner`: the answers that list `name` and `note` there (a create, the owner's lists).
    `viewed`: the answer to a view that got the secret.  Password Pusher expires a push
    after answering its last view, so that answer still says `expired: false`; we expire
    it in the same transaction, and answer as it does (the push was live when it was seen).
    """
    now = now or utcnow()
    expired = push.expired and not viewed
    link = links.secret_link(base_url, url_token) if url_token else None
    fields = dict(
        url_token=url_token,
        html_url=link,
        json_url=links.secret_json_link(base_url, url_token) if url_token else None,
        expired=expired,
        deleted=push.deleted,
        expired_on=api_time(push.expired_at) if expired else None,
        created_at=api_time(push.created_at),
        updated_at=api_time(push.updated_at),
        # Whole days, as Password Pusher counts them; a sub-day lifetime counts as 1.
        expire_after_days=math.ceil(push.expire_after_minutes / DAY_MINUTES),
        days_remaining=push.days_remaining(now),
        expire_after_views=push.expire_after_views,
        views_remaining=push.views_unused,
        # URL pushes redirect once revealed: never deletable by viewers (null, as there).
        deletable_by_viewer=None if push.kind == "url" else push.deletable_by_viewer,
        retrieval_step=push.retrieval_step,
        # Expiry deletes the passphrase (null, as there); "" when none was set.
        passphrase=None if expired else (PASSPHRASE_SET if push.has_passphrase else ""),
        kind=push.kind,
        # Ours, additive: the exact lifetime and deadline.
        expire_after_minutes=push.expire_after_minutes,
        expires_at=api_time(push.expires_at),
    )
    if push.end_to_end:
        fields.update(end_to_end=True)
    if owner:
        fields.update(name=push.name, note=note)
        # Ours, only where they say something: an answer about a push without them is Password Pusher's.
        if push.allowed_ips:
            fields.update(allowed_ips=allowed_ips_list(push))
        if push.burn_after_failed_passphrases:
            fields.update(burn_after_failed_passphrases=push.burn_after_failed_passphrases)
        if push.group_id:
            fields.update(group_id=push.group_id, recipient=push.recipient)
        if push.verifies_recipient:
            fields.update(verify_recipient=True)
    return (model or PushOut)(**fields, **extra)


def opened_before_out(revealed: Revealed) -> dict:
    """The `opened_before` of a view's answer (pushes of several views), else nothing."""
    seen = revealed.opened_before
    if seen is None:
        return {}
    return {"opened_before": OpenedBeforeOut(count=seen.count, first_at=api_time(seen.first_at),
                                             last_at=api_time(seen.last_at))}


def files_out(downloads: FileDownloads | None, base_url: str) -> list[FileOut]:
    """Password Pusher's `files` of a revealed file push: each file's download link.
    (`size` and `expires_at`, when the links stop working, are ours.)"""
    if downloads is None:
        return []
    return [
        FileOut(
            filename=entry.name,
            content_type=entry.content_type,
            url=links.download_link(base_url, downloads.grant, entry.index),
            size=entry.size,
            expires_at=api_time(downloads.until),
        )
        for entry in downloads.files
    ]


def audit_v2(events: list[AuditEvent], mailed: dict[int, PushRecipient] | None = None) -> AuditV2Out:
    """`mailed`: the link mail behind each `creation_email_send` event (Password Pusher's `notify_by_email`)."""
    mailed = mailed or {}
    logs = []
    for event in events:
        log = AuditLogV2(**_audit_fields(event))
        recipient = mailed.get(event.id)
        if recipient is not None:
            log.notify_by_email = NotifyByEmailOut(
                recipients=recipient.email, locale=recipient.locale, status=API_STATUS[recipient.status],
                error_message=recipient.error or None,
                successful_sends=recipient.email if recipient.status == "sent" else None,
                proceed_at=api_time(recipient.updated_at) if recipient.status != "queued" else None)
        logs.append(log)
    return AuditV2Out(logs=logs)


def audit_v1(events: list[AuditEvent]) -> AuditV1Out:
    """The legacy trail: every event, as v2 lists them (Password Pusher 2.x's v1 shape)."""
    return AuditV1Out(views=[AuditLogV1(**_audit_fields(event)) for event in events])


def _audit_fields(event: AuditEvent) -> dict:
    # Events are never changed once written: updated_at is created_at.
    return dict(ip=event.ip, user_agent=event.user_agent, referrer=event.referrer, kind=event.kind,
                created_at=api_time(event.created_at), updated_at=api_time(event.created_at))


# --- OpenAPI descriptions ---------------------------------------------------------------------

_DURATIONS = ", ".join(f"{index} = {describe_minutes(minutes)}" for index, minutes in DURATION_MINUTES.items())


class PushFields(BaseModel):
    """The fields of a new push (`push[...]`, `password[...]`, `url[...]`, `file_push[...]`)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"payload": "correct horse battery staple", "expire_after_views": 2, "expire_after_duration": 8},
        {"payload": "https://example.com/reset?code=123", "kind": "url", "expire_after_minutes": 30},
    ]})

    payload: str = Field(description="The secret: text (up to 1 MiB), an http(s) URL for kind url, up to 1,024 characters for kind qr.")
    kind: str | None = Field(None, description="text (default), url, qr or file.", examples=["text"])
    name: str | None = Field(None, description="A label only the owner sees.", max_length=255)
    note: str | None = Field(None, description="A note only the owner sees (encrypted).")
    passphrase: str | None = Field(None, description="The recipient must send it (`?passphrase=`) to see the secret.")
    expire_after_views: int | None = Field(None, description="Views before the push expires (default 5, 1..100).", examples=[5])
    expire_after_duration: int | None = Field(None, description=f"Lifetime as an index: {_DURATIONS}.", examples=[12])
    expire_after_days: int | None = Field(None, description="Lifetime in whole days (1..90).", examples=[7])
    expire_after_minutes: int | None = Field(None, description="Lifetime in minutes (5..129600); our extension.", examples=[60])
    deletable_by_viewer: bool | None = Field(None, description="The recipient may expire the push (never for url).")
    retrieval_step: bool | None = Field(None, description="Recipients click through a page before the secret shows.")
    notify_emails_to: str | None = Field(None, description="Mail the link to up to 5 addresses, separated by commas "
                                         "(logged-in senders, where the site sends mail).")
    notify_emails_to_locale: str | None = Field(None, description="Language of those mails, e.g. en.")
    allowed_ips: str | list[str] | None = Field(
        None, description=f"Only these addresses may open the link: up to {MAX_ALLOWED_IPS} IPv4/IPv6 addresses or "
        "CIDR networks, as a list or one text separated by spaces or commas (ours). From anywhere else the link "
        "answers as an unknown one.", examples=[["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"]])
    burn_after_failed_passphrases: int | None = Field(
        None, description=f"With a passphrase: the push is deleted by this many wrong passphrases in all, from any "
        f"address ({BURN_MIN}..{BURN_MAX}; ours).", examples=[3])
    recipients: str | list[str] | None = Field(
        None, description="One secret for several recipients (ours): 2 to 20 labels or email addresses; each gets a "
        "push of their own (own link, views, expiry, audit trail), and email addresses get their link mailed. The "
        "answer is then `{\"group_id\", \"pushes\": [...]}`.", examples=[["Alice", "bob@example.com"]])
    verify_email: str | None = Field(
        None, description="Verify the recipient (ours; logged-in senders, where the site sends mail): retrieving needs "
        "the 6-digit code mailed to this address (POST .../verification_code).", examples=["bob@example.com"])
    verify_recipients: bool | None = Field(
        None, description="With `recipients`, all email addresses (ours): each push needs the code mailed to its own "
        "recipient.")
    end_to_end: bool | None = Field(
        None, description="End-to-end (ours; kind text or file, where PWPUSH_END_TO_END is on): `payload` is the envelope "
        "the client encrypted, and a file push's files are in the end-to-end file format (docs/api.md); the key stays "
        "in the link's fragment, which the client adds to html_url.")


class PushOut(BaseModel):
    """A push as the API shows it."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "url_token": "q8Jc2nE1xZ0bY7tW5vK3aA", "html_url": "https://secrets.example.com/p/q8Jc2nE1xZ0bY7tW5vK3aA",
        "json_url": "https://secrets.example.com/p/q8Jc2nE1xZ0bY7tW5vK3aA.json", "expired": False, "deleted": False,
        "expired_on": None, "created_at": "2026-11-25T11:00:00.000Z", "updated_at": "2026-11-25T11:00:00.000Z",
        "expire_after_days": 3, "days_remaining": 3, "expire_after_views": 2, "views_remaining": 2,
        "deletable_by_viewer": True, "retrieval_step": True, "passphrase": "", "kind": "text",
        "expire_after_minutes": 4320, "expires_at": "2026-11-28T11:00:00.000Z",
    }]})

    url_token: str | None
    html_url: str | None
    json_url: str | None
    expired: bool
    deleted: bool
    expired_on: str | None
    created_at: str
    updated_at: str
    expire_after_days: int
    days_remaining: int
    expire_after_views: int
    views_remaining: int
    deletable_by_viewer: bool | None = Field(description="null for url pushes (never deletable by viewers).")
    retrieval_step: bool
    passphrase: str | None = Field(description=f'"" without a passphrase, "{PASSPHRASE_SET}" with one (never the '
                                   "passphrase itself), null once expired.")
    kind: str
    expire_after_minutes: int
    expires_at: str
    end_to_end: bool | None = Field(None, description="Ours, true for an end-to-end push: its payload is the envelope, "
                                    "and its files the encrypted files, only the link's fragment opens (docs/api.md).")
    name: str | None = Field(None, description="Owner only.")
    note: str | None = Field(None, description="Owner only.")
    allowed_ips: list[str] | None = Field(None, description="Owner only (ours), when set: the addresses and networks "
                                          "the link opens from.")
    burn_after_failed_passphrases: int | None = Field(None, description="Owner only (ours), when set: wrong "
                                                      "passphrases that delete the push.")
    group_id: str | None = Field(None, description="Owner only (ours), for a push made with `recipients`: the "
                                 "same in each push of the group.")
    recipient: str | None = Field(None, description="Owner only (ours), with `group_id`: who this push is for.")
    verify_recipient: bool | None = Field(None, description="Owner only (ours), when set: a retrieve needs the code "
                                          "mailed to the recipient (`verify_email`; the address itself is never shown).")


class CreatedPushOut(PushOut):
    notify_emails_to: str | None = Field(None, description="The addresses the link is mailed to, when asked.")
    notify_emails_to_locale: str | None = None

    manage_url: str = Field(description="Private link for the creator: audit trail and expire now (ours).")


class CreatedGroupOut(BaseModel):
    """The answer to a create with `recipients` (ours): a push for each recipient."""

    group_id: str = Field(description="The same in each push of the group (the owner's lists show it).")
    pushes: list[CreatedPushOut] = Field(description="One per recipient, in the order named; each has its own "
                                         "`recipient`, link, views, expiry, audit trail and `manage_url`.")


class FileOut(BaseModel):
    filename: str = Field(examples=["report.pdf"])
    content_type: str = Field(examples=["application/pdf"])
    url: str = Field(description="The download link (GET, no token needed). After the last view each file "
                     "downloads once; otherwise as often as needed until `expires_at`.",
                     examples=["https://secrets.example.com/d/Gk2wX0aQ9pVv3sT7yN1cLm/0"])
    size: int = Field(description="Bytes (ours).")
    expires_at: str = Field(description="The link works until then (ours).")


class OpenedBeforeOut(BaseModel):
    """How often and when the push was viewed before this view (ours)."""

    count: int = Field(description="Views before this one (the owner's own looks are no views).")
    first_at: str | None = Field(description="The first of them; null for none (or views before this was kept).")
    last_at: str | None = Field(description="The newest of them; null for none.")


class ShownPushOut(PushOut):
    payload: str | None = Field(description="The secret; null once expired.")
    files: list[FileOut] = []
    opened_before: OpenedBeforeOut | None = Field(
        None, description="Pushes of more than one view (ours): how often and when it was opened before this view, "
        "so an intercepted link shows.")


class PreviewOut(BaseModel):
    url: str = Field(examples=["https://secrets.example.com/p/q8Jc2nE1xZ0bY7tW5vK3aA"])


class NotifyByEmailOut(BaseModel):
    """The mail of the link to one recipient (`creation_email_send` events)."""

    recipients: str = Field(examples=["bob@example.com"])
    locale: str
    status: str = Field(description="pending, completed, or failed (see error_message: the server refused it, "
                        "or the push expired before it could go).")
    error_message: str | None = None
    successful_sends: str | None = Field(None, description="The address, once its mail went.")
    proceed_at: str | None = Field(None, description="When it was sent or given up.")


class VerificationCodeOut(BaseModel):
    """A code mailed to the recipient of a push that verifies them (ours)."""

    message: str
    sent_to: str = Field(description="The recipient's address, masked: b•••@example.com.")
    expires_in: int = Field(description="Seconds the code works for.")


class NotifyEmailsOut(BaseModel):
    message: str
    recipients: list[str] = Field(description="The addresses queued (ours).")


class AuditLogV2(BaseModel):
    ip: str
    user_agent: str
    referrer: str
    kind: str = Field(description="creation, view, failed_view, failed_passphrase, expire, edit, owner_view (the "
                      "owner saw the secret: no view taken), creation_email_send (the link mailed to one recipient: "
                      "see notify_by_email); ours too: expire_auto (views or time ran out, or burned by wrong passphrases), "
                      "passphrase_lock (too many wrong passphrases from everywhere: attempts refused for a while), "
                      "passphrase_burn (the wrong passphrase that reached the sender's limit: the push is deleted), "
                      "code_sent, wrong_code, code_verified (a push that verifies its recipient: a code mailed, a "
                      "wrong code, the right one), "
                      "refused_address (opened from outside the push's allowed addresses: refused as unknown)")
    created_at: str
    updated_at: str
    notify_by_email: NotifyByEmailOut | None = None


class AuditV2Out(BaseModel):
    logs: list[AuditLogV2]


class AuditLogV1(AuditLogV2):
    pass


class AuditV1Out(BaseModel):
    views: list[AuditLogV1]


class ErrorOut(BaseModel):
    """`error` always; a 422 adds each wrong field's messages beside it, as Password Pusher's
    do (`{"error": "...", "payload": ["Payload is required."]}`)."""

    model_config = ConfigDict(extra="allow")
    error: str = Field(examples=["not-found"])


class VersionOut(BaseModel):
    application_version: str
    api_version: str
    edition: str
    features: dict | None = None


def error_responses(*codes: int) -> dict:
    descriptions = {
        400: "Malformed body or missing root key", 401: "Missing or wrong API token, or wrong passphrase",
        403: "Not the owner", 404: "Unknown token: {\"error\": \"not-found\"}", 413: "Body too large",
        415: "Unsupported content type", 422: "Validation failed", 429: "Too many wrong passphrases (Retry-After)",
    }
    return {code: {"model": ErrorOut, "description": descriptions[code]} for code in codes}
