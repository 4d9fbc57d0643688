"""The API in-process (httpx over ASGI, on a fresh runtime) and helpers to make users."""

from __future__ import annotations

import httpx
import pytest

from pwpush_app.api.app import build_api
from pwpush_app.core.accounts import issue_api_token

PEER = "203.0.113.7"
AGENT = "api-tests/1.0"


def asgi_client(runtime, peer: str = PEER) -> httpx.Client:
    """A sync httpx client over the ASGI app; `peer` is the TCP client address the app sees."""
    app = build_api(lambda: runtime)
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    return _SyncOverAsync(transport)


def async_asgi_client(runtime, peer: str = PEER, timeout: float = 60) -> httpx.AsyncClient:
    """An async httpx client over the ASGI app, for requests sent at once on one loop."""
    transport = httpx.ASGITransport(app=build_api(lambda: runtime), client=(peer, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=timeout,
                             headers={"User-Agent": AGENT})


class _SyncOverAsync(httpx.Client):
    """httpx's ASGITransport is async-only; run each request on a private event loop."""

    def __init__(self, transport: httpx.ASGITransport):
        import asyncio

        self._loop = asyncio.new_event_loop()
        self._async = httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                        headers={"User-Agent": AGENT})
        super().__init__(base_url="http://testserver")

    def request(self, method, url, **kwargs):
        return self._loop.run_until_complete(self._async.request(method, url, **kwargs))

    def close(self):
        self._loop.run_until_complete(self._async.aclose())
        self._loop.close()
        super().close()


@pytest.fixture
def api(runtime):
    client = asgi_client(runtime)
    yield client
    client.close()


@pytest.fixture
def make_api(make_runtime):
    clients = []

    def build(**env):
        runtime = make_runtime(**env)
        client = asgi_client(runtime)
        clients.append(client)
        return client, runtime

    yield build
    for client in clients:
        client.close()


@pytest.fixture
def alice(runtime):
    user, token = issue_api_token(runtime, "alice@example.com")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def bob(runtime):
    user, token = issue_api_token(runtime, "bob@example.com")
    return {"Authorization": f"Bearer {token}"}


PUSH_FIELDS = {
    "url_token", "html_url", "json_url", "expired", "deleted", "expired_on", "created_at", "updated_at",
    "expire_after_days", "days_remaining", "expire_after_views", "views_remaining", "deletable_by_viewer",
    "retrieval_step", "passphrase", "kind", "expire_after_minutes", "expires_at",
}


def create(api, headers=None, **fields) -> dict:
    """Create a push through v2 and return its JSON (asserting 201)."""
    fields.setdefault("payload", "s3cret-payload")
    response = api.post("/api/v2/pushes", json={"push": fields}, headers=headers or {})
    assert response.status_code == 201, response.text
    return response.json()
