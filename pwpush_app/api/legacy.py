"""The legacy (v1) dialect: /p.json, /f.json, /r.json and /p/<token>[/...].json."""

from __future__ import annotations

from fastapi import Depends, Request

from pwpush_app.api import actions
from pwpush_app.api.auth import Caller, caller
from pwpush_app.api.routes import Routes
from pwpush_app.api.schemas import (
    AuditV1Out,
    CreatedPushOut,
    PreviewOut,
    PushOut,
    ShownPushOut,
    VersionOut,
    error_responses,
)
from pwpush_app.api.v2 import Code, Page, Passphrase, multipart_schema
from pwpush_app.api.version import version_v1

routes = Routes(tags=["legacy"])
CREATE_ERRORS = error_responses(400, 401, 413, 415, 422)
FORM_NOTE = " Form-encoded (`curl --data '{root}[payload]=...'`), JSON or multipart."


@routes.get("/api/v1/version", response_model=VersionOut, response_model_exclude_unset=True, summary="Version (legacy)")
@routes.get("/api/v1/version.json", response_model=VersionOut, response_model_exclude_unset=True, include_in_schema=False)
def get_version():
    return version_v1()


@routes.post("/p.json", status_code=201, response_model=CreatedPushOut, response_model_exclude_unset=True, summary="Create a push (root key `password`)",
             description="Kind via `password[kind]`." + FORM_NOTE.format(root="password"), responses=CREATE_ERRORS)
async def create_password(request: Request, who: Caller = Depends(caller)):
    return await actions.create(request, who, "password", "text")


@routes.post("/f.json", status_code=201, response_model=CreatedPushOut, response_model_exclude_unset=True, summary="Create a file push (root key `file_push`)",
             description="Multipart: one `file_push[files][]` per file, plus `file_push[...]` fields. Needs a token "
             "unless the server allows anonymous files.", responses=CREATE_ERRORS,
             openapi_extra={"requestBody": {"required": True, "content": {
                 "multipart/form-data": {"schema": multipart_schema("file_push")}}}})
async def create_file_push(request: Request, who: Caller = Depends(caller)):
    return await actions.create(request, who, "file_push", "file", kind_is_fixed=True)


@routes.post("/r.json", status_code=201, response_model=CreatedPushOut, response_model_exclude_unset=True, summary="Create a URL push (root key `url`)",
             description="Needs a token, as in Password Pusher." + FORM_NOTE.format(root="url"), responses=CREATE_ERRORS)
async def create_url_push(request: Request, who: Caller = Depends(caller)):
    # As in Password Pusher, /r.json takes no anonymous pushes (v2 does, with kind url).
    return await actions.create(request, who, "url", "url", kind_is_fixed=True, needs_token=True)


def _push_routes(prefix: str, in_schema: bool) -> None:
    """Password Pusher's per-push routes under /p; /f and /r are the same routes under the
    prefixes its file and URL pushes once had (their old links and scripts still use them)."""
    shown = {"include_in_schema": in_schema, "response_model_exclude_unset": True}
    name = prefix.strip("/")

    def active_pushes(who: Caller = Depends(caller), page: int = Page):
        return actions.listing(who, expired=False, page=page)

    def expired_pushes(who: Caller = Depends(caller), page: int = Page):
        return actions.listing(who, expired=True, page=page)

    def show_push(token: str, who: Caller = Depends(caller), passphrase: str | None = Passphrase, code: str | None = Code):
        return actions.show(who, token, passphrase, code)

    def preview_push(token: str, who: Caller = Depends(caller)):
        return actions.preview(who, token)

    def audit_push(token: str, who: Caller = Depends(caller), page: int = Page):
        return actions.audit(who, token, page, "v1")

    def expire_push(token: str, who: Caller = Depends(caller), passphrase: str | None = Passphrase):
        return actions.expire(who, token, passphrase)

    declared = [
        ("GET", "/active.json", active_pushes, list[PushOut], "Your active pushes (legacy)", (401, 422)),
        ("GET", "/expired.json", expired_pushes, list[PushOut], "Your expired pushes (legacy)", (401, 422)),
        ("GET", "/{token}.json", show_push, ShownPushOut, "Retrieve the secret (legacy; consumes a view)",
         (401, 404, 422, 429)),
        ("GET", "/{token}/preview.json", preview_push, PreviewOut, "The secret link (legacy)", (401, 404)),
        ("GET", "/{token}/audit.json", audit_push, AuditV1Out, "Audit trail (legacy; owner only)", (400, 401, 403, 404)),
        ("DELETE", "/{token}.json", expire_push, PushOut, "Expire now (legacy)", (401, 404, 422)),
    ]
    for method, path, endpoint, model, summary, codes in declared:
        routes.add_api_route(prefix + path, endpoint, methods=[method], response_model=model, summary=summary,
                             responses=error_responses(*codes), name=f"{name}_{endpoint.__name__}", **shown)


_push_routes("/p", in_schema=True)
_push_routes("/f", in_schema=False)
_push_routes("/r", in_schema=False)
