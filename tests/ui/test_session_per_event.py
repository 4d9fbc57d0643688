"""The session cookie stays out of page state: Reflex's router data is built without it, and
each event reads it from its own connection (or, for an upload's handler, its own request).

tests/scale/test_redis_state.py checks the whole of it end to end: a scan of Redis after a
scripted session on several workers finds neither the session token nor a manage token.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from pwpush_app.settings import SESSION_COOKIE, load_settings
from pwpush_app.ui import session
from tests.servers import make_env


@pytest.fixture(scope="module")
def app():
    import pwpush_app.pwpush_app as assembly

    return assembly.app


@pytest.fixture(autouse=True)
def plain_http_site(monkeypatch, tmp_path):
    """The pages' settings (the cookie's name: plain on an http site)."""
    settings = load_settings(make_env(tmp_path / "data"))
    assert settings.session_cookie == SESSION_COOKIE
    monkeypatch.setattr(session, "runtime", lambda: SimpleNamespace(settings=settings))


def _page_state(sid: str, client_token: str):
    """A page's state as an event finds it: router data from its websocket (no cookie)."""
    from reflex.state import State

    from pwpush_app.ui.session import AccountState

    root = State(_reflex_internal_init=True)
    root._update_router_vars({"token": client_token, "sid": sid, "ip": "203.0.113.7",
                              "headers": {"user-agent": "tests/1"}}, {})
    return root.substates[AccountState.get_name()]


class FakeSocketServer:
    """socket.io's record of the connections this worker holds: sid -> handshake environ."""

    def __init__(self, environs: dict[str, dict]):
        self.environs = environs

    def get_environ(self, sid, namespace=None):
        return self.environs.get(sid)


def test_router_data_kept_in_state_has_no_cookie(app):
    environ = {
        "asgi.scope": {"headers": [(b"cookie", f"{SESSION_COOKIE}=canary-session".encode()),
                                   (b"user-agent", b"tests/1")], "client": ("203.0.113.7", 40000)},
        "HTTP_COOKIE": f"{SESSION_COOKIE}=canary-session",
    }
    router_data = app.event_namespace._build_static_router_data("sid-1", environ)
    assert "cookie" not in router_data["headers"]
    assert "canary-session" not in repr(router_data)
    assert router_data["headers"]["user-agent"] == "tests/1" and router_data["ip"] == "203.0.113.7"


def test_each_event_reads_the_cookie_of_its_own_connection(app, monkeypatch):
    server = FakeSocketServer({"sid-a": {"HTTP_COOKIE": f"theme=dark; {SESSION_COOKIE}=token-of-a"}, "sid-b": {}})
    monkeypatch.setitem(session._connections, "server", server)
    assert session.session_token_of(_page_state("sid-a", "tab-a")) == "token-of-a"
    assert session.session_token_of(_page_state("sid-b", "tab-b")) is None  # connected, not logged in
    assert session.session_token_of(_page_state("sid-gone", "tab-c")) is None  # nothing known here


def test_an_upload_handler_reads_the_cookie_of_its_own_request(app, monkeypatch):
    """An upload may reach another worker than the page's websocket: its handler then finds
    the session in the upload request. The handler runs in a task of its own, which may start
    after a small upload was already answered: the cookie waits for it, and is taken once."""
    monkeypatch.setitem(session._connections, "server", FakeSocketServer({}))  # the socket lives elsewhere
    state = _page_state("sid-elsewhere", "tab-uploading")

    async def upload_endpoint(scope, receive, send):
        pass  # Reflex answers at once and runs the handler later

    scope = {"type": "http", "path": "/_upload", "headers": [
        (b"reflex-client-token", b"tab-uploading"), (b"cookie", f"{SESSION_COOKIE}=token-of-uploader".encode())]}
    asyncio.run(session.UploadCookies(upload_endpoint)(scope, None, None))
    assert session.session_token_of(_page_state("sid-elsewhere", "another-tab")) is None
    assert session.session_token_of(state) == "token-of-uploader"
    assert session.session_token_of(state) is None  # taken once
    assert session._uploads_in_flight == {}
