"""What each endpoint does, shared by the v2 and legacy routes: call the core, shape the answer.

No lifecycle rule lives here: limits, views, expiry, passphrase lock-out and ownership
of anonymous pushes are the core's (`pwpush_app.core`).
"""

from __future__ import annotations

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from pwpush_app.api import schemas, uploads
from pwpush_app.api.auth import Caller
from pwpush_app.api.bodies import body_limit, is_multipart, new_push_from_fields, read_create_body
from pwpush_app.api.errors import NO_STORE, ApiError, invalid, not_found
from pwpush_app.core.create import create_push, may_create_pushes
from pwpush_app.core.errors import (
    InvalidPush,
    NotAllowed,
    PassphraseRequired,
    PushError,
    PushUnavailable,
    TooManyAttempts,
    UnexpectedPassphrase,
    WrongPassphrase,
)
from pwpush_app.core.owners import expire_by_owner, expire_overdue, owner_view, pushes_of_owner
from pwpush_app.core.records import find_push, open_link_token, open_note
from pwpush_app.core.reveal import expire_by_viewer, reveal_push


def answer(body, status: int = 200) -> JSONResponse:
    # Every API answer may carry a secret or a secret link: never cache one.
    return JSONResponse(body, status_code=status, headers=NO_STORE)


def _require_anonymous_allowed(caller: Caller) -> None:
    # The same rule the create page asks (create.may_create_pushes).
    if not may_create_pushes(caller.vault, caller.user.id if caller.user else None):
        caller.require_user()


async def create(request: Request, caller: Caller, root_key: str, kind: str, kind_is_fixed: bool = False) -> JSONResponse:
    _require_anonymous_allowed(caller)
    vault = caller.vault
    settings = vault.settings
    text_limit = body_limit(settings.max_payload_bytes)
    if is_multipart(request):
        # Files stream into the core as they arrive; a request with files is stored here.
        fields, new_push, duration_field, created = await uploads.create_from_multipart(
            request, vault, caller.client, root_key, kind, kind_is_fixed, text_limit
        )
    else:
        fields = (await read_create_body(request, root_key, text_limit)).fields
        if "files" in fields:
            raise invalid({"files": "Send files as multipart/form-data: curl -F 'push[files][]=@secret.pdf' "
                                    "-F 'push[payload]=optional text'."})
        new_push, duration_field = new_push_from_fields(fields, kind, kind_is_fixed)
        created = None
    if created is None:
        if new_push.kind == "file":
            uploads.check_file_push_without_files(vault, caller.client)
        try:
            created = await run_in_threadpool(create_push, vault, new_push, caller.client)
        except InvalidPush as error:
            raise invalid({(duration_field if field == "expire_after" else field): message
                           for field, message in error.errors.items()}) from None
    body_json = schemas.push_json(created.push, settings, created.url_token, owner=True, note=new_push.note)
    body_json["manage_url"] = f"{settings.base_url}/manage/{created.manage_token}"
    return answer(body_json, 201)


def _viewer_refused(error: PushError) -> ApiError:
    """What the API answers when the viewer's gate (a view, or a viewer's delete) refuses."""
    if isinstance(error, (PassphraseRequired, WrongPassphrase)):
        return ApiError(401, str(error))
    if isinstance(error, TooManyAttempts):
        return ApiError(429, str(error), headers={"Retry-After": str(error.retry_after_seconds)})
    if isinstance(error, UnexpectedPassphrase):
        return invalid({"passphrase": str(error)})
    if isinstance(error, NotAllowed):
        return ApiError(403, str(error))
    raise error


def show(caller: Caller, token: str, passphrase: str | None) -> JSONResponse:
    _require_anonymous_allowed(caller)
    vault = caller.vault
    try:
        revealed = reveal_push(vault, token, caller.client, passphrase=passphrase)
    except PushUnavailable:
        # The core logged the failed view. Password Pusher answers an expired push
        # with its (payload-free) JSON; an unknown token gets a 404.
        push = find_push(vault, token)
        if push is None:
            raise not_found() from None
        push = expire_overdue(vault, push)
        body = schemas.push_json(push, vault.settings, token, owner=caller.owns(push))
        return answer({**body, "payload": None, "files": []})
    except PushError as error:
        raise _viewer_refused(error) from None
    push = revealed.push
    owner = caller.owns(push)
    note = open_note(vault, push) if owner else ""
    body = schemas.push_json(push, vault.settings, token, owner=owner, note=note)
    return answer({**body, "payload": revealed.payload, "files": schemas.files_json(revealed.downloads, vault.settings)})


def _existing(caller: Caller, token: str):
    push = find_push(caller.vault, token)
    if push is None:
        raise not_found()
    return push


def preview(caller: Caller, token: str) -> JSONResponse:
    _require_anonymous_allowed(caller)
    _existing(caller, token)
    return answer({"url": schemas.secret_link(caller.vault.settings, token)})


def _owned(caller: Caller, token: str):
    user = caller.require_user()
    push = _existing(caller, token)
    if push.owner_id != user.id:
        raise ApiError(403, "Only the push's owner may do this.")
    return push


def audit(caller: Caller, token: str, page: int, dialect: str) -> JSONResponse:
    push = _owned(caller, token)
    managed = owner_view(caller.vault, push, caller.client, page=page)
    return answer(schemas.audit_v2(managed.events) if dialect == "v2" else schemas.audit_v1(managed.events))


def expire(caller: Caller, token: str, passphrase: str | None = None) -> JSONResponse:
    """The owner, or a viewer where the sender allowed recipients to delete, expires the
    push now; a viewer passes the same gate as for a view (the passphrase, when set)."""
    _require_anonymous_allowed(caller)
    vault = caller.vault
    push = _existing(caller, token)
    if caller.owns(push):
        push = expire_overdue(vault, push)
        if push.expired:
            raise ApiError(422, "This push has already expired.")
        push = expire_by_owner(vault, push, caller.client)
    else:
        try:
            push = expire_by_viewer(vault, token, caller.client, passphrase=passphrase)
        except PushUnavailable:
            raise ApiError(422, "This push has already expired.") from None
        except PushError as error:
            raise _viewer_refused(error) from None
    # The note went with the secret: an expired push has none to show.
    return answer(schemas.push_json(push, vault.settings, token, owner=caller.owns(push)))


def listing(caller: Caller, expired: bool, page: int) -> JSONResponse:
    user = caller.require_user()
    vault = caller.vault
    found = pushes_of_owner(vault, user.id, expired=expired, page=page, per_page=schemas.PER_PAGE)
    return answer([
        schemas.push_json(push, vault.settings, open_link_token(vault, push), owner=True,
                          note=open_note(vault, push))
        for push in found
    ])
