"""The administrators' API (/api/v2/admin): an admin's token does what /admin does, through
the same core calls; a non-admin's token is 403 and no token 401, and neither changes a
thing; every action is in the admin audit log; a push's metadata never holds a secret.
In-process on SQLite and PostgreSQL, and over real HTTP against the production server."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
from sqlalchemy import text

from pwpush_app.core import admin
from pwpush_app.core.accounts import issue_api_token

from .conftest import create

# Every admin endpoint, as (method, path); {user} and {push} are filled in.
ENDPOINTS = [
    ("GET", "/api/v2/admin/users"),
    ("GET", "/api/v2/admin/users?search=bob"),
    ("POST", "/api/v2/admin/users/{user}/lock"),
    ("POST", "/api/v2/admin/users/{user}/unlock"),
    ("POST", "/api/v2/admin/users/{user}/reset_2fa"),
    ("POST", "/api/v2/admin/users/{user}/promote"),
    ("POST", "/api/v2/admin/users/{user}/demote"),
    ("POST", "/api/v2/admin/users/{user}/sign_out"),
    ("DELETE", "/api/v2/admin/users/{user}"),
    ("GET", "/api/v2/admin/pushes"),
    ("DELETE", "/api/v2/admin/pushes/{push}"),
    ("GET", "/api/v2/admin/figures"),
    ("GET", "/api/v2/admin/settings"),
    ("GET", "/api/v2/admin/audit"),
]


def _rows(runtime, table: str) -> list:
    with runtime.engine.connect() as connection:
        return sorted(map(repr, connection.execute(text(f"SELECT * FROM {table}")).mappings()))


def _snapshot(runtime) -> dict:
    return {t: _rows(runtime, t) for t in ("pwpush_user", "session", "login_failure", "push", "admin_action")}


@pytest.fixture
def staff(runtime):
    """An administrator's headers, Bob's (not an admin) and his id."""
    root, root_token = issue_api_token(runtime, "root@example.com")
    admin.set_admin(runtime, "root@example.com")
    bob, bob_token = issue_api_token(runtime, "bob@example.com")
    return {"Authorization": f"Bearer {root_token}"}, {"Authorization": f"Bearer {bob_token}"}, bob.id


@pytest.mark.parametrize("method,path", ENDPOINTS)
def test_a_non_admin_token_and_no_token_are_refused_and_change_nothing(api, runtime, staff, method, path):
    _root, bob, bob_id = staff
    pushed = create(api, bob, payload="bob-canary-secret")
    push_id = admin_push_id(runtime, pushed["url_token"])
    url = path.format(user=bob_id, push=push_id)
    before = _snapshot(runtime)
    refused = api.request(method, url, headers=bob)
    assert refused.status_code == 403 and refused.json() == {"error": "Only an administrator may do that."}
    anonymous = api.request(method, url)
    assert anonymous.status_code == 401 and "API token" in anonymous.json()["error"]
    wrong = api.request(method, url, headers={"Authorization": "Bearer not-a-token"})
    assert wrong.status_code == 401
    assert _snapshot(runtime) == before
    assert "bob-canary-secret" not in refused.text + anonymous.text


def admin_push_id(runtime, url_token: str) -> str:
    from pwpush_app.core.records import find_push

    return find_push(runtime, url_token).id


def test_an_admin_token_does_every_action_and_each_is_logged(api, runtime, staff):
    root, bob, bob_id = staff
    users = api.get("/api/v2/admin/users", params={"search": "BOB"}, headers=root)
    assert users.status_code == 200
    assert [(u["email"], u["admin"], u["locked"], u["two_factor"]) for u in users.json()] == [
        ("bob@example.com", False, False, False)]
    for action, detail in (("lock", "0 sessions ended"), ("unlock", ""), ("promote", ""), ("demote", ""),
                           ("sign_out", "0 sessions ended")):
        done = api.post(f"/api/v2/admin/users/{bob_id}/{action}", headers=root)
        assert done.status_code == 200, (action, done.text)
        assert done.json() == {"action": action, "target": "bob@example.com", "detail": detail}
    # A rule refuses with words: 422, nothing changed.
    refused = api.post(f"/api/v2/admin/users/{bob_id}/reset_2fa", headers=root)
    assert refused.status_code == 422 and refused.json() == {"error": "bob@example.com has no two-factor sign-in and no passkey to reset."}
    unknown = api.post("/api/v2/admin/users/nobody/lock", headers=root)
    assert unknown.status_code == 422 and "reload the list" in unknown.json()["error"]
    me = api.get("/api/v2/admin/users", params={"search": "root"}, headers=root).json()[0]["id"]
    assert api.post(f"/api/v2/admin/users/{me}/demote", headers=root).status_code == 422
    pushed = create(api, bob, payload="bob-canary-secret", note="bob-canary-note")
    deleted = api.delete(f"/api/v2/admin/users/{bob_id}", headers=root)
    assert deleted.status_code == 200 and deleted.json()["detail"] == "1 push deleted"
    assert api.get(f"/api/v2/pushes/{pushed['url_token']}").status_code == 404
    log = api.get("/api/v2/admin/audit", headers=root).json()
    assert [row["action"] for row in log] == ["delete", "sign_out", "demote", "promote", "unlock", "lock"]
    assert all(row["admin"] == "root@example.com" and row["target"] == "bob@example.com" for row in log)
    assert log[0]["ip"] == "203.0.113.7"  # the API's client, as the page's


def test_pushes_metadata_and_expire(api, runtime, staff):
    root, bob, _bob_id = staff
    mine = create(api, bob, payload="bob-canary-secret", note="bob-canary-note", passphrase="bob-canary-pass",
                  name="bob-canary-name", expire_after_views=4)
    anonymous = create(api, payload="anon-canary-secret")
    listing = api.get("/api/v2/admin/pushes", headers=root)
    assert listing.status_code == 200
    body = listing.json()
    assert (body["total"], body["page"], body["per_page"], body["has_more"]) == (2, 1, 50, False)
    first, second = body["pushes"]
    assert (first["owner"], second["owner"]) == ("anonymous", "bob@example.com")
    assert (second["kind"], second["views_used"], second["views_allowed"], second["state"], second["files"]) == (
        "text", 0, 4, "active", 0)
    assert set(second) == {"id", "kind", "created_at", "owner", "views_used", "views_allowed", "expires_at", "state",
                           "expired_at", "expired_reason", "files", "file_bytes"}
    for secret in ("canary", mine["url_token"], anonymous["url_token"]):
        assert secret not in listing.text
    assert api.get("/api/v2/admin/pushes", params={"search": "anonymous"}, headers=root).json()["total"] == 1
    assert api.get("/api/v2/admin/pushes", params={"state": "sideways"}, headers=root).status_code == 422
    assert api.get("/api/v2/admin/pushes", params={"page": "0"}, headers=root).status_code == 422
    expired = api.delete(f"/api/v2/admin/pushes/{second['id']}", headers=root)
    assert expired.status_code == 200 and expired.json()["action"] == "expire_push"
    assert api.get(f"/api/v2/pushes/{mine['url_token']}").json().get("payload") is None
    again = api.delete(f"/api/v2/admin/pushes/{second['id']}", headers=root)
    assert again.status_code == 422 and "expired already" in again.json()["error"]
    after = api.get("/api/v2/admin/pushes", params={"state": "expired"}, headers=root).json()["pushes"]
    assert [(p["id"], p["expired_reason"]) for p in after] == [(second["id"], "admin")]
    assert api.get("/api/v2/admin/audit", headers=root).json()[0]["action"] == "expire_push"
    # The owner's own audit trail shows the expiry.
    trail = api.get(f"/api/v2/pushes/{mine['url_token']}/audit", headers=bob).json()
    assert "expire" in [e["kind"] for e in trail["logs"]]


def test_figures_and_settings(api, runtime, staff):
    root, bob, _bob_id = staff
    create(api, bob, payload="x")
    figures = api.get("/api/v2/admin/figures", headers=root).json()
    assert figures["pushes"]["text"] == {"active": 1, "expired": 0} and len(figures["views_per_day"]) == 14
    settings = {s["name"]: s for s in api.get("/api/v2/admin/settings", headers=root).json()}
    key = settings["PWPUSH_MASTER_KEY"]
    assert key["redacted"] and key["value"] == "(set, hidden)" and key["source"] == "environment"
    assert runtime.settings.master_key not in str(settings)


def test_over_real_http(live_server):
    base = live_server.url

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "pwpush_app", *args], cwd=live_server_root(),
                              env=live_server.env, capture_output=True, text=True, timeout=120)

    root = {"Authorization": f"Bearer {cli('create-token', 'api-admin@example.com').stdout.strip()}"}
    carol = {"Authorization": f"Bearer {cli('create-token', 'api-carol@example.com').stdout.strip()}"}
    assert httpx.get(f"{base}/api/v2/admin/users", headers=root).status_code == 403  # not yet an admin
    assert cli("make-admin", "api-admin@example.com").returncode == 0
    users = httpx.get(f"{base}/api/v2/admin/users", params={"search": "api-carol"}, headers=root)
    assert users.status_code == 200 and users.headers["cache-control"] == "no-store"
    carol_id = users.json()[0]["id"]
    pushed = httpx.post(f"{base}/api/v2/pushes", json={"push": {"payload": "live-admin-canary"}}, headers=carol).json()
    listing = httpx.get(f"{base}/api/v2/admin/pushes", params={"search": "api-carol"}, headers=root).json()
    assert [p["owner"] for p in listing["pushes"]] == ["api-carol@example.com"]
    assert "live-admin-canary" not in str(listing) and pushed["url_token"] not in str(listing)
    # Carol (no admin) cannot, with or without her token; nothing changes.
    push_id = listing["pushes"][0]["id"]
    assert httpx.delete(f"{base}/api/v2/admin/pushes/{push_id}", headers=carol).status_code == 403
    assert httpx.delete(f"{base}/api/v2/admin/pushes/{push_id}").status_code == 401
    assert httpx.post(f"{base}/api/v2/admin/users/{carol_id}/promote", headers=carol).status_code == 403
    assert httpx.get(f"{base}/api/v2/pushes/{pushed['url_token']}/preview").status_code == 200
    done = httpx.delete(f"{base}/api/v2/admin/pushes/{push_id}", headers=root)
    assert done.status_code == 200 and done.json()["target"] == "api-carol@example.com"
    assert httpx.get(f"{base}/api/v2/pushes/{pushed['url_token']}").json().get("payload") is None
    assert httpx.post(f"{base}/api/v2/admin/users/{carol_id}/lock", headers=root).status_code == 200
    log = httpx.get(f"{base}/api/v2/admin/audit", headers=root).json()
    assert [r["action"] for r in log[:2]] == ["lock", "expire_push"]
    assert "/api/v2/admin/pushes/{push_id}" in httpx.get(f"{base}/api/openapi.json").json()["paths"]


def live_server_root():
    from tests.conftest import ROOT

    return ROOT


def test_an_admin_refusal_comes_in_the_callers_language_with_the_address_filled_in(api, staff):
    root, _, bob_id = staff
    english = api.post(f"/api/v2/admin/users/{bob_id}/unlock", headers=root)
    french = api.post(f"/api/v2/admin/users/{bob_id}/unlock", headers={**root, "Accept-Language": "fr"})
    assert english.status_code == french.status_code == 422
    assert english.json() == {"error": "bob@example.com is not locked."}
    assert french.json() == {"error": "bob@example.com n'est pas verrouillé."}


def test_a_locked_administrator_keeps_no_admin_power_through_the_api_token(api, runtime, staff):
    """An administrator locked by another one: the lock ends their sessions, and their API
    token, which keeps working for pushes, may not act as an administrator (it could unlock
    itself, then lock the other one out) until an administrator lifts the lock."""
    root, _bob, _bob_id = staff
    rogue, rogue_token = issue_api_token(runtime, "rogue@example.com")
    admin.set_admin(runtime, "rogue@example.com")
    rogue_headers = {"Authorization": f"Bearer {rogue_token}"}
    users = {u["email"]: u["id"] for u in api.get("/api/v2/admin/users", headers=root).json()}
    assert api.post(f"/api/v2/admin/users/{rogue.id}/lock", headers=root).status_code == 200
    before = _snapshot(runtime)
    for method, path in ENDPOINTS:
        url = path.format(user=users["root@example.com"], push="nothing")
        refused = api.request(method, url, headers=rogue_headers)
        assert refused.status_code == 403 and refused.json() == {"error": "Only an administrator may do that."}, url
    unlock_self = api.post(f"/api/v2/admin/users/{rogue.id}/unlock", headers=rogue_headers)
    assert unlock_self.status_code == 403
    assert _snapshot(runtime) == before  # root still unlocked, rogue still locked, nothing logged
    # The token still makes pushes (the lock is about logging in and the admin area).
    assert create(api, rogue_headers, payload="rogue-push")["url_token"]
    # Unlocked by root: the admin power is back.
    assert api.post(f"/api/v2/admin/users/{rogue.id}/unlock", headers=root).status_code == 200
    assert api.get("/api/v2/admin/users", headers=rogue_headers).status_code == 200
