"""API v2: /api/v2/version and /api/v2/pushes..., as Password Pusher 2.x serves them."""

from __future__ import annotations

from fastapi import Depends, Header, Query, Request

from pwpush_app.api import actions
from pwpush_app.api.auth import Caller, caller, current_runtime
from pwpush_app.api.errors import ApiError, invalid
from pwpush_app.api.routes import Routes
from pwpush_app.api.schemas import (
    AuditV2Out,
    CreatedGroupOut,
    CreatedPushOut,
    NotifyEmailsOut,
    PreviewOut,
    PushFields,
    PushOut,
    ShownPushOut,
    VerificationCodeOut,
    VersionOut,
    error_responses,
)
from pwpush_app.api.version import version_v2
from pwpush_app.core.i18n import N_, said
from pwpush_app.core.runtime import Runtime

routes = Routes(prefix="/api/v2", tags=["v2"])

def multipart_schema(root: str) -> dict:
    """A multipart create body for the docs (files plus the usual fields)."""
    return {"type": "object", "properties": {
        f"{root}[files][]": {"type": "array", "items": {"type": "string", "format": "binary"},
                             "description": "One part per file (file pushes)."},
        f"{root}[payload]": {"type": "string", "description": "Optional text beside the files."},
        f"{root}[kind]": {"type": "string", "description": "file (implied by file parts), text, url or qr."},
        f"{root}[expire_after_views]": {"type": "integer"},
        f"{root}[expire_after_duration]": {"type": "integer"},
        f"{root}[note]": {"type": "string"},
    }}


# Inline (no $refs): the body is parsed by bodies.py, this only documents it.
CREATE_SCHEMA = {
    "type": "object",
    "required": ["push"],
    "properties": {"push": PushFields.model_json_schema()},
    "additionalProperties": False,
}

TOKEN_DOC = "The secret link's token (the last part of /p/<token>)."
MAX_PAGE = 200
_PAGE_RULE = said(N_("page must be a whole number up to {count}."), count=MAX_PAGE)
INVALID_PAGE = N_("Invalid page parameter")


async def page_number(page: str | None = Query(None, description="Page of 50, from 1 to 200 (0 or less counts as 1).",
                                               examples=["1"])) -> int:
    """Password Pusher's pages: whole numbers; 0 or less is the first page, past 200 or not a
    number is 400 "Invalid page parameter"."""
    if page is None:
        return 1
    try:
        number = int(page.strip(), 10)
    except ValueError:
        raise ApiError(400, INVALID_PAGE, extra={"message": _PAGE_RULE}) from None
    if number > MAX_PAGE:
        raise ApiError(400, INVALID_PAGE, extra={"message": _PAGE_RULE})
    return max(number, 1)


Page = Depends(page_number)
MAX_PASSPHRASE_CHARS = 1024
PASSPHRASE_HEADER = "X-Passphrase"


async def presented_passphrase(
    request: Request,
    passphrase: str | None = Query(None, max_length=MAX_PASSPHRASE_CHARS,
                                   description="Required when the push has a passphrase (to see it, and for a "
                                   "recipient to delete it). Prefer the "
                                   "X-Passphrase header: a query string ends up in proxies' logs."),
    x_passphrase: str | None = Header(None, alias=PASSPHRASE_HEADER,
                                      description="The passphrase, as UTF-8 (kept out of URLs and so out of logs)."),
) -> str | None:
    """The passphrase from the `X-Passphrase` header or `?passphrase=` (Password Pusher's CLI
    sends the query parameter; a URL is what proxies and servers log, a header is not)."""
    if x_passphrase is None:
        return passphrase
    if passphrase is not None:
        raise invalid({"passphrase": N_("Send the passphrase once: in the X-Passphrase header or as "
                                        "?passphrase=, not both.")})
    # Header values arrive as Latin-1 text; the bytes on the wire are the client's UTF-8.
    raw = request.headers.getlist(PASSPHRASE_HEADER)
    if len(raw) != 1:
        raise invalid({"passphrase": N_("Send one X-Passphrase header.")})
    try:
        value = raw[0].encode("latin-1").decode("utf-8")
    except UnicodeError:
        raise invalid({"passphrase": N_("The X-Passphrase header must be UTF-8 text.")}) from None
    if len(value) > MAX_PASSPHRASE_CHARS:
        raise invalid({"passphrase": said(N_("A passphrase has at most {count} characters."), count=MAX_PASSPHRASE_CHARS)})
    return value


# Routes declare `passphrase: str | None = Passphrase` and get it from either place.
Passphrase = Depends(presented_passphrase)
CODE_HEADER = "X-Verification-Code"


async def presented_code(
    verification_code: str | None = Query(None, max_length=64, description="Ours: the code mailed to the recipient, "
                                          "when the push verifies them (POST .../verification_code)."),
    x_verification_code: str | None = Header(None, alias=CODE_HEADER, max_length=64,
                                             description="The same code, in a header."),
) -> str | None:
    if verification_code is not None and x_verification_code is not None:
        raise invalid({"verification_code": N_("Send the code once: in the X-Verification-Code header or as "
                                               "?verification_code=, not both.")})
    return x_verification_code if x_verification_code is not None else verification_code


Code = Depends(presented_code)


@routes.get("/version", response_model=VersionOut, response_model_exclude_unset=True, summary="Version and features (no auth needed)")
def get_version(runtime: Runtime = Depends(current_runtime)):
    return version_v2(runtime.settings)


@routes.post(
    "/pushes",
    status_code=201,
    response_model=CreatedPushOut | CreatedGroupOut, response_model_exclude_unset=True,
    summary="Create a push",
    description="JSON `{\"push\": {...}}`, form-encoded `push[payload]=...`, or multipart. "
    "Anonymous unless a token is sent; the answer's `manage_url` lets an anonymous creator manage the push. "
    "File pushes: multipart with one `push[files][]` per file (a token is needed unless the server allows "
    "anonymous files); 413 when the files together pass the server's limit.",
    responses=error_responses(400, 401, 413, 415, 422),
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": CREATE_SCHEMA,
                             "example": {"push": {"payload": "correct horse battery staple", "expire_after_views": 2,
                                                  "expire_after_duration": 8}}},
        "application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": {
            "push[payload]": {"type": "string"}, "push[expire_after_views]": {"type": "integer"},
            "push[expire_after_duration]": {"type": "integer"}}}},
        "multipart/form-data": {"schema": multipart_schema("push")},
    }}},
)
async def create_push(request: Request, who: Caller = Depends(caller)):
    return await actions.create(request, who, "push", "text", groups=True)


@routes.get("/pushes/active", response_model=list[PushOut], response_model_exclude_unset=True, summary="Your active pushes, newest first",
            responses=error_responses(401, 422))
def active_pushes(who: Caller = Depends(caller), page: int = Page):
    return actions.listing(who, expired=False, page=page)


@routes.get("/pushes/expired", response_model=list[PushOut], response_model_exclude_unset=True, summary="Your expired pushes, newest first",
            responses=error_responses(401, 422))
def expired_pushes(who: Caller = Depends(caller), page: int = Page):
    return actions.listing(who, expired=True, page=page)


@routes.get("/pushes/{token}", response_model=ShownPushOut, response_model_exclude_unset=True, summary="Retrieve the secret (consumes a view)",
            responses=error_responses(401, 404, 422, 429))
def show_push(token: str, who: Caller = Depends(caller), passphrase: str | None = Passphrase, code: str | None = Code):
    return actions.show(who, token, passphrase, code)


@routes.post("/pushes/{token}/verification_code", status_code=202, response_model=VerificationCodeOut,
             summary="Mail the recipient a code (pushes that verify their recipient)",
             description="Ours. Mails a new 6-digit code to the address the sender named in `verify_email`; it works "
             "once, for 10 minutes, and replaces any code before it. At most one a minute and five an hour per push "
             "(429 with Retry-After). Consumes no view.",
             responses=error_responses(404, 422, 429))
def request_verification_code(token: str, request: Request, who: Caller = Depends(caller)):
    return actions.request_code(who, token, request)


@routes.get("/pushes/{token}/preview", response_model=PreviewOut, response_model_exclude_unset=True, summary="The secret link (consumes nothing)",
            responses=error_responses(401, 404))
def preview_push(token: str, who: Caller = Depends(caller)):
    return actions.preview(who, token)


@routes.get("/pushes/{token}/audit", response_model=AuditV2Out, response_model_exclude_unset=True, summary="Audit trail (owner only)",
            responses=error_responses(401, 403, 404, 422))
def audit_push(token: str, who: Caller = Depends(caller), page: int = Page):
    return actions.audit(who, token, page, "v2")


@routes.post("/pushes/{token}/notify_emails", status_code=201, response_model=NotifyEmailsOut,
             summary="Mail the secret link to recipients (owner only)",
             description="`{\"notify_emails_to\": \"bob@example.com, carol@example.com\", \"notify_emails_to_locale\": \"en\"}` "
             "as JSON or form fields. At most 5 addresses per push in all; the site must send mail. The mail carries the "
             "link, its expiry and your address, never the secret; each address gets a `creation_email_send` audit event. "
             "Consumes no view.",
             responses=error_responses(400, 401, 403, 404, 415, 422, 429),
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
                 "type": "object", "properties": {"notify_emails_to": {"type": "string"},
                                                  "notify_emails_to_locale": {"type": "string"}}},
                 "example": {"notify_emails_to": "bob@example.com"}}}}})
async def notify_emails(token: str, request: Request, who: Caller = Depends(caller)):
    return await actions.notify_emails(request, who, token)


EDIT_SCHEMA = {
    "type": "object",
    "required": ["push"],
    "properties": {"push": {"type": "object", "properties": {
        "name": {"type": "string"}, "note": {"type": "string", "description": "\"\" removes it."},
        "payload": {"type": "string", "description": "A new secret for the same link (left out: unchanged)."},
        "passphrase": {"type": "string", "description": "A new passphrase; \"\" removes it."},
        "expire_after_views": {"type": "integer", "description": "The whole allowance, views used included."},
        "expire_after_days": {"type": "integer", "description": "The lifetime from creation (or _minutes, _duration)."},
        "expire_after_minutes": {"type": "integer"}, "expire_after_duration": {"type": "integer"},
        "retrieval_step": {"type": "boolean"}, "deletable_by_viewer": {"type": "boolean"},
    }, "additionalProperties": False}},
}


@routes.patch(
    "/pushes/{token}",
    response_model=PushOut, response_model_exclude_unset=True,
    summary="Edit a live push (owner only)",
    description="Change what Password Pusher's edit page changes: name, note, the secret (for the same link), the "
    "passphrase, views and lifetime (totals counted from creation, within the kind's limits), retrieval step and "
    "deletable by viewer. Fields left out stay as they are. The answer never holds the secret. 422 once the push "
    "has expired.",
    responses=error_responses(400, 401, 403, 404, 415, 422),
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": EDIT_SCHEMA,
                             "example": {"push": {"expire_after_views": 10, "expire_after_days": 14}}},
    }}},
)
async def edit_push(request: Request, token: str, who: Caller = Depends(caller)):
    return await actions.edit(request, who, token)


@routes.delete("/pushes/{token}", response_model=PushOut, response_model_exclude_unset=True, summary="Expire now (owner, or anyone if deletable by viewer)",
               responses=error_responses(401, 403, 404, 422))
def expire_push(token: str, who: Caller = Depends(caller), passphrase: str | None = Passphrase):
    return actions.expire(who, token, passphrase)
