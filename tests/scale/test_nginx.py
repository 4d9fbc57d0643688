"""deploy/nginx.conf, as shipped, run by Debian's nginx in front of the scaled server:
pages, the WebSocket upgrade, the client's address in the audit, and no forged addresses."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from tests.scale.conftest import issue_token

# The whole of 127.0.0.0/8 is loopback: a client bound to 127.0.0.2 is told apart from
# nginx, which reaches the app from 127.0.0.1.
CLIENT_IP = "127.0.0.2"
FORGED_IP = "203.0.113.99"


@pytest.fixture
def client(scaled):
    transport = httpx.HTTPTransport(local_address=CLIENT_IP, verify=scaled.nginx.ssl_context())
    with httpx.Client(transport=transport, base_url=scaled.nginx.url, timeout=30) as c:
        yield c


def test_home_page_loads_through_nginx_over_tls(scaled, client):
    home = client.get("/")
    assert home.status_code == 200 and "<html" in home.text.lower()
    # The app trusts nginx's X-Forwarded-Proto: https, so it asks browsers to stay on TLS.
    assert "max-age=" in home.headers.get("strict-transport-security", "")
    assert client.get("/ping").status_code == 200


def test_a_page_redirect_stays_on_tls_and_the_public_port(scaled, client):
    # /login is served as /login/ (the static build): the redirect must not drop to http://
    # or lose nginx's port (both happened: `http://127.0.0.1/login/`).
    answer = client.get("/login", follow_redirects=False)
    assert answer.status_code == 307
    assert urljoin(f"{scaled.nginx.url}/login", answer.headers["location"]) == f"{scaled.nginx.url}/login/"
    assert client.get("/login", follow_redirects=True).status_code == 200


def test_plain_http_redirects_to_tls(scaled):
    answer = httpx.get(f"http://127.0.0.1:{scaled.nginx.http_port}/p/abc", follow_redirects=False)
    assert answer.status_code == 301 and answer.headers["location"].startswith("https://")


def _websocket_status(scaled, origin: str) -> int:
    parts = urlsplit(scaled.nginx.url)
    raw = socket.create_connection((parts.hostname, parts.port), timeout=10, source_address=(CLIENT_IP, 0))
    with scaled.nginx.ssl_context().wrap_socket(raw, server_hostname=parts.hostname) as s:
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


def test_websocket_upgrade_on_event_passes_through_nginx(scaled):
    assert _websocket_status(scaled, scaled.nginx.url) == 101
    assert _websocket_status(scaled, "https://evil.example") == 403


def test_audit_records_the_clients_address_and_ignores_a_forged_one(scaled, client):
    owner = {"Authorization": f"Bearer {issue_token(scaled.app, 'nginx@example.com')}"}
    forged = {"X-Forwarded-For": FORGED_IP, "User-Agent": "behind-nginx/1"}
    created = client.post("/api/v2/pushes", headers={**owner, **forged},
                          json={"push": {"payload": "via nginx", "expire_after_views": 1}})
    assert created.status_code == 201, created.text
    token = created.json()["url_token"]
    assert created.json()["html_url"] == f"{scaled.nginx.url}/p/{token}"
    shown = client.get(f"/api/v2/pushes/{token}", headers=forged)
    assert shown.json()["payload"] == "via nginx"

    logs = client.get(f"/api/v2/pushes/{token}/audit", headers=owner).json()["logs"]
    by_kind = {row["kind"]: row for row in logs}
    assert by_kind["creation"]["ip"] == CLIENT_IP
    assert by_kind["view"]["ip"] == CLIENT_IP and by_kind["view"]["user_agent"] == "behind-nginx/1"
    assert FORGED_IP not in str(logs)


def test_body_limit_is_enforced_by_nginx(scaled, client):
    # 101m in deploy/nginx.conf: a larger body is refused before it reaches the app.
    too_big = client.post("/api/v2/pushes", content=b"x" * (102 * 1024 * 1024),
                          headers={"Content-Type": "application/octet-stream"})
    assert too_big.status_code == 413


def test_the_app_listens_on_loopback_only(scaled):
    """Started with --backend-host 127.0.0.1 (as deploy/pwpush.service does): only nginx is public."""
    listening = subprocess.run(["ss", "-tlnH", f"( sport = :{scaled.app.port} )"], capture_output=True, text=True,
                               check=True).stdout.split("\n")
    addresses = {line.split()[3].rsplit(":", 1)[0] for line in listening if line.strip()}
    assert addresses == {"127.0.0.1"}, listening


def _files_open_by(pids: list[int], under: str) -> list[str]:
    """Files under `under` that these processes hold open (nginx unlinks its temp files at
    once, so a directory listing would show nothing: /proc/<pid>/fd still reaches them)."""
    found = []
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith(under):
                found.append(str(fd))
    return found


def test_a_slow_download_is_never_spooled_to_nginx_temp_folder(scaled):
    """A download is the decrypted file: with nginx's default buffering, a client that reads
    slowly made nginx write the rest of it to its temp folder, in plaintext."""
    owner = {"Authorization": f"Bearer {issue_token(scaled.app, 'slow-download@example.com')}"}
    canary = b"SPOOL-CANARY-0c7d1e" * 440_000  # ~8 MiB, far past nginx's memory buffers
    transport = httpx.HTTPTransport(local_address="127.0.0.16", verify=scaled.nginx.ssl_context())
    with httpx.Client(transport=transport, base_url=scaled.nginx.url, timeout=60) as c:
        created = c.post("/api/v2/pushes", headers=owner, files={"push[files][]": ("big.bin", canary, "application/octet-stream")})
        assert created.status_code == 201, created.text
        (listed,) = c.get(f"/api/v2/pushes/{created.json()['url_token']}").json()["files"]
    parts = urlsplit(scaled.nginx.url)
    raw = socket.create_connection((parts.hostname, parts.port), timeout=30, source_address=("127.0.0.16", 0))
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    with scaled.nginx.ssl_context().wrap_socket(raw, server_hostname=parts.hostname) as s:
        s.sendall(f"GET {urlsplit(listed['url']).path} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode())
        assert s.recv(1024).startswith(b"HTTP/1.1 200")
        time.sleep(3)  # a stalled reader: nginx has read what it may from the app by now
        workers = [int(p) for p in subprocess.run(["pgrep", "-P", str(scaled.nginx.process.pid)],
                                                 capture_output=True, text=True).stdout.split()]
        temp = str(scaled.nginx.dir / "proxy")
        held = _files_open_by(workers, temp)
        spooled = [f for f in held if canary[:19] in Path(f).read_bytes()]
        on_disk = [p for p in Path(temp).rglob("*") if p.is_file()]
    assert workers
    assert (spooled, held, on_disk) == ([], [], [])
