"""What each endpoint does, shared by the v2 and legacy routes: call the core, shape the answer.

No lifecycle rule lives here: limits, views, expiry, passphrase lock-out and ownership
of anonymous pushes are the core's (`pwpush_app.core`).  Each returns the route's
declared response model (api/schemas.py).
"""

from __future__ import annotations

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from pwpush_app.api import schemas, uploads
from pwpush_app.api.auth import Caller
from pwpush_app.api.bodies import (
    body_limit,
    is_multipart,
    new_push_from_fields,
    notify_fields,
    push_edit_from_fields,
    read_create_body,
    read_object_body,
)
from pwpush_app.api.errors import ApiError, asked_language, invalid, not_found
from pwpush_app.api.hot import run_core
from pwpush_app.core import link_mail, links
from pwpush_app.core.clock import utcnow
from pwpush_app.core.create import create_push, may_create_pushes
from pwpush_app.core.errors import (
    CodeExpired,
    CodeRequired,
    CodeSendLimited,
    InvalidPush,
    NoLongerEditable,
    NotAllowed,
    PassphraseRequired,
    PushError,
    PushUnavailable,
    TooManyAttempts,
    UnexpectedPassphrase,
    WrongCode,
    WrongPassphrase,
)
from pwpush_app.core.i18n import N_, joined, said, text_of
from pwpush_app.core.owners import audit_trail, edit_push, expire_by_owner, expire_overdue, pushes_of_owner
from pwpush_app.core.push_policies import AddressRefused
from pwpush_app.core.recipient_code import CODE_MINUTES, NotVerifying, send_code
from pwpush_app.core.recipients import asks_for_recipients, create_group
from pwpush_app.core.records import find_push, open_for_owner
from pwpush_app.core.reveal import expire_by_viewer, find_for_viewer, reveal_push


def _require_anonymous_allowed(caller: Caller) -> None:
    # The same rule the create page asks (create.may_create_pushes).
    if not may_create_pushes(caller.runtime, caller.user.id if caller.user else None):
        caller.require_user()


async def create(
    request: Request, caller: Caller, root_key: str, kind: str, kind_is_fixed: bool = False,
    needs_token: bool = False, groups: bool = False,
) -> schemas.CreatedPushOut | schemas.CreatedGroupOut:
    """`needs_token`: the endpoint takes no anonymous pushes (Password Pusher's /r.json).
    `groups`: the endpoint takes `recipients` (ours: POST /api/v2/pushes)."""
    if needs_token:
        caller.require_user()
    _require_anonymous_allowed(caller)
    runtime = caller.runtime
    settings = runtime.settings
    text_limit = body_limit(settings.max_payload_bytes)
    if is_multipart(request):
        # Files stream into the core as they arrive; a request with files is stored here.
        fields, new_push, duration_field, created = await uploads.create_from_multipart(
            request, runtime, caller.client, root_key, kind, kind_is_fixed, text_limit
        )
    else:
        fields = (await read_create_body(request, root_key, text_limit)).fields
        if "files" in fields:
            # A files key asks for a file push, even empty: who may send files is told first.
            uploads.check_file_push_without_files(runtime, caller.client)
            raise invalid({"files": N_("Send files as multipart/form-data: curl -F 'push[files][]=@secret.pdf' "
                                       "-F 'push[payload]=optional text'.")})
        new_push, duration_field = new_push_from_fields(fields, kind, kind_is_fixed)
        created = None
    if created is None and asks_for_recipients(new_push):
        if not groups:
            raise invalid({"recipients": N_("Name recipients on POST /api/v2/pushes (root key push).")})
        return await _create_group(caller, _mail_language(request, caller, new_push), duration_field)
    if created is None:
        if new_push.kind == "file":
            uploads.check_file_push_without_files(runtime, caller.client)
        try:
            created = await run_core(runtime, create_push, runtime, _mail_language(request, caller, new_push),
                                     caller.client, blocking=bool(new_push.passphrase))
        except InvalidPush as error:
            raise invalid({(duration_field if field == "expire_after" else field): message
                           for field, message in error.errors.items()}) from None
    return schemas.push_out(created.push, caller.base_url, created.url_token, schemas.CreatedPushOut, owner=True,
                            note=new_push.note, manage_url=links.manage_link(caller.base_url, created.manage_token),
                            **_mailed_to(new_push))


async def _create_group(caller: Caller, new_push, duration_field: str) -> schemas.CreatedGroupOut:
    runtime = caller.runtime
    try:
        group = await run_core(runtime, create_group, runtime, new_push, caller.client,
                               blocking=bool(new_push.passphrase))
    except InvalidPush as error:
        raise invalid({(duration_field if field == "expire_after" else field): message
                       for field, message in error.errors.items()}) from None
    return schemas.CreatedGroupOut(group_id=group.group_id, pushes=[
        schemas.push_out(one.push, caller.base_url, one.url_token, schemas.CreatedPushOut, owner=True,
                         note=new_push.note, manage_url=links.manage_link(caller.base_url, one.manage_token))
        for one in group.pushes])


def _mail_language(request: Request, caller: Caller, new_push):
    """A mailed link goes out in the language this request asked for, unless notify_emails_to_locale names one."""
    if not new_push.notify_emails_to or new_push.notify_emails_to_locale:
        return new_push
    return link_mail.in_sender_language(caller.runtime, caller.client, new_push, _asked_for_mail(request, caller))


def _asked_for_mail(request: Request, caller: Caller) -> str | None:
    """The request's language for a link mail, where one may be sent (else no field is named in a refusal)."""
    if not caller.runtime.settings.mail.link_by_email or caller.client.user_id is None:
        return None
    return asked_language(request, caller.runtime.settings.pages)


def _mailed_to(new_push) -> dict:
    """Password Pusher echoes the recipients of a create that mails the link."""
    if not new_push.notify_emails_to:
        return {}
    to = new_push.notify_emails_to
    return {"notify_emails_to": to if isinstance(to, str) else ",".join(to),
            "notify_emails_to_locale": new_push.notify_emails_to_locale or None}


# Password Pusher's words in `error` (scripts match them), ours in `message`.
WRONG_PASSPHRASE = N_("That passphrase is incorrect.")
PASSPHRASE_HOW = said(N_("Send it as ?passphrase=... or in the X-Passphrase header."))
# Ours: a push that verifies its recipient (core/recipient_code.py).
CODE_NEEDED = N_("A verification code is required.")
CODE_HOW = said(N_("Request one with POST /api/v2/pushes/<url_token>/verification_code (it goes to the recipient's "
                   "email), then send it in the X-Verification-Code header or as ?verification_code=...."))


def _viewer_refused(error: PushError) -> ApiError:
    """What the API answers when the viewer's gate (a view, or a viewer's delete) refuses."""
    if isinstance(error, (CodeRequired, CodeExpired, WrongCode)):
        return ApiError(401, CODE_NEEDED if isinstance(error, CodeRequired) else N_("That verification code is incorrect."),
                        extra={"message": joined(text_of(error), CODE_HOW)})
    if isinstance(error, (PassphraseRequired, WrongPassphrase)):
        return ApiError(401, WRONG_PASSPHRASE, extra={"message": joined(text_of(error), PASSPHRASE_HOW)})
    if isinstance(error, TooManyAttempts):
        return ApiError(429, said(N_("Too many passphrase attempts. Please try again in {wait_minutes}."),
                                  wait_minutes=(error.retry_after_seconds + 59) // 60),
                        headers={"Retry-After": str(error.retry_after_seconds)}, extra={"message": text_of(error)})
    if isinstance(error, UnexpectedPassphrase):
        return invalid({"passphrase": text_of(error)})
    if isinstance(error, NotAllowed):
        return ApiError(401, text_of(error))
    raise error


def show(caller: Caller, token: str, passphrase: str | None, code: str | None = None) -> schemas.ShownPushOut:
    _require_anonymous_allowed(caller)
    runtime = caller.runtime
    try:
        revealed = reveal_push(runtime, token, caller.client, passphrase=passphrase, code=code)
    except PushUnavailable as refusal:
        # The core logged the failed view.  Password Pusher answers an expired push with
        # its (payload-free) record; an unknown token gets a 404.
        if refusal.expired is None:
            raise not_found() from None
        return schemas.push_out(refusal.expired, caller.base_url, token, schemas.ShownPushOut,
                                payload=None, files=[])
    except PushError as error:
        raise _viewer_refused(error) from None
    return schemas.push_out(
        revealed.push, caller.base_url, token, schemas.ShownPushOut, viewed=True,
        payload=revealed.payload, files=schemas.files_out(revealed.downloads, caller.base_url),
        **schemas.opened_before_out(revealed),
    )


def request_code(caller: Caller, token: str, request: Request | None = None) -> schemas.VerificationCodeOut:
    """Mail a new verification code to the push's recipient (core/recipient_code.py), in the
    language this request asked for (English without one, as always)."""
    _require_anonymous_allowed(caller)
    language = (asked_language(request, caller.runtime.settings.pages) if request is not None else None) or "en"
    try:
        sent_to = send_code(caller.runtime, token, caller.client, locale=language)
    except PushUnavailable:
        raise not_found() from None  # unknown, expired, or outside its allowed addresses: all alike
    except CodeSendLimited as error:
        raise ApiError(429, text_of(error), headers={"Retry-After": str(error.retry_after_seconds)}) from None
    except NotVerifying as error:
        raise ApiError(422, text_of(error)) from None
    return schemas.VerificationCodeOut(
        message=f"A code is on its way to {sent_to}. It works once, for {CODE_MINUTES} minutes.",
        sent_to=sent_to, expires_in=CODE_MINUTES * 60)


def _existing(caller: Caller, token: str):
    push = find_push(caller.runtime, token)
    if push is None:
        raise not_found()
    return push


def preview(caller: Caller, token: str) -> schemas.PreviewOut:
    _require_anonymous_allowed(caller)
    # From outside the push's allowed addresses, an unknown link.
    if find_for_viewer(caller.runtime, token, caller.client) is None:
        raise not_found()
    return schemas.PreviewOut(url=links.secret_link(caller.base_url, token))


def _owned(caller: Caller, token: str):
    user = caller.require_user()
    push = _existing(caller, token)
    if push.owner_id != user.id:
        raise ApiError(403, N_("Only the push's owner may do this."))
    return push


def audit(caller: Caller, token: str, page: int, dialect: str) -> schemas.AuditV2Out | schemas.AuditV1Out:
    push = expire_overdue(caller.runtime, _owned(caller, token))
    # Reading the trail is no event on the push (as in Password Pusher): not logged.
    events = audit_trail(caller.runtime, push, page=page)
    if dialect != "v2":
        return schemas.audit_v1(events)
    mailed = [event.id for event in events if event.kind == "creation_email_send"]
    return schemas.audit_v2(events, link_mail.recipients_by_event(caller.runtime, mailed))

NOTIFY_BODY_BYTES = 16 * 1024


async def notify_emails(request: Request, caller: Caller, token: str) -> schemas.NotifyEmailsOut:
    """Mail the link of an existing push to recipients, for its owner (Password Pusher's
    POST /api/v2/pushes/:url_token/notify_emails); not there at all where the site mails no links."""
    if not caller.runtime.settings.mail.notify_by_email:
        raise not_found()
    push = _owned(caller, token)
    body = await read_object_body(request, NOTIFY_BODY_BYTES)
    fields = body.get("push") if isinstance(body.get("push"), dict) else body
    errors: dict[str, str] = {}
    notify = notify_fields(fields, errors)
    if errors:
        raise invalid(errors)
    try:
        emails = await run_in_threadpool(link_mail.mail_link, caller.runtime, push, caller.client,
                                         notify.get("notify_emails_to"),
                                         notify.get("notify_emails_to_locale") or _asked_for_mail(request, caller))
    except InvalidPush as error:
        raise invalid(error.errors) from None
    except PushUnavailable:
        raise ApiError(422, N_("This push has expired: its link can no longer be mailed.")) from None
    except NotAllowed as error:
        raise ApiError(403, text_of(error)) from None
    return schemas.NotifyEmailsOut(message="Recipient(s) are added to the queue to be sent.", recipients=emails)


def expire(caller: Caller, token: str, passphrase: str | None = None) -> schemas.PushOut:
    """The owner, or a viewer where the sender allowed recipients to delete, expires the
    push now; a viewer passes the same gate as for a view (the passphrase, when set)."""
    _require_anonymous_allowed(caller)
    runtime = caller.runtime
    push = _existing(caller, token)
    try:
        if not caller.owns(push):
            push = expire_by_viewer(runtime, token, caller.client, passphrase=passphrase)
        elif push.is_live(utcnow()):
            push = expire_by_owner(runtime, push, caller.client)
        else:
            expire_overdue(runtime, push)  # its time ran out: record that, not the owner
            raise PushUnavailable()
    except AddressRefused:
        raise not_found() from None  # outside the push's allowed addresses: as an unknown link
    except PushUnavailable:
        raise ApiError(422, N_("This push has already expired.")) from None
    except PushError as error:
        raise _viewer_refused(error) from None
    return schemas.push_out(push, caller.base_url, token)


async def edit(request: Request, caller: Caller, token: str) -> schemas.PushOut:
    """The owner changes a live push (core.owners.edit_push); the answer is the push as its
    owner sees it afterwards, never its secret."""
    push = await run_in_threadpool(_owned, caller, token)
    runtime = caller.runtime
    if is_multipart(request):
        raise ApiError(415, N_("Send the changes as JSON or form-encoded; files cannot change after creation."))
    fields = (await read_create_body(request, "push", body_limit(runtime.settings.max_payload_bytes))).fields
    changes, duration_field = push_edit_from_fields(fields)
    try:
        push = await run_in_threadpool(edit_push, runtime, push, changes, caller.client)
    except NoLongerEditable as refusal:
        raise ApiError(422, text_of(refusal)) from None
    except InvalidPush as error:
        raise invalid({(duration_field if field == "expire_after" else field): message
                       for field, message in error.errors.items()}) from None
    mine = open_for_owner(runtime, push)
    return schemas.push_out(push, caller.base_url, token, owner=True, note=mine.note)


def listing(caller: Caller, expired: bool, page: int) -> list[schemas.PushOut]:
    user = caller.require_user()
    runtime = caller.runtime
    answers = []
    for push in pushes_of_owner(runtime, user.id, expired=expired, page=page, per_page=schemas.PER_PAGE):
        mine = open_for_owner(runtime, push)
        answers.append(schemas.push_out(push, caller.base_url, mine.link_token, owner=True, note=mine.note))
    return answers
