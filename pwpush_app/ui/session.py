"""Who is logged in, for every page state that needs to know.

The session token travels only in the HttpOnly cookie set by pwpush_app/api/sessions.py.
A login or logout answers with a redirect, so the page reloads and its new websocket
carries the new cookie.  The token is read at each event from the headers of the
websocket that delivered it, and never assigned to state.

Reflex stores the headers it captures at connect in the page's state (router data), and
with several workers that state lives in Redis: the Cookie header there would let anyone
who reads Redis take over the session.  So `keep_cookies_out_of_state` drops the Cookie
header where Reflex builds that router data, and `session_token_of` reads it instead from
the socket.io server's own record of the connection (its handshake environ, kept in this
worker's memory for as long as the socket is open).  An upload is an HTTP request that may
reach another worker than the page's websocket: for the upload's handler the cookie comes
from that request (`UploadCookies`), likewise held in this worker's memory only, until the
handler has read it (at most `UPLOAD_COOKIE_SECONDS`).
"""

from __future__ import annotations

import time
from http.cookies import CookieError, SimpleCookie

import reflex as rx
from reflex_base import constants
from reflex_base.config import get_config

from pwpush_app.core import accounts, login_steps
from pwpush_app.core.models import User
from pwpush_app.ui.common import in_thread, runtime

# The socket.io server and event namespace of this worker (set by keep_cookies_out_of_state).
_connections: dict[str, object] = {}
# Client token -> (Cookie header, until when) of an upload request this worker received.
# The upload's handler runs in a task of its own that may start after the request was
# answered (a small upload is read at once), so the entry waits for it: taken once, or
# dropped after UPLOAD_COOKIE_SECONDS.
_uploads_in_flight: dict[str, tuple[str, float]] = {}
UPLOAD_COOKIE_SECONDS = 60


def keep_cookies_out_of_state(app: rx.App) -> None:
    """Drop the Cookie header from the router data Reflex keeps in every page's state.

    Relies on Reflex 0.10's `EventNamespace._build_static_router_data(sid, environ)` (reflex/
    app.py), which builds a connection's headers once at connect (and again if an event
    finds none cached); tests/scale/test_redis_state.py scans Redis to prove it holds."""
    namespace = app.event_namespace
    if namespace is None or app.sio is None:
        raise RuntimeError("Reflex's event namespace is not set up: is state enabled?")
    build = namespace._build_static_router_data

    def build_without_cookie(sid: str, environ: dict) -> dict:
        data = build(sid, environ)
        headers = data.get(constants.RouteVar.HEADERS)
        if isinstance(headers, dict):
            headers.pop("cookie", None)
        return data

    namespace._build_static_router_data = build_without_cookie
    _connections.update(server=app.sio, namespace=namespace.namespace)


class UploadCookies:
    """ASGI wrapper: an upload request's Cookie header, kept by client token for its handler."""

    def __init__(self, app):
        self.app = app
        self.path = get_config().prepend_backend_path(str(constants.Endpoint.UPLOAD))

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope.get("path", "").rstrip("/") == self.path:
            _forget_stale_uploads()
            headers = {name.lower(): value for name, value in scope.get("headers", [])}
            token = headers.get(b"reflex-client-token", b"").decode("latin-1")
            cookie = headers.get(b"cookie", b"").decode("latin-1")
            if token and cookie:
                _uploads_in_flight[token] = (cookie, time.monotonic() + UPLOAD_COOKIE_SECONDS)
        return await self.app(scope, receive, send)


def _forget_stale_uploads() -> None:
    now = time.monotonic()
    for token, (_cookie, until) in list(_uploads_in_flight.items()):
        if until < now:
            _uploads_in_flight.pop(token, None)


def _cookie_header(state: rx.State) -> str:
    session = state.router.session
    server = _connections.get("server")
    if server is not None and session.session_id:
        environ = server.get_environ(session.session_id, _connections["namespace"])
        if environ is not None:
            return environ.get("HTTP_COOKIE", "")
    # No socket of this tab in this worker: an upload's handler, which runs where its request came in.
    _forget_stale_uploads()
    cookie, _until = _uploads_in_flight.pop(session.client_token, ("", 0.0))
    return cookie


def session_token_of(state: rx.State) -> str | None:
    """The session token of the browser behind this event, read from its own connection."""
    return session_token_in(_cookie_header(state))


def session_token_in(cookie_header: str, name: str | None = None) -> str | None:
    cookies = SimpleCookie()
    try:
        cookies.load(cookie_header or "")
    except CookieError:
        return None
    # The name follows the site's scheme (settings.session_cookie): on https only `__Host-`.
    morsel = cookies.get(name or runtime().settings.session_cookie)
    return morsel.value if morsel else None


def login_step_token_of(state: rx.State) -> str | None:
    """The half-signed-in step's token (core/login_steps.py) of the browser behind this
    event, from its own connection like the session's; never kept in state."""
    return session_token_in(_cookie_header(state), login_steps.cookie_name(runtime().settings))


async def current_user(state: rx.State) -> User | None:
    """The logged-in user behind this event, or None (also when the session ended meanwhile)."""
    token = session_token_of(state)
    if not token:
        return None
    return await in_thread(accounts.user_for_session, runtime(), token)


class AccountState(rx.State):
    """What the header shows: the email of whoever is logged in ("" for nobody), and whether
    they are an administrator (a link only: /admin asks the core at every event)."""

    email: str = ""
    is_admin: bool = False
    checked: bool = False

    @rx.event
    async def refresh(self):
        user = await current_user(self)
        self.email = user.email if user else ""
        self.is_admin = bool(user and user.is_admin)
        self.checked = True
