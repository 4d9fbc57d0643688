"""The API on the real server (`python -m pwpush_app serve`): the mount, JSON 404s, a scenario, the CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT


def issue_token(live_server, email: str) -> str:
    done = subprocess.run([sys.executable, "-m", "pwpush_app", "create-token", email], cwd=ROOT,
                          env=live_server.env, capture_output=True, text=True, timeout=120, check=True)
    return done.stdout.strip()


def test_api_is_mounted_on_the_apps_port_and_pages_still_work(live_server):
    version = httpx.get(f"{live_server.url}/api/v2/version")
    assert version.status_code == 200 and version.json()["api_version"] == "2.1"
    assert httpx.get(f"{live_server.url}/api/v1/version").json()["api_version"] == "1.5"
    home = httpx.get(live_server.url)
    assert home.status_code == 200 and "<html" in home.text.lower()


def test_unknown_api_paths_are_json_not_the_spa(live_server):
    for path in ("/api/nope", "/api/v2/pushes/AAAAAAAAAAAAAAAAAAAAAA", "/p/nope/extra.json",
                 "/p/AAAAAAAAAAAAAAAAAAAAAA.json"):
        response = httpx.get(f"{live_server.url}{path}")
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/json; charset=utf-8"
        assert response.json() == {"error": "not-found"}
    wrong_method = httpx.post(f"{live_server.url}/api/v2/version")
    assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "GET"
    assert wrong_method.headers["content-type"] == "application/json; charset=utf-8"


def test_docs_and_openapi_are_served(live_server):
    assert "/api/v2/pushes" in httpx.get(f"{live_server.url}/api/openapi.json").json()["paths"]
    page = httpx.get(f"{live_server.url}/api/docs")
    assert page.status_code == 200 and "/api/docs/docs-init.js" in page.text
    assert httpx.get(f"{live_server.url}/api/docs/swagger-ui-bundle.js").status_code == 200


def test_full_scenario_over_http(live_server):
    base = live_server.url
    owner = {"Authorization": f"Bearer {issue_token(live_server, 'live@example.com')}"}
    created = httpx.post(f"{base}/p.json", content=b"password[payload]=live%20secret&password[expire_after_views]=1",
                         headers={**owner, "Content-Type": "application/x-www-form-urlencoded"})
    assert created.status_code == 201, created.text
    token = created.json()["url_token"]
    assert created.json()["html_url"] == f"{base}/p/{token}"
    assert httpx.get(f"{base}/api/v2/pushes/{token}/preview").json() == {"url": f"{base}/p/{token}"}
    shown = httpx.get(f"{base}/api/v2/pushes/{token}", headers={"User-Agent": "live-viewer/2"})
    assert shown.json()["payload"] == "live secret" and shown.json()["views_remaining"] == 0
    gone = httpx.get(f"{base}/p/{token}.json")
    assert gone.status_code == 200 and gone.json()["payload"] is None
    logs = httpx.get(f"{base}/api/v2/pushes/{token}/audit", headers=owner).json()["logs"]
    views = [row for row in logs if row["kind"] == "view"]
    assert len(views) == 1 and views[0]["ip"] == "127.0.0.1" and views[0]["user_agent"] == "live-viewer/2"
    assert "failed_view" in [row["kind"] for row in logs]


def _find_cli() -> str | None:
    candidates = [os.environ.get("PWPUSH_CLI"), shutil.which("pwpush"), str(Path(sys.executable).parent / "pwpush"),
                  "/tmp/cli-venv/bin/pwpush"]
    return next((c for c in candidates if c and Path(c).is_file()), None)


def test_official_cli_push_list_audit_expire(live_server, tmp_path):
    cli = _find_cli()
    if cli is None:
        pytest.skip("the official `pwpush` CLI is not installed (pip install pwpush, or set PWPUSH_CLI)")
    token = issue_token(live_server, "cli-test@example.com")
    url = live_server.url.replace("localhost", "127.0.0.1")
    # The CLI keeps its config under XDG_CONFIG_HOME: give it a private one.
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"), "HOME": str(tmp_path), "NO_COLOR": "1",
           "COLUMNS": "200"}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([cli, *args], env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)

    assert run("config", "set", "url", url).returncode == 0
    login = run("login", "--url", url, "--email", "cli-test@example.com", "--token", token)
    assert "Login successful" in login.stdout, login.stdout + login.stderr

    pushed = run("--json", "push", "--secret", "from the cli", "--days", "3", "--views", "2", "--note", "ticket 9")
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    link = json.loads(pushed.stdout)["url"]
    url_token = link.rsplit("/", 1)[1]
    assert link.startswith(f"{live_server.url}/p/")

    shown = httpx.get(f"{live_server.url}/api/v2/pushes/{url_token}").json()
    assert shown["payload"] == "from the cli" and shown["expire_after_days"] == 3

    listed = run("--json", "list")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    rows = json.loads(listed.stdout)
    assert [(r["url_token"], r["note"], r["views_remaining"]) for r in rows] == [(url_token, "ticket 9", 1)]
    table = run("list")
    assert table.returncode == 0 and "ticket 9" in table.stdout

    audit = run("--json", "audit", "--", url_token)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert [row["kind"] for row in json.loads(audit.stdout)["logs"]][:2] == ["creation", "view"]
    assert "View" in run("audit", "--", url_token).stdout

    expired = run("--json", "expire", "--", url_token)
    assert expired.returncode == 0 and json.loads(expired.stdout)["expired"] is True
    assert httpx.get(f"{live_server.url}/api/v2/pushes/{url_token}").json()["payload"] is None
    again = run("--json", "expire", "--", url_token)
    assert again.returncode == 1 and "already expired" in again.stdout
    assert json.loads(run("--json", "list", "--expired").stdout)[0]["expired"] is True


def test_concurrent_retrievals_of_the_last_view_serve_the_secret_once(live_server):
    from concurrent.futures import ThreadPoolExecutor

    base = live_server.url
    token = httpx.post(f"{base}/api/v2/pushes", json={"push": {"payload": "only once", "expire_after_views": 1}}).json()["url_token"]

    def retrieve(_):
        return httpx.get(f"{base}/api/v2/pushes/{token}", timeout=30)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(retrieve, range(8)))
    assert all(a.status_code == 200 for a in answers)
    payloads = [a.json()["payload"] for a in answers]
    assert payloads.count("only once") == 1 and payloads.count(None) == 7
