"""Every API error is JSON: one shape, a message a person can act on, never a traceback.

`{"error": message}` for every refusal (the CLI prints `error`); validation failures add
each field's messages at the top level (`"payload": ["..."]`), as Password Pusher's 422s
have them.  Bodies are `application/json; charset=utf-8`, as there.

Languages: a request with `Accept-Language` or `?locale=` gets its messages in the language
the pages would pick for it (core/i18n.py); one without gets English, as always.  Keys,
machine codes ("not-found"), status codes and shapes never change.  The language is looked
at only when answering an error: a success costs nothing.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any, Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from pwpush_app.core.db import DatabaseUnavailable
from pwpush_app.core.errors import AccountRequired, ServerBusy
from pwpush_app.core.i18n import N_, choose_locale, in_language, said, text_of
from pwpush_app.core.throttle import RateLimited
from pwpush_app.log_redaction import loggable_path

log = logging.getLogger("pwpush.api")

NOT_FOUND = {"error": "not-found"}
NO_STORE = {"Cache-Control": "no-store"}


class ApiError(Exception):
    """A refusal with its HTTP status; raised anywhere in the API, answered as JSON."""

    def __init__(self, status: int, message: str, errors: dict[str, list[str]] | None = None,
                 headers: dict[str, str] | None = None, extra: dict | None = None):
        self.status = status
        self.message = message
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra or {}
        super().__init__(message)

    def body(self, language: str | None = None) -> dict:
        if language is None or language == "en":
            return {"error": self.message, **(self.errors or {}), **self.extra}
        extra = {k: in_language(language, v) if k == "message" and isinstance(v, str) else v
                 for k, v in self.extra.items()}
        if not self.errors:
            return {"error": in_language(language, self.message), **extra}
        errors = {field: [in_language(language, m) for m in messages] for field, messages in self.errors.items()}
        return {"error": _summary(m for messages in errors.values() for m in messages), **errors, **extra}


def not_found() -> ApiError:
    return ApiError(404, NOT_FOUND["error"])


def invalid(errors: dict[str, str]) -> ApiError:
    """422 with each field's message, and all of them joined in `error`."""
    return ApiError(422, _summary(errors.values()), {field: [message] for field, message in errors.items()})


def _summary(messages) -> str:
    return " ".join(message if message.endswith((".", "。", "۔", "।")) else message + "." for message in messages)


JSON_UTF8 = "application/json; charset=utf-8"


class NoStoreJSON(JSONResponse):
    """Every API answer may carry a secret or a secret link: none may be cached."""

    media_type = JSON_UTF8

    def __init__(self, content, status_code: int = 200, headers: dict[str, str] | None = None, **kwargs):
        super().__init__(content, status_code=status_code, headers={**NO_STORE, **(headers or {})}, **kwargs)


def json_error(status: int, body: dict, headers: dict[str, str] | None = None) -> JSONResponse:
    return NoStoreJSON(body, status_code=status, headers=headers)


def is_api_path(path: str) -> bool:
    """Paths this API answers; everything else belongs to the Reflex app mounted beneath."""
    return path.startswith(("/api/", "/d/")) or path == "/api" or path.endswith(".json")


def asked_language(request: Request, pages) -> str | None:
    """The language the pages would pick for this request (`?locale=`, Accept-Language); None
    (English, as always) when it asks for none."""
    asked, header = request.query_params.get("locale"), request.headers.get("accept-language")
    if not asked and not header:
        return None
    return choose_locale(query=asked, remembered=None, accept_language=header, default=pages.default_locale,
                         enabled=pages.enabled_languages)


# pydantic's own words stay for English (as they always read); another language gets these,
# chosen by the failure's type, with pydantic's limits as values.
VALIDATION_WORDS = {
    "missing": N_("This field is required."),
    "int_parsing": N_("Send a whole number."), "int_type": N_("Send a whole number."),
    "int_from_float": N_("Send a whole number."),
    "bool_parsing": N_("Send true or false."), "bool_type": N_("Send true or false."),
    "string_type": N_("Send text."),
    "string_too_long": N_("Send at most {max_length} characters."),
    "greater_than_equal": N_("Send a number of at least {ge}."),
    "less_than_equal": N_("Send a number of at most {le}."),
}


def _validation_words(item: dict, language: str | None) -> str:
    if language is None:
        return str(item.get("msg", "is not valid"))
    template = VALIDATION_WORDS.get(item.get("type", ""), N_("This value is not valid."))
    context = {name: value for name, value in (item.get("ctx") or {}).items() if isinstance(value, (int, str))}
    return in_language(language, said(template, **context))


# PostgreSQL takes no NUL in a text value, and psycopg refuses a query with one (DataError).
# The core keeps NUL out of every query it knows of (addresses, ids, searches); this answers
# any other: the client's text is refused, and nothing was changed.
NUL_REFUSED = N_("Text with a NUL character (U+0000) is not accepted.")


def nul_refused(error: BaseException) -> bool:
    """Whether `error` is PostgreSQL's refusal of a NUL character a client sent."""
    return isinstance(error, DataError) and "NUL (0x00)" in str(error.orig)


def install_error_handlers(api: FastAPI, runtime_of: Callable[[], Any]) -> None:
    """`runtime_of`: the runtime the routes use (its settings say which languages this site speaks)."""
    async def language(request: Request) -> str | None:
        if not request.query_params.get("locale") and not request.headers.get("accept-language"):
            return None
        runtime = runtime_of()
        return asked_language(request, (await runtime if inspect.isawaitable(runtime) else runtime).settings.pages)

    async def said(request: Request, status: int, message: str, headers: dict[str, str] | None = None):
        return json_error(status, {"error": in_language(await language(request), message)}, headers)

    @api.exception_handler(ApiError)
    async def _api_error(request: Request, error: ApiError):
        return json_error(error.status, error.body(await language(request)), error.headers)

    @api.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, error: RequestValidationError):
        asked = await language(request)
        errors: dict[str, list[str]] = {}
        for item in error.errors():
            field = ".".join(str(part) for part in item.get("loc", ())[1:]) or "request"
            errors.setdefault(field, []).append(_validation_words(item, asked))
        summary = _summary(f"{field}: {'; '.join(msgs)}" for field, msgs in errors.items())
        return json_error(422, {"error": summary, **errors})

    @api.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException):
        # The Reflex app is mounted inside this one: its own 404s stay HTML.
        if not is_api_path(request.url.path):
            return PlainTextResponse(str(error.detail), status_code=error.status_code, headers=error.headers)
        if error.status_code == 404:
            return json_error(404, NOT_FOUND)
        return json_error(error.status_code, {"error": str(error.detail)}, error.headers)

    @api.exception_handler(AccountRequired)
    async def _account_required(request: Request, error: AccountRequired):
        return await said(request, 401, text_of(error))

    @api.exception_handler(RateLimited)
    async def _rate_limited(request: Request, error: RateLimited):
        return await said(request, 429, text_of(error), {"Retry-After": str(error.retry_after_seconds)})

    @api.exception_handler(ServerBusy)
    async def _busy(request: Request, error: ServerBusy):
        if isinstance(error, DatabaseUnavailable):
            log.warning("database unavailable: %s", error)
            message = N_("The database is busy or unreachable; nothing was changed. Try again shortly.")
        else:
            log.warning("busy: %s", error)
            message = N_("The server is busy right now; nothing was changed. Try again shortly.")
        return await said(request, 503, message, {"Retry-After": str(error.retry_after_seconds)})

    @api.exception_handler(Exception)
    async def _last_resort(request: Request, error: Exception):
        # Log the type only: a traceback's locals could hold a secret; and the path with its
        # tokens masked (a link token or download grant in it is a live credential).
        log.error("unexpected %s on %s %s", type(error).__name__, request.method, loggable_path(request.url.path))
        if not is_api_path(request.url.path):
            return PlainTextResponse("Internal Server Error", status_code=500)
        return await said(request, 500, N_("Something went wrong on the server; nothing secret was exposed. Try again."))

    @api.exception_handler(DataError)
    async def _data_error(request: Request, error: DataError):
        if not nul_refused(error):
            return await _last_resort(request, error)
        log.warning("refused a NUL character on %s %s", request.method, loggable_path(request.url.path))
        if not is_api_path(request.url.path):
            return PlainTextResponse(in_language(await language(request), NUL_REFUSED), status_code=400)
        return await said(request, 400, NUL_REFUSED)
