"""Who a page event's visitor is: the pages resolve the client as the JSON API does
(core/network.client_ip, from the socket's peer and X-Forwarded-For), with a list of proxy
networks (Password Pusher's PWP__TRUSTED_PROXIES) as with a number of hops.

The router data is built by Reflex's own code (the app's event namespace, under this
project's rxconfig), as at a websocket connect: no browser, no server.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from pwpush_app.settings import load_settings
from pwpush_app.ui import common
from tests.servers import make_env

PROXY, OUTSIDER = "10.0.0.5", "198.51.100.7"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def app():
    import pwpush_app.pwpush_app as assembly

    return assembly.app


def page_state(app, peer: str, forwarded_for: str | None):
    """A page's root state as an event finds it, after a websocket connect from `peer`."""
    from reflex.state import State

    headers = [(b"user-agent", b"tests/1")]
    if forwarded_for is not None:
        headers.append((b"x-forwarded-for", forwarded_for.encode()))
    environ = {"asgi.scope": {"type": "websocket", "client": (peer, 40000), "headers": headers},
               "REMOTE_ADDR": "127.0.0.1"}  # (what python-engineio always writes there)
    router_data = app.event_namespace._build_static_router_data("sid-1", environ)
    root = State(_reflex_internal_init=True)
    root._update_router_vars({**router_data, "token": "tab-1"}, {})
    return root


def settings_with(monkeypatch, tmp_path, **env):
    settings = load_settings(make_env(tmp_path / "data", **env))
    monkeypatch.setattr(common, "runtime", lambda: SimpleNamespace(settings=settings))
    return settings


@pytest.mark.parametrize("trusted", ["10.0.0.0/8", "10.0.0.0/8, 192.168.0.0/16", "1"])
def test_a_visitor_behind_the_trusted_proxy_is_the_visitor(app, monkeypatch, tmp_path, trusted):
    settings_with(monkeypatch, tmp_path, PWP__TRUSTED_PROXIES=trusted)
    assert common.client_of(page_state(app, PROXY, OUTSIDER)).ip == OUTSIDER
    # Two visitors through the same proxy are two clients (a lock-out of one is not the other's).
    assert common.client_of(page_state(app, PROXY, "192.0.2.44")).ip == "192.0.2.44"


def test_a_list_of_proxies_ignores_a_forged_header_from_outside_them(app, monkeypatch, tmp_path):
    settings_with(monkeypatch, tmp_path, PWP__TRUSTED_PROXIES="10.0.0.0/8")
    # Straight from outside the list: the header is the visitor's own writing.
    assert common.client_of(page_state(app, OUTSIDER, "10.1.2.3")).ip == OUTSIDER
    # Through the proxy, a forged address to the left of what the proxy saw counts for nothing.
    assert common.client_of(page_state(app, PROXY, f"10.1.2.3, {OUTSIDER}")).ip == OUTSIDER


def test_without_a_trusted_proxy_the_header_is_ignored(app, monkeypatch, tmp_path):
    settings_with(monkeypatch, tmp_path)
    assert common.client_of(page_state(app, OUTSIDER, "10.1.2.3")).ip == OUTSIDER
    assert common.client_of(page_state(app, OUTSIDER, None)).ip == OUTSIDER


def test_the_pages_and_the_api_agree(app, monkeypatch, tmp_path):
    """One rule, two doors: the address the API resolves for a request is the page's."""
    from starlette.requests import Request

    from pwpush_app.api.auth import request_client

    for trusted in ("10.0.0.0/8", "2", ""):
        settings = settings_with(monkeypatch, tmp_path, PWP__TRUSTED_PROXIES=trusted)
        for peer, forwarded in ((PROXY, OUTSIDER), (PROXY, f"203.0.113.9, 10.2.2.2, {OUTSIDER}"), (OUTSIDER, "10.9.9.9")):
            request = Request({"type": "http", "client": (peer, 40000),
                               "headers": [(b"x-forwarded-for", forwarded.encode())]})
            api = request_client(request, SimpleNamespace(settings=settings), None).ip
            assert common.client_of(page_state(app, peer, forwarded)).ip == api, (trusted, peer, forwarded)


def test_reflex_is_told_no_proxy_hops(tmp_path):
    """Reflex's own X-Forwarded-For handling (trusted_proxy_hops) stays off whatever
    PWP__TRUSTED_PROXIES says: the session's client_ip it keeps is then the socket's peer,
    which client_of hands to the core's rule (applied twice, hops would skip real proxies)."""
    env = {**os.environ, **make_env(tmp_path / "data", PWP__TRUSTED_PROXIES="2")}
    hops = subprocess.run([sys.executable, "-c", "import rxconfig; print(rxconfig.config.trusted_proxy_hops)"],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert hops.stdout.strip() == "0", hops.stderr[-2000:]
