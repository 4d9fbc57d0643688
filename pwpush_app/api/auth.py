"""Who is calling: the runtime to use, the API token's user (if any) and the audit `Client`.

Tokens arrive as `Authorization: Bearer <token>` (or a bare `Authorization: <token>`) or
the legacy pair `X-User-Email` + `X-User-Token`, which wins when both are sent (the
official CLI sends both), as in Password Pusher; unlike there, the email must be the
token's own.  No credentials: anonymous.  Credentials
that match no user: 401, even where anonymous callers are welcome, so a script with a
revoked token fails loudly instead of creating pushes nobody owns.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool

from pwpush_app.api.errors import ApiError
from pwpush_app.core import links
from pwpush_app.core.accounts import normalize_email, user_for_api_token
from pwpush_app.core.audit import Client
from pwpush_app.core.i18n import N_
from pwpush_app.core.models import User
from pwpush_app.core.network import client_ip
from pwpush_app.core.runtime import Runtime, get_runtime
from pwpush_app.http_security import arrived_over_https


# Dependencies are `async def` where they do no I/O: FastAPI runs a plain `def` dependency
# in the thread pool, and each of those hops costs more than the whole dependency.
async def current_runtime() -> Runtime:
    """The process-wide runtime; tests swap it through `app.dependency_overrides`."""
    return get_runtime()


@dataclass
class Caller:
    runtime: Runtime
    client: Client
    user: User | None
    # Where this caller's links start (links.base_url_for: the configured base URL, or the
    # address this request was sent to).
    base_url: str = ""

    def owns(self, push) -> bool:
        return self.user is not None and push.owner_id == self.user.id

    def require_user(self) -> User:
        if self.user is None:
            raise ApiError(401, N_("This needs an API token: send `Authorization: Bearer <token>`."))
        return self.user


# Authorization schemes that belong to a reverse proxy in front (its own login), not to us.
PROXY_SCHEMES = {"basic", "digest", "negotiate", "ntlm"}


def _presented_token(request: Request) -> tuple[str | None, str | None]:
    """(token, email) from the headers, as Password Pusher reads them: the legacy pair wins
    when both are sent; else `Authorization`'s last word (`Bearer <token>`, or the bare
    token).  A half-sent legacy pair is 401."""
    email = request.headers.get("x-user-email")
    legacy_token = request.headers.get("x-user-token")
    if legacy_token is not None or email is not None:
        if not legacy_token or not email:
            raise ApiError(401, N_("Send both X-User-Email and X-User-Token, or `Authorization: Bearer <token>`."))
        return legacy_token.strip(), email
    authorization = request.headers.get("authorization")
    if authorization is None:
        return None, None
    words = authorization.split()
    if words and words[0].lower() in PROXY_SCHEMES:
        return None, None
    if not words or (len(words) == 1 and words[0].lower() == "bearer"):
        raise ApiError(401, N_("The Authorization header has no token: send `Authorization: Bearer <token>`."))
    return words[-1], None


async def authenticate(request: Request, runtime: Runtime) -> User | None:
    token, email = _presented_token(request)
    if token is None:
        return None
    user = await run_in_threadpool(user_for_api_token, runtime, token)
    if user is None:
        raise ApiError(401, N_("That API token is not valid. Check it, or create a new one."))
    if email is not None and normalize_email(email) != user.email:
        raise ApiError(401, N_("X-User-Email does not match the API token."))
    return user


def request_client(request: Request, runtime: Runtime, user: User | None) -> Client:
    peer = request.client.host if request.client else ""
    return Client(
        ip=client_ip(peer, request.headers.get("x-forwarded-for"), runtime.settings.trusted_proxy_hops,
                     runtime.settings.trusted_proxies),
        user_agent=request.headers.get("user-agent", ""),
        referrer=request.headers.get("referer", ""),
        user_id=user.id if user else None,
    )


async def caller(request: Request, runtime: Runtime = Depends(current_runtime)) -> Caller:
    """FastAPI dependency for every push endpoint."""
    user = await authenticate(request, runtime)
    return Caller(runtime=runtime, client=request_client(request, runtime, user), user=user,
                  base_url=request_base_url(request, runtime))


def request_base_url(request: Request, runtime: Runtime) -> str:
    """The base URL of links in the answer: the address the request was sent to, when no base
    URL is configured and its Host is allowed (links.base_url_for)."""
    settings = runtime.settings
    if settings.base_url_configured:
        return settings.base_url
    scheme = "https" if arrived_over_https(request.scope, settings.trusted_proxy_hops, settings.trusted_proxies) else "http"
    return links.base_url_for(settings, f"{scheme}://{request.headers.get('host', '')}")
