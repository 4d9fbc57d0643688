"""The legacy (v1) dialect: /p.json, /f.json, /r.json and /p/<token>[/...].json."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from pwpush_app.api import actions
from pwpush_app.api.auth import Caller, caller
from pwpush_app.api.schemas import (
    AuditV1Out,
    CreatedPushOut,
    PreviewOut,
    PushOut,
    ShownPushOut,
    VersionOut,
    error_responses,
)
from pwpush_app.api.v2 import Page, Passphrase, multipart_schema
from pwpush_app.api.version import version_v1

router = APIRouter(tags=["legacy"])
CREATE_ERRORS = error_responses(400, 401, 413, 415, 422)
FORM_NOTE = " Form-encoded (`curl --data '{root}[payload]=...'`), JSON or multipart."


@router.get("/api/v1/version", response_model=VersionOut, response_model_exclude_unset=True, summary="Version (legacy)")
def get_version():
    return version_v1()


@router.post("/p.json", status_code=201, response_model=CreatedPushOut, response_model_exclude_unset=True, summary="Create a push (root key `password`)",
             description="Kind via `password[kind]`." + FORM_NOTE.format(root="password"), responses=CREATE_ERRORS)
async def create_password(request: Request, who: Caller = Depends(caller)):
    return await actions.create(request, who, "password", "text")


@router.post("/f.json", status_code=201, response_model=CreatedPushOut, response_model_exclude_unset=True, summary="Create a file push (root key `file_push`)",
             description="Multipart: one `file_push[files][]` per file, plus `file_push[...]` fields. Needs a token "
             "unless the server allows anonymous files.", responses=CREATE_ERRORS,
             openapi_extra={"requestBody": {"required": True, "content": {
                 "multipart/form-data": {"schema": multipart_schema("file_push")}}}})
async def create_file_push(request: Request, who: Caller = Depends(caller)):
    return await actions.create(request, who, "file_push", "file", kind_is_fixed=True)


@router.post("/r.json", status_code=201, response_model=CreatedPushOut, response_model_exclude_unset=True, summary="Create a URL push (root key `url`)",
             description=FORM_NOTE.format(root="url"), responses=CREATE_ERRORS)
async def create_url_push(request: Request, who: Caller = Depends(caller)):
    return await actions.create(request, who, "url", "url", kind_is_fixed=True)


@router.get("/p/active.json", response_model=list[PushOut], response_model_exclude_unset=True, summary="Your active pushes (legacy)",
            responses=error_responses(401, 422))
def active_pushes(who: Caller = Depends(caller), page: int = Page):
    return actions.listing(who, expired=False, page=page)


@router.get("/p/expired.json", response_model=list[PushOut], response_model_exclude_unset=True, summary="Your expired pushes (legacy)",
            responses=error_responses(401, 422))
def expired_pushes(who: Caller = Depends(caller), page: int = Page):
    return actions.listing(who, expired=True, page=page)


@router.get("/p/{token}.json", response_model=ShownPushOut, response_model_exclude_unset=True, summary="Retrieve the secret (legacy; consumes a view)",
            responses=error_responses(401, 404, 422, 429))
def show_push(token: str, who: Caller = Depends(caller), passphrase: str | None = Passphrase):
    return actions.show(who, token, passphrase)


@router.get("/p/{token}/preview.json", response_model=PreviewOut, response_model_exclude_unset=True, summary="The secret link (legacy)",
            responses=error_responses(401, 404))
def preview_push(token: str, who: Caller = Depends(caller)):
    return actions.preview(who, token)


@router.get("/p/{token}/audit.json", response_model=AuditV1Out, response_model_exclude_unset=True, summary="Audit trail (legacy; owner only)",
            responses=error_responses(401, 403, 404, 422))
def audit_push(token: str, who: Caller = Depends(caller), page: int = Page):
    return actions.audit(who, token, page, "v1")


@router.delete("/p/{token}.json", response_model=PushOut, response_model_exclude_unset=True, summary="Expire now (legacy)",
               responses=error_responses(401, 403, 404, 422))
def expire_push(token: str, who: Caller = Depends(caller), passphrase: str | None = Passphrase):
    return actions.expire(who, token, passphrase)
