"""No live credential in any log: a whole push life through deploy/nginx.conf as shipped (TLS,
three workers), with canary passphrases, payloads and every token the service hands out,
then a scan of nginx's access and error logs and the app's log.

A token or a passphrase in a log is a working credential for whoever reads it (log
shippers, support staff, a stolen backup). nginx's access log writes a masked path (map
$pwpush_loggable_uri) and no query string; its error log, whose format can't be changed,
is kept at `crit`; the app masks any path it logs (pwpush_app/log_redaction.py)."""

from __future__ import annotations

import re
import secrets
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from pwpush_app.log_redaction import loggable_path
from tests.scale.conftest import issue_token

# Each part its own loopback address: the scaled server allows 5 creates and 5 reveals a
# minute per client, and the access log names the client, so each test finds its own lines.
CREATOR_IP, RECIPIENT_IP, FILES_IP, PROBE_IP, RULES_IP = "127.0.0.11", "127.0.0.12", "127.0.0.13", "127.0.0.14", "127.0.0.15"


def client_from(scaled, ip: str) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=ip, verify=scaled.nginx.ssl_context())
    return httpx.Client(transport=transport, base_url=scaled.nginx.url, timeout=60)


def nginx_logs(scaled) -> dict[str, Path]:
    folder = scaled.nginx.dir
    return {name: folder / name for name in ("access.log", "site-error.log", "error.log")}


def every_log(scaled) -> dict[str, str]:
    """nginx's access log, the site's error log, nginx's main error log, and the app's log."""
    logs = {name: path.read_text(errors="replace") if path.exists() else "" for name, path in nginx_logs(scaled).items()}
    logs["app"] = scaled.app.log_text()
    return logs


def hits(canaries: dict[str, str], logs: dict[str, str]) -> list[tuple[str, str]]:
    return [(what, log) for what, value in canaries.items() for log, text in logs.items() if value in text]


def access_lines(scaled, ip: str) -> list[str]:
    return [line for line in nginx_logs(scaled)["access.log"].read_text().splitlines() if f" {ip} " in line]


def raw_request(scaled, ip: str, head: str) -> int:
    """Send a request head by hand (a body nginx must refuse without reading it) and return the status."""
    parts = urlsplit(scaled.nginx.url)
    raw = socket.create_connection((parts.hostname, parts.port), timeout=10, source_address=(ip, 0))
    with scaled.nginx.ssl_context().wrap_socket(raw, server_hostname=parts.hostname) as s:
        s.sendall(head.replace("\n", "\r\n").encode())
        status_line = s.recv(1024).split(b"\r\n", 1)[0]
    return int(status_line.split()[1])


def test_a_push_life_through_nginx_leaves_no_token_or_passphrase_in_any_log(scaled):
    run = secrets.token_hex(4)
    api_token = issue_token(scaled.app, f"logs-{run}@example.com")
    owner = {"Authorization": f"Bearer {api_token}"}
    canaries = {
        "api token": api_token,
        "passphrase (sent as ?passphrase= and as X-Passphrase)": f"pp-{run}-canary",
        "a wrong passphrase": f"pp-wrong-{run}-canary",
        "payload": f"payload-{run}-canary",
        "note": f"note-{run}-canary",
        "file name": f"file-{run}-canary.txt",
        "file content": f"file-content-{run}-canary",
        "unknown token": secrets.token_urlsafe(16),
    }
    passphrase = canaries["passphrase (sent as ?passphrase= and as X-Passphrase)"]

    with client_from(scaled, CREATOR_IP) as creator, client_from(scaled, RECIPIENT_IP) as recipient, \
            client_from(scaled, FILES_IP) as files:
        # Create (JSON body, the passphrase set in it), then each way of reading it.
        created = creator.post("/api/v2/pushes", headers=owner, json={"push": {
            "payload": canaries["payload"], "note": canaries["note"], "passphrase": passphrase,
            "expire_after_views": 5}})
        assert created.status_code == 201, created.text
        token = created.json()["url_token"]
        manage_token = created.json()["manage_url"].rsplit("/", 1)[1]
        canaries |= {"link token": token, "manage token": manage_token}
        # The passphrase in the X-Passphrase header, and in the query (Password Pusher's CLI).
        assert recipient.get(f"/api/v2/pushes/{token}", headers={"X-Passphrase": passphrase}).json()["payload"] == canaries["payload"]
        assert recipient.get(f"/api/v2/pushes/{token}", params={"passphrase": passphrase}).status_code == 200
        assert recipient.get(f"/p/{token}.json", params={"passphrase": passphrase}).status_code == 200
        wrong = recipient.get(f"/api/v2/pushes/{token}", params={"passphrase": canaries["a wrong passphrase"]})
        assert wrong.status_code == 401
        assert recipient.get(f"/api/v2/pushes/{token}/preview").status_code == 200
        assert recipient.get(f"/p/{token}/preview.json").status_code == 200
        assert creator.get(f"/api/v2/pushes/{token}/audit", headers=owner).status_code == 200
        assert creator.get(f"/p/{token}/audit.json", headers=owner).status_code == 200
        # The pages: the secret link and the manage link, as a browser first fetches them.
        assert recipient.get(f"/p/{token}").status_code == 200
        assert creator.get(f"/manage/{manage_token}").status_code == 200
        # A link typed as http:// with the passphrase in it: redirected, and logged as safely.
        with httpx.Client(transport=httpx.HTTPTransport(local_address=RECIPIENT_IP)) as plain_http:
            plain = plain_http.get(f"http://127.0.0.1:{scaled.nginx.http_port}/p/{token}", params={"passphrase": passphrase})
        assert plain.status_code == 301

        # A file push: its download grant is a credential too.
        filed = files.post("/api/v2/pushes", headers=owner, data={"push[expire_after_views]": "2"},
                           files={"push[files][]": (canaries["file name"], canaries["file content"].encode(), "text/plain")})
        assert filed.status_code == 201, filed.text
        file_token = filed.json()["url_token"]
        (listed,) = files.get(f"/api/v2/pushes/{file_token}").json()["files"]
        grant = listed["url"].rsplit("/", 2)[1]
        canaries |= {"file push token": file_token, "download grant": grant}
        download = files.get(listed["url"].removeprefix(scaled.nginx.url))
        assert download.status_code == 200 and download.content == canaries["file content"].encode()

        # Error paths: an unknown token, a wrong method, and a body over nginx's limit, which
        # nginx refuses itself (and would describe, request line and all, in its error log).
        assert recipient.get(f"/api/v2/pushes/{canaries['unknown token']}", params={"passphrase": passphrase}).status_code == 404
        assert recipient.put(f"/p/{token}.json", params={"passphrase": passphrase}).status_code == 405
        too_big = raw_request(scaled, RECIPIENT_IP, f"DELETE /p/{token}.json?passphrase={passphrase} HTTP/1.1\n"
                              f"Host: 127.0.0.1\nContent-Length: {200 * 1024 * 1024}\nConnection: close\n\n")
        assert too_big == 413

        # Expire both: the owner's delete in each dialect.
        assert creator.delete(f"/api/v2/pushes/{token}", headers=owner).json()["expired"] is True
        assert files.delete(f"/p/{file_token}.json", headers=owner).json()["expired"] is True

    time.sleep(0.5)  # let the last lines reach the files
    logs = every_log(scaled)
    found = hits(canaries, logs)
    assert found == [], found
    assert "passphrase=" not in logs["access.log"]

    # The access log is still readable: what happened, with the tokens masked.
    mine = "\n".join(access_lines(scaled, RECIPIENT_IP) + access_lines(scaled, CREATOR_IP) + access_lines(scaled, FILES_IP))
    for expected in ('"GET /api/v2/pushes/<token> HTTP/1.1" 200', '"GET /api/v2/pushes/<token> HTTP/1.1" 401',
                     '"GET /p/<token>.json HTTP/1.1" 200', '"GET /p/<token>/preview.json HTTP/1.1" 200',
                     '"GET /api/v2/pushes/<token>/audit HTTP/1.1" 200', '"GET /manage/<token> HTTP/1.1" 200',
                     '"GET /d/<token>/0 HTTP/1.1" 200', '"PUT /p/<token>.json HTTP/1.1" 405',
                     '"DELETE /p/<token>.json HTTP/1.1" 413', '"DELETE /api/v2/pushes/<token> HTTP/1.1" 200',
                     '"POST /api/v2/pushes HTTP/1.1" 201', '"GET /p/<token> HTTP/1.1" 301'):
        assert expected in mine, (expected, mine)


def test_the_scan_finds_a_canary_that_reaches_a_log(scaled):
    """Control: the same scan over the same files finds a value that nginx does log."""
    planted = secrets.token_hex(4)  # 8 characters: too short to pass for a token, so logged as sent
    with client_from(scaled, PROBE_IP) as probe:
        probe.get(f"/log-control/{planted}")
    time.sleep(0.5)
    assert hits({"planted": planted}, every_log(scaled)) == [("planted", "access.log")]
    assert f'"GET /log-control/{planted} HTTP/1.1" ' in "\n".join(access_lines(scaled, PROBE_IP))
    assert scaled.app.log_text()  # and the app's log, scanned the same way, is the file the server writes


def test_nginx_masks_paths_by_the_apps_rules(scaled):
    """deploy/nginx.conf's map and pwpush_app/log_redaction.py are one rule written twice:
    the same paths through nginx come out of its access log as the app would log them."""
    token = secrets.token_urlsafe(16)
    paths = [
        f"/p/{token}", f"/p/{token}.json", f"/p/{token}/preview.json", f"/p/{token}/audit.json",
        f"/manage/{token}", f"/d/{token}/0", f"/d/{token}/12", f"/api/v2/pushes/{token}",
        f"/api/v2/pushes/{token}/preview", f"/api/v2/pushes/{token}/audit", f"/api/v1/pushes/{token}",
        "/p/short", f"/p/{token}/{token}", f"/en/p/{token}", f"/x/{token}/y/{token}", f"/f/{token}.json",
        "/p/active.json", "/p/expired.json", "/api/v2/pushes/active", "/api/v2/pushes/expired",
        "/api/v2/version", "/my-pushes", "/", "/ping", "/assets/_p_.__token_._index-C-k3RLAK.js",
        f"/assets/{token}", f"/assets/x/{token}", f"/prefix-{token}-suffix/z",
    ]
    with client_from(scaled, RULES_IP) as probe:
        for path in paths:
            probe.get(path, params={"passphrase": "x"})
    time.sleep(0.5)
    logged = [re.search(r'"GET (\S*) HTTP/1\.1"', line).group(1) for line in access_lines(scaled, RULES_IP)]
    assert logged == [loggable_path(path) for path in paths]
    assert not any(token in line for line in logged)
    assert logged[0] == "/p/<token>" and logged[-1] == "/<token>/..."
