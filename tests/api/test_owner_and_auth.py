"""Tokens (Bearer and the legacy header pair), owner-only audit and lists, create-token."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlmodel import select

from pwpush_app.core.accounts import issue_api_token, user_for_api_token
from pwpush_app.core.crypto import plain_digest
from pwpush_app.core.db import transaction
from pwpush_app.core.models import User

from .conftest import PUSH_FIELDS, create

LISTS = ["/api/v2/pushes/active", "/api/v2/pushes/expired", "/p/active.json", "/p/expired.json"]


def test_wrong_token_is_401_even_on_public_endpoints(api):
    token = create(api)["url_token"]
    wrong = [
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": "Bearer "},
        {"X-User-Email": "alice@example.com", "X-User-Token": "wrong"},
        {"X-User-Token": "only-a-token"},
        {"X-User-Email": "only@example.com"},
    ]
    for headers in wrong:
        for method, path in [("POST", "/api/v2/pushes"), ("GET", f"/api/v2/pushes/{token}"),
                             ("GET", f"/api/v2/pushes/{token}/preview"), ("DELETE", f"/p/{token}.json"),
                             ("GET", "/api/v2/pushes/active")]:
            kwargs = {"json": {"push": {"payload": "x"}}} if method == "POST" else {}
            response = api.request(method, path, headers=headers, **kwargs)
            assert response.status_code == 401, (headers, path, response.text)
            assert response.json()["error"]
    # Nothing was consumed by the refused requests.
    assert api.get(f"/api/v2/pushes/{token}").json()["views_remaining"] == 4


def test_other_authorization_schemes_are_not_ours_to_judge(api):
    response = api.post("/api/v2/pushes", json={"push": {"payload": "x"}}, headers={"Authorization": "Basic Zm9vOmJhcg=="})
    assert response.status_code == 201


def test_legacy_header_pair_and_bearer_identify_the_same_user(api, runtime):
    _, token = issue_api_token(runtime, "Carol@Example.com")
    pair = {"X-User-Email": "carol@example.com", "X-User-Token": token}
    cli = {"Authorization": f"Bearer {token}", **pair}  # what the official CLI sends
    created = create(api, headers=pair)
    assert "note" in created
    for headers in (pair, cli, {"Authorization": f"Bearer {token}"}):
        listed = api.get("/api/v2/pushes/active", headers=headers)
        assert listed.status_code == 200 and [p["url_token"] for p in listed.json()] == [created["url_token"]]
    mismatch = {"X-User-Email": "mallory@example.com", "X-User-Token": token}
    assert api.get("/api/v2/pushes/active", headers=mismatch).status_code == 401


def test_audit_is_owner_only(api, alice, bob):
    token = create(api, headers=alice)["url_token"]
    anonymous_token = create(api)["url_token"]
    for path in (f"/api/v2/pushes/{token}/audit", f"/p/{token}/audit.json"):
        assert api.get(path).status_code == 401
        forbidden = api.get(path, headers=bob)
        assert forbidden.status_code == 403 and "owner" in forbidden.json()["error"]
        assert api.get(path, headers=alice).status_code == 200
    # Nobody owns an anonymous push through a token; its creator has the manage link.
    assert api.get(f"/api/v2/pushes/{anonymous_token}/audit", headers=alice).status_code == 403
    assert api.get("/api/v2/pushes/AAAAAAAAAAAAAAAAAAAAAA/audit", headers=alice).status_code == 404


def test_audit_pages_hold_fifty_rows(api, alice):
    token = create(api, headers=alice, expire_after_views=100)["url_token"]
    for _ in range(55):
        api.get(f"/api/v2/pushes/{token}")
    first = api.get(f"/api/v2/pushes/{token}/audit", headers=alice).json()["logs"]
    second = api.get(f"/api/v2/pushes/{token}/audit", params={"page": 2}, headers=alice).json()["logs"]
    assert len(first) == 50 and first[0]["kind"] == "creation"
    assert len(second) == 6  # reading the trail writes nothing to it
    # Password Pusher's pages: 0 counts as 1; not a number or past 200 is 400.
    assert api.get(f"/api/v2/pushes/{token}/audit", params={"page": 0}, headers=alice).json()["logs"] == first
    for bad in ("x", "201", "1.5", ""):
        refused = api.get(f"/api/v2/pushes/{token}/audit", params={"page": bad}, headers=alice)
        assert refused.status_code == 400 and refused.json()["error"] == "Invalid page parameter", bad


def test_lists_need_a_token(api):
    for path in LISTS:
        response = api.get(path)
        assert response.status_code == 401, path
        assert "token" in response.json()["error"]


def test_lists_show_only_the_owners_pushes_newest_first(api, alice, bob):
    first = create(api, headers=alice, note="first")["url_token"]
    second = create(api, headers=alice, note="second", expire_after_views=1)["url_token"]
    third = create(api, headers=alice, note="third")["url_token"]
    create(api, headers=bob)
    create(api)
    api.get(f"/api/v2/pushes/{second}")  # its only view: now expired

    for path in ("/api/v2/pushes/active", "/p/active.json"):
        active = api.get(path, headers=alice).json()
        assert [p["url_token"] for p in active] == [third, first]
        assert [p["note"] for p in active] == ["third", "first"]
        assert set(active[0]) == PUSH_FIELDS | {"name", "note"}
    for path in ("/api/v2/pushes/expired", "/p/expired.json"):
        expired = api.get(path, headers=alice).json()
        assert len(expired) == 1 and expired[0]["expired"] is True
        # The link token was shredded with the secret: the list cannot show it again.
        assert expired[0]["url_token"] is None and expired[0]["note"] == ""
    assert len(api.get("/api/v2/pushes/active", headers=bob).json()) == 1


def test_lists_page_by_fifty(api, alice):
    for i in range(52):
        create(api, headers=alice, payload=f"p{i}")
    page1 = api.get("/api/v2/pushes/active", headers=alice).json()
    page2 = api.get("/api/v2/pushes/active", params={"page": 2}, headers=alice).json()
    page3 = api.get("/api/v2/pushes/active", params={"page": 3}, headers=alice).json()
    assert (len(page1), len(page2), page3) == (50, 2, [])
    assert not {p["url_token"] for p in page1} & {p["url_token"] for p in page2}
    assert api.get("/api/v2/pushes/active", params={"page": 10**30}, headers=alice).status_code == 400


def test_overdue_pushes_leave_the_active_list(api, alice, runtime):
    from datetime import timedelta

    from pwpush_app.core.clock import utcnow
    from pwpush_app.core.models import Push

    token = create(api, headers=alice)["url_token"]
    with transaction(runtime.engine) as db:
        push = db.exec(select(Push)).one()
        push.expires_at = utcnow() - timedelta(seconds=1)
        db.add(push)
    assert api.get("/api/v2/pushes/active", headers=alice).json() == []
    assert len(api.get("/api/v2/pushes/expired", headers=alice).json()) == 1
    assert api.get(f"/api/v2/pushes/{token}").json()["payload"] is None


def test_issue_api_token_stores_only_a_digest_and_replaces_the_old_one(runtime):
    user, first = issue_api_token(runtime, "dave@example.com")
    again, second = issue_api_token(runtime, " DAVE@example.com ")
    assert again.id == user.id and first != second
    with transaction(runtime.engine) as db:
        stored = db.exec(select(User).where(User.email == "dave@example.com")).one()
    assert stored.api_token_digest == plain_digest(second)
    assert second not in repr(stored.model_dump())
    assert user_for_api_token(runtime, first) is None
    assert user_for_api_token(runtime, second).id == user.id


def test_issue_api_token_refuses_a_non_email(runtime):
    from pwpush_app.core.accounts import AccountError

    with pytest.raises(AccountError):
        issue_api_token(runtime, "not an email")


def test_create_token_command_prints_a_working_token(tmp_path, runtime):
    from tests.conftest import ROOT

    env = {"PATH": "/usr/bin:/bin", "PWPUSH_DATA_DIR": str(runtime.settings.data_dir),
           "REFLEX_DB_URL": runtime.settings.db_url}
    # The command needs no master key beyond the generated one; use the test's if set.
    if runtime.settings.master_key:
        env["PWPUSH_MASTER_KEY"] = runtime.settings.master_key
    done = subprocess.run([sys.executable, "-m", "pwpush_app", "create-token", "erin@example.com"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert len(token) >= 22 and "shown once" in done.stderr
    assert user_for_api_token(runtime, token).email == "erin@example.com"
    bad = subprocess.run([sys.executable, "-m", "pwpush_app", "create-token", "nope"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "not an email" in bad.stderr
