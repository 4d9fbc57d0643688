"""Security headers on every response the production server gives, errors included.

SPEC section 7: CSP with frame-ancestors/object-src/base-uri 'none', no-referrer, nosniff,
no-store on anything that may carry a secret, noindex + robots.txt, CORS limited to the site.
"""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

PATHS = [
    "/",  # a page
    "/p/AAAAAAAAAAAAAAAAAAAAAA",  # a secret link (unknown token: same page as a live one)
    "/manage/AAAAAAAAAAAAAAAAAAAAAA",
    "/no/such/page",  # the SPA's 404
    "/api/v2/version",
    "/api/no/such/endpoint",  # the API's JSON 404
    "/robots.txt",
    "/ping",
]


def assert_security_headers(response: httpx.Response, secret_bearing: bool = True) -> None:
    h = response.headers
    csp = h.get("content-security-policy", "")
    for directive in ("frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'", "default-src 'self'"):
        assert directive in csp, f"{response.request.url}: CSP lacks {directive}: {csp!r}"
    assert "'unsafe-inline'" not in re.search(r"script-src ([^;]*)", csp).group(1)
    assert h.get("referrer-policy") == "no-referrer"
    assert h.get("x-content-type-options") == "nosniff"
    assert "noindex" in h.get("x-robots-tag", "") and "nofollow" in h.get("x-robots-tag", "")
    if secret_bearing:
        assert "no-store" in h.get("cache-control", ""), f"{response.request.url} may be cached"
    assert "strict-transport-security" not in h  # plain http: HSTS would be a lie


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_every_response_carries_the_security_headers(live_server, path, method):
    response = httpx.request(method, live_server.url + path)
    assert response.status_code < 500
    assert_security_headers(response)


def test_static_bundles_carry_the_headers_and_may_be_cached(live_server):
    html = httpx.get(live_server.url + "/").text
    asset = re.search(r'(/assets/[^"]+\.js)', html).group(1)
    response = httpx.get(live_server.url + asset)
    assert response.status_code == 200
    assert_security_headers(response, secret_bearing=False)


def _served_build(server) -> Path:
    """The build this server sends: the newest copy in .web/builds/ pointed at its address."""
    builds = [address.parent for address in (server.app_dir / ".web" / "builds").glob("*/served/*/address.json")
              if json.loads(address.read_text())["api_url"] == server.url]
    assert builds, "no build for this server's address"
    return max(builds, key=lambda folder: folder.stat().st_mtime)


def test_inline_scripts_of_the_page_are_allowed_by_hash_only(live_server):
    from pwpush_app.http_security import HASHES_FILE, inline_script_hashes, page_hashes

    served = _served_build(live_server) / "build"
    allowed_by_pages = set(page_hashes(served / "client"))  # read from the pages themselves
    # What the server read at its start instead: recorded when its copy of the pages was made.
    assert set(json.loads((served / HASHES_FILE).read_text())) == allowed_by_pages
    for path in ("/", "/p/AAAAAAAAAAAAAAAAAAAAAA", "/dashboard/"):
        response = httpx.get(live_server.url + path)
        script_src = re.search(r"script-src ([^;]*)", response.headers["content-security-policy"]).group(1)
        allowed = set(re.findall(r"'sha256-([^']+)'", script_src))
        inline = inline_script_hashes(response.text)
        assert inline, f"expected the prerendered page {path} to have inline scripts"
        # Each inline script of the page is allowed, and nothing but the built pages' scripts.
        assert inline <= allowed and allowed == allowed_by_pages, path


def test_robots_txt_disallows_everything(live_server):
    response = httpx.get(live_server.url + "/robots.txt")
    assert response.status_code == 200
    assert "Disallow: /" in response.text


def test_hsts_is_sent_when_the_request_came_over_https_through_a_trusted_proxy(tmp_path):
    from tests.servers import LiveServer, free_port

    # Built on the live_server's frontend build; starting another server costs seconds.
    server = LiveServer(tmp_path / "data", free_port(), {"PWP__TRUSTED_PROXIES": "1"})
    server.start()
    try:
        over_https = httpx.get(server.url + "/", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
        assert "max-age=" in over_https.headers.get("strict-transport-security", "")
        plain = httpx.get(server.url + "/")
        assert "strict-transport-security" not in plain.headers
    finally:
        server.stop()


def test_untrusted_peer_cannot_claim_https(live_server):
    response = httpx.get(live_server.url + "/", headers={"X-Forwarded-Proto": "https"})
    assert "strict-transport-security" not in response.headers


def _websocket_handshake_status(url: str, origin: str) -> int:
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as s:
        s.sendall(
            (
                "GET /_event/?EIO=4&transport=websocket HTTP/1.1\r\n"
                f"Host: {parts.netloc}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                f"Origin: {origin}\r\n\r\n"
            ).encode()
        )
        status_line = s.recv(1024).split(b"\r\n", 1)[0]
    return int(status_line.split()[1])


def test_websocket_from_another_origin_is_refused(live_server):
    assert _websocket_handshake_status(live_server.url, live_server.url) == 101
    assert _websocket_handshake_status(live_server.url, "https://evil.example") == 403


def test_cors_does_not_grant_other_origins(live_server):
    response = httpx.get(live_server.url + "/ping", headers={"Origin": "https://evil.example"})
    assert response.headers.get("access-control-allow-origin") not in ("*", "https://evil.example")
