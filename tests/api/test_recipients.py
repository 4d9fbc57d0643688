"""One secret for several recipients, and the instance policies, through the JSON API: on
the production server over real HTTP (`live_server`), and in-process where a test needs
other settings (`make_api`)."""

from __future__ import annotations

import httpx
import pytest

from pwpush_app.core.accounts import issue_api_token

from .test_live import issue_token

PAYLOAD = "Api-group-canary-8c21"


@pytest.fixture(scope="module")
def owner(live_server):
    return {"Authorization": f"Bearer {issue_token(live_server, 'groups@example.com')}"}


def _create(base: str, headers: dict | None = None, path: str = "/api/v2/pushes", root: str = "push", **fields):
    fields.setdefault("payload", PAYLOAD)
    return httpx.post(f"{base}{path}", json={root: fields}, headers=headers or {})


def test_recipients_answer_a_push_each_and_revoking_or_viewing_one_leaves_the_others(live_server, owner):
    base = live_server.url
    created = _create(base, owner, recipients=["Alice", "Bob", "Carol"], expire_after_views=2, name="vpn")
    assert created.status_code == 201, created.text
    body = created.json()
    assert set(body) == {"group_id", "pushes"}
    pushes = body["pushes"]
    assert [p["recipient"] for p in pushes] == ["Alice", "Bob", "Carol"]
    assert {p["group_id"] for p in pushes} == {body["group_id"]}
    assert len({p["url_token"] for p in pushes}) == len({p["manage_url"] for p in pushes}) == 3
    assert all(p["name"] == "vpn" and p["expire_after_views"] == 2 and "payload" not in p for p in pushes)
    alice, bob, carol = (p["url_token"] for p in pushes)

    assert httpx.get(f"{base}/api/v2/pushes/{alice}").json()["payload"] == PAYLOAD
    revoked = httpx.delete(f"{base}/api/v2/pushes/{bob}", headers=owner)
    assert revoked.status_code == 200 and revoked.json()["expired"] is True
    assert httpx.get(f"{base}/api/v2/pushes/{bob}").json()["expired"] is True

    listed = {p["url_token"]: p for p in httpx.get(f"{base}/api/v2/pushes/active", headers=owner).json()}
    assert listed[alice]["views_remaining"] == 1 and listed[alice]["recipient"] == "Alice"
    assert listed[carol]["views_remaining"] == 2 and listed[carol]["group_id"] == body["group_id"]
    assert bob not in listed
    trail = [row["kind"] for row in httpx.get(f"{base}/api/v2/pushes/{carol}/audit", headers=owner).json()["logs"]]
    assert trail == ["creation"]  # Alice's view and Bob's revoke are theirs alone
    assert httpx.get(f"{base}/api/v2/pushes/{carol}").json()["payload"] == PAYLOAD
    # A recipient never learns of the others.
    shown = httpx.get(f"{base}/api/v2/pushes/{carol}").json()
    assert "recipient" not in shown and "group_id" not in shown


def test_a_single_push_answer_stays_password_pushers(live_server):
    body = _create(live_server.url).json()
    assert "group_id" not in body and "recipient" not in body and "url_token" in body


@pytest.mark.parametrize("recipients, words", [
    (["Alice"], "from 2 to 20"),
    ([f"r{n}" for n in range(21)], "from 2 to 20"),
    (["Alice", "ALICE"], "named twice"),
    (["Alice", "bob@"], "Not an email address"),
    (["Alice", {"name": "x"}], "list of texts"),
    (7, "list of texts"),
    (["Alice", "bob@example.com"], "send the link yourself"),
])
def test_a_bad_list_is_422_naming_recipients_and_stores_nothing(live_server, recipients, words):
    answer = _create(live_server.url, recipients=recipients, name="refused-group")
    assert answer.status_code == 422, answer.text
    assert words in answer.json()["recipients"][0]


def test_the_legacy_routes_and_an_edit_take_no_recipients(live_server, owner):
    base = live_server.url
    legacy = _create(base, path="/p.json", root="password", recipients=["A", "B"])
    assert legacy.status_code == 422 and "api/v2/pushes" in legacy.text
    token = _create(base, owner).json()["url_token"]
    edit = httpx.patch(f"{base}/api/v2/pushes/{token}", json={"push": {"recipients": ["A", "B"]}}, headers=owner)
    assert edit.status_code == 422 and "cannot change" in edit.text


# --- instance policies ------------------------------------------------------------------------------

def test_require_passphrase_refuses_creates_without_one_and_edits_removing_it(make_api):
    api, runtime = make_api(PWPUSH_REQUIRE_PASSPHRASE="true")
    _user, token = issue_api_token(runtime, "p@example.com")
    owner = {"Authorization": f"Bearer {token}"}
    for body in ({"push": {"payload": "x"}}, {"push": {"payload": "x", "passphrase": "  "}},
                 {"push": {"payload": "x", "recipients": ["A", "B"]}}):
        refused = api.post("/api/v2/pushes", json=body)
        assert refused.status_code == 422 and "requires a passphrase" in refused.json()["passphrase"][0]
    assert api.post("/p.json", data={"password[payload]": "x"}).status_code == 422
    assert api.get("/api/v2/pushes/active", headers=owner).json() == []
    created = api.post("/api/v2/pushes", json={"push": {"payload": "x", "passphrase": "p"}}, headers=owner).json()
    removed = api.patch(f"/api/v2/pushes/{created['url_token']}", json={"push": {"passphrase": ""}}, headers=owner)
    assert removed.status_code == 422 and "not removed" in removed.text


def test_anonymous_off_is_the_login_to_create_policy(make_api):
    """PWP__ALLOW_ANONYMOUS=false is "require login to create": no setting of ours beside it."""
    api, runtime = make_api(PWP__ALLOW_ANONYMOUS="false")
    refused = api.post("/api/v2/pushes", json={"push": {"payload": "x", "recipients": ["A", "B"]}})
    assert refused.status_code == 401
    _user, token = issue_api_token(runtime, "in@example.com")
    created = api.post("/api/v2/pushes", json={"push": {"payload": "x", "recipients": ["A", "B"]}},
                       headers={"Authorization": f"Bearer {token}"})
    assert created.status_code == 201 and len(created.json()["pushes"]) == 2


@pytest.mark.parametrize("env, fields, field, words", [
    ({"PWP__PW__EXPIRE_AFTER_VIEWS_MAX": "3", "PWP__PW__EXPIRE_AFTER_VIEWS_DEFAULT": "2"}, {"expire_after_views": 4},
     "expire_after_views", "from 1 to 3"),
    ({"PWP__PW__EXPIRE_AFTER_DAYS_MAX": "2", "PWP__PW__EXPIRE_AFTER_DAYS_DEFAULT": "1"}, {"expire_after_days": 3},
     "expire_after_days", "to 2 days"),
    ({"PWP__PW__EXPIRE_AFTER_MINUTES_MAX": "60", "PWP__PW__EXPIRE_AFTER_MINUTES_DEFAULT": "30"},
     {"expire_after_minutes": 61}, "expire_after_minutes", "to 1 hour"),
    ({"PWP__URL__EXPIRE_AFTER_VIEWS_MAX": "2", "PWP__URL__EXPIRE_AFTER_VIEWS_DEFAULT": "1"}, {"expire_after_views": 3, "kind": "url", "payload": "https://example.com"},
     "expire_after_views", "from 1 to 2"),
    ({"PWP__PW__EXPIRE_AFTER_VIEWS_MAX": "3", "PWP__PW__EXPIRE_AFTER_VIEWS_DEFAULT": "2"},
     {"expire_after_views": 4, "recipients": ["A", "B"]},
     "expire_after_views", "from 1 to 3"),
])
def test_the_kinds_maximum_views_and_lifetime_are_enforced_never_clamped(make_api, env, fields, field, words):
    api, _runtime = make_api(**env)
    refused = api.post("/api/v2/pushes", json={"push": {"payload": "x", **fields}})
    assert refused.status_code == 422 and words in refused.json()[field][0], refused.text
