"""API v2 requests (core/requests.py): ask someone for a secret, and answer such a request.

- `POST /api/v2/requests`, `GET /api/v2/requests`, `GET /api/v2/requests/{id}`: the
  requester's, with an API token.  An answered request names its answer push's `url_token`
  (while it lives), which `GET /api/v2/pushes/{token}` reveals under the usual rules.
- `GET /api/v2/ask/{token}` (the message) and `POST /api/v2/ask/{token}` (the answer: text
  as JSON or a form, files as multipart, read as a stream by api/uploads.py): no token
  needed, the request link's token is the authority; a used, expired or unknown request
  link is 404, like an unknown push.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import Depends, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from pwpush_app.api.auth import Caller, caller
from pwpush_app.api.bodies import as_bool, is_multipart, read_object_body
from pwpush_app.api.errors import ApiError, invalid, not_found
from pwpush_app.api.routes import Routes
from pwpush_app.api.schemas import error_responses
from pwpush_app.api.uploads import answer_from_multipart
from pwpush_app.core import links
from pwpush_app.core.errors import InvalidPush, LoginRequired, PushUnavailable
from pwpush_app.core.i18n import N_, said
from pwpush_app.core.owners import owned_push
from pwpush_app.core.records import open_link_token
from pwpush_app.core.requests import (
    NewRequest,
    RequestView,
    answer_request,
    create_request,
    request_landing,
    request_of,
    requests_of,
)

routes = Routes(prefix="/api/v2", tags=["requests"])
MAX_BODY = 4 * 1024 * 1024
# The answer's body, for the docs only (read by read_object_body or api/uploads.py).
ANSWER_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"type": "object", "properties": {"answer": {"type": "object", "properties": {
        "payload": {"type": "string"}, "passphrase": {"type": "string"}}}}},
        "example": {"answer": {"payload": "correct horse battery staple"}}},
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        "answer[files][]": {"type": "array", "items": {"type": "string", "format": "binary"},
                            "description": "One part per file."},
        "answer[payload]": {"type": "string", "description": "Optional text beside the files."},
        "answer[passphrase]": {"type": "string"}}}},
}}}


class AnswerPushOut(BaseModel):
    id: str
    url_token: str | None = Field(None, description="The answer push's link token while it lives: reveal it with "
                                                    "GET /api/v2/pushes/{token} (counts a view).")
    url: str | None = None
    expired: bool
    kind: str = Field(description="text, or file when the answer came with files.")


class RequestOut(BaseModel):
    id: str
    state: str = Field(description="open, answered or expired.")
    message: str = Field(description="What the answerer reads (empty once the request expired).")
    url: str | None = Field(None, description="The request's link for the answerer, while it is open.")
    url_token: str | None = None
    expires_at: datetime
    created_at: datetime
    answered_at: datetime | None = None
    answer_views: int
    answer_minutes: int
    notify_by_email: bool = Field(description="The requester is mailed when the answer arrives (where the site "
                                              "sends mail); webhooks are called either way.")
    answer: AnswerPushOut | None = None


class AskOut(BaseModel):
    message: str
    expires_at: datetime


class AnsweredOut(BaseModel):
    answered: bool = True
    message: str = "Sent. Only the person who asked can open it; you can't see it again."


def _out(who: Caller, view: RequestView) -> RequestOut:
    answer = None
    if view.answer_push_id:
        try:
            push = owned_push(who.runtime, who.user.id, view.answer_push_id)
        except PushUnavailable:
            push = None
        if push is not None:
            token = open_link_token(who.runtime, push) if not push.expired else None
            answer = AnswerPushOut(id=push.id, url_token=token, expired=push.expired, kind=push.kind,
                                   url=links.secret_link(who.base_url, token) if token else None)
    return RequestOut(
        id=view.id, state=view.state, message=view.message, url_token=view.link_token,
        url=links.request_link(who.base_url, view.link_token) if view.link_token else None,
        expires_at=view.expires_at, created_at=view.created_at, answered_at=view.answered_at,
        answer_views=view.answer_views, answer_minutes=view.answer_minutes, notify_by_email=view.notify_by_email,
        answer=answer,
    )


def _whole_or_none(fields: dict, name: str, errors: dict):
    value = fields.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    errors[name] = f"{name} must be a whole number."
    return None


@routes.post("/requests", status_code=201, response_model=RequestOut, summary="Ask someone for a secret (API token)",
             description="JSON `{\"request\": {\"message\": \"...\", \"expire_after_minutes\": 1440, "
             "\"answer_views\": 1, \"answer_minutes\": 10080, \"notify_by_email\": true}}` (or form-encoded "
             "`request[message]=...`). `notify_by_email: false`: no mail when it is answered (webhooks still). "
             "The answer's `url` goes to the person who answers; it takes one answer.",
             responses=error_responses(400, 401, 415, 422, 429))
async def post_request(request: Request, who: Caller = Depends(caller)):
    who.require_user()
    body = await read_object_body(request, MAX_BODY)
    fields = body.get("request", body)
    if not isinstance(fields, dict):
        raise ApiError(400, said(N_("Send the request's fields as an object: {json}."), json='{"request": {"message": "..."}}'))
    errors: dict[str, str] = {}
    notify = fields.get("notify_by_email", True)
    if as_bool(notify) is None:
        errors["notify_by_email"] = "notify_by_email must be true or false."
    new = NewRequest(message=fields.get("message", ""),
                     expire_after_minutes=_whole_or_none(fields, "expire_after_minutes", errors),
                     answer_views=_whole_or_none(fields, "answer_views", errors),
                     answer_minutes=_whole_or_none(fields, "answer_minutes", errors),
                     notify_by_email=as_bool(notify) is not False)
    if errors:
        raise invalid(errors)
    try:
        made = await run_in_threadpool(create_request, who.runtime, new, who.client)
    except InvalidPush as error:
        raise invalid(error.errors) from None
    except LoginRequired as error:
        raise ApiError(401, str(error)) from None
    return _out(who, made.request)


@routes.get("/requests", response_model=list[RequestOut], summary="Your requests, newest first (API token)",
            responses=error_responses(401))
async def list_requests(who: Caller = Depends(caller)):
    user = who.require_user()
    views = await run_in_threadpool(requests_of, who.runtime, user.id)
    return [_out(who, view) for view in views]


@routes.get("/requests/{request_id}", response_model=RequestOut, summary="One of your requests: its state "
            "and, once answered, its answer push (API token)", responses=error_responses(401, 404))
async def get_request(request_id: str, who: Caller = Depends(caller)):
    user = who.require_user()
    try:
        view = await run_in_threadpool(request_of, who.runtime, user.id, request_id)
    except PushUnavailable:
        raise not_found() from None
    return _out(who, view)


@routes.get("/ask/{token}", response_model=AskOut, summary="What a request asks for (no API token: the "
            "request link's token is the authority)", responses=error_responses(404))
async def get_ask(token: str, who: Caller = Depends(caller)):
    try:
        landing = await run_in_threadpool(request_landing, who.runtime, token)
    except PushUnavailable:
        raise not_found() from None
    return AskOut(message=landing.message, expires_at=landing.expires_at)


@routes.post("/ask/{token}", status_code=201, response_model=AnsweredOut, summary="Answer a request, once (no "
             "API token needed)", description="JSON `{\"answer\": {\"payload\": \"...\"}}` (a `passphrase` too where "
             "the site requires one), or multipart with files: `answer[files][]` parts (the file push limits: "
             "count, size in total) and optional `answer[payload]`, `answer[passphrase]`. The answer becomes a "
             "push (a file push with files) only the requester opens; the link takes no other answer.",
             responses=error_responses(400, 404, 413, 415, 422, 429), openapi_extra=ANSWER_BODY)
async def post_ask(token: str, request: Request, who: Caller = Depends(caller)):
    if is_multipart(request):
        try:
            await answer_from_multipart(request, who.runtime, who.client, token, MAX_BODY)
        except PushUnavailable:
            raise not_found() from None
        return AnsweredOut()
    body = await read_object_body(request, MAX_BODY)
    fields = body.get("answer", body)
    if not isinstance(fields, dict):
        raise ApiError(400, said(N_("Send the answer as an object: {json}."), json='{"answer": {"payload": "..."}}'))
    payload, passphrase = fields.get("payload", ""), fields.get("passphrase", "")
    if not isinstance(payload, str) or not isinstance(passphrase, str):
        raise invalid({"payload" if not isinstance(payload, str) else "passphrase": N_("Send text.")})
    try:
        await run_in_threadpool(answer_request, who.runtime, token, payload, who.client, passphrase)
    except PushUnavailable:
        raise not_found() from None
    except InvalidPush as error:
        raise invalid(error.errors) from None
    return AnsweredOut()
