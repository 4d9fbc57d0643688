"""test/integration/url/url_json_*_test.rb, ported (creation, retrieval, passphrase, audit,
deletion, preview)."""

from __future__ import annotations

from urllib.parse import urlparse

from tests.api.upstream.conftest import PASSPHRASE_MASK, audit_rows, except_keys, upstream_keys
from tests.api.upstream.test_password_json import CREATED_KEYS, DELETED_KEYS, SHOWN_KEYS, _rows

URL = "https://the0x00.dev"


def url_push(site, headers, root="url", path="/r.json", **fields):
    response = site.post(path, data={f"{root}[{k}]": v for k, v in fields.items()}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


# --- url_json_creation_test.rb ------------------------------------------------------------------------

def test_basic_json_creation(site, luca):
    res = url_push(site, luca, payload=URL)
    assert "payload" not in res and res["name"] == "" and res["expired"] is False and res["deleted"] is False
    assert res["deletable_by_viewer"] is None
    assert upstream_keys(res) == CREATED_KEYS
    assert except_keys(res, "url_token", "created_at", "updated_at", "html_url", "json_url") == {
        "expire_after_views": 5, "expired": False, "retrieval_step": True, "expired_on": None, "passphrase": "",
        "expire_after_days": 7, "days_remaining": 7, "views_remaining": 5, "deleted": False, "note": "", "name": "",
        "deletable_by_viewer": None}


def test_custom_days_expiration(site, luca):
    res = url_push(site, luca, payload=URL, expire_after_days=1)
    assert (res["days_remaining"], res["expire_after_days"]) == (1, 1)


def test_custom_views_expiration(site, luca):
    res = url_push(site, luca, payload=URL, expire_after_views=5)
    assert (res["views_remaining"], res["expire_after_views"]) == (5, 5)


def test_creation_with_kind_on_endpoint_starting_with_p(site, luca):
    assert url_push(site, luca, root="password", path="/p.json", kind="url", payload=URL,
                    expire_after_views=5)["kind"] == "url"


def test_bad_request(site, luca):
    response = site.post("/r.json", data={}, headers=luca)
    assert response.status_code == 400
    assert response.json()["error"] == "param is missing or the value is empty or invalid: url"


# --- url_json_retrieval_test.rb -------------------------------------------------------------------------

def test_view_with_passphrase(site, luca):
    token = url_push(site, luca, payload=URL, expire_after_views=2, passphrase="asdf")["url_token"]
    missing = site.get(f"/r/{token}.json", headers=luca)
    assert missing.status_code == 401 and "error" in missing.json()
    # The owner's own looks take no view (owner_view): two of them leave the push live.
    assert site.get(f"/p/{token}.json?passphrase=asdf", headers=luca).status_code == 200
    shown = site.get(f"/r/{token}.json?passphrase=asdf", headers=luca)
    assert shown.status_code == 200 and shown.json()["payload"] == URL


def test_view_expiration(site, luca):
    res = url_push(site, luca, payload=URL, expire_after_views=2)
    assert (res["expired"], res["deleted"], res["deletable_by_viewer"]) == (False, False, None)
    assert (res["views_remaining"], res["expire_after_views"]) == (2, 2)
    token = res["url_token"]
    for views_left in (1, 0):
        shown = site.get(f"/r/{token}.json").json()
        assert (shown["expired"], shown["deleted"], shown["payload"]) == (False, False, URL)
        assert (shown["views_remaining"], shown["expire_after_views"]) == (views_left, 2)
    third = site.get(f"/r/{token}.json", headers=luca)
    assert third.status_code == 200
    res = third.json()
    assert res["expired"] is True and res["expired_on"] is not None and res["deleted"] is False
    assert upstream_keys(res) == SHOWN_KEYS
    assert except_keys(res, "url_token", "created_at", "updated_at", "expired_on", "html_url", "json_url") == {
        "expire_after_views": 2, "expired": True, "retrieval_step": True, "passphrase": None, "expire_after_days": 7,
        "days_remaining": 7, "views_remaining": 0, "deleted": False, "deletable_by_viewer": None, "payload": None,
        "files": []}


# --- url_json_passphrase_test.rb ---------------------------------------------------------------------------

def test_basic_json_passphrase(site, luca):
    res = url_push(site, luca, payload=URL, passphrase="asdf")
    assert "payload" not in res
    assert res["passphrase"] == PASSPHRASE_MASK  # deviation: docs/compatibility.md, "passphrase"
    token = res["url_token"]
    missing = site.get(f"/p/{token}.json")
    assert missing.status_code == 401 and missing.json()["error"] == "That passphrase is incorrect."
    shown = site.get(f"/p/{token}.json?passphrase=asdf").json()
    assert (shown["expired"], shown["deleted"], shown["payload"]) == (False, False, URL)


def test_basic_json_bad_passphrase(site, luca):
    token = url_push(site, luca, payload=URL, passphrase="asdf")["url_token"]
    logged = site.count_failed_passphrases()
    assert site.get(f"/p/{token}.json").json()["error"] == "That passphrase is incorrect."
    assert site.count_failed_passphrases() == logged + 1
    wrong = site.get(f"/p/{token}.json?passphrase=badpassphrase")
    assert wrong.status_code == 401 and wrong.json()["error"] == "That passphrase is incorrect."
    assert site.count_failed_passphrases() == logged + 2


# --- url_json_audit_test.rb ----------------------------------------------------------------------------------

def test_audit_response_for_authenticated(site, luca):
    token = url_push(site, luca, payload=URL, expire_after_views=2)["url_token"]
    assert site.get(f"/r/{token}.json").json()["payload"] == URL
    assert site.get(f"/r/{token}.json").json()["payload"] == URL
    assert site.get(f"/r/{token}.json").json()["payload"] is None
    body = site.get(f"/r/{token}/audit.json", headers=luca).json()
    for row in body["views"][:2]:
        assert {"ip", "user_agent", "referrer", "created_at", "updated_at", "kind"} <= set(row)
    assert audit_rows(body) == _rows(site, ["creation", "view", "view", "failed_view"])


def test_audit_response_for_created_expired_successful_and_unsuccessful_views(site, luca):
    token = url_push(site, luca, payload=URL, passphrase="asdf", expire_after_views=3)["url_token"]
    for _ in range(2):
        assert site.get(f"/r/{token}.json?passphrase=asdf").status_code == 200
    assert site.get(f"/r/{token}.json").status_code == 401
    assert site.delete(f"/r/{token}.json", headers=luca).status_code == 200
    for _ in range(2):
        assert site.get(f"/r/{token}.json").status_code == 200
    body = site.get(f"/r/{token}/audit.json", headers=luca).json()
    assert audit_rows(body) == _rows(site, ["creation", "view", "view", "failed_passphrase", "expire", "failed_view",
                                            "failed_view"])


def test_no_token_no_audit_log(site, luca):
    token = url_push(site, luca, payload=URL, expire_after_views=2)["url_token"]
    for _ in range(3):
        assert site.get(f"/r/{token}.json").status_code == 200
    assert site.get(f"/r/{token}/audit.json").status_code == 401


# --- url_json_deletion_test.rb ---------------------------------------------------------------------------------

def test_deletion(site, luca):
    res = url_push(site, luca, payload=URL)
    assert (res["expired"], res["deleted"], res["deletable_by_viewer"]) == (False, False, None)
    deleted = site.delete(f"/r/{res['url_token']}.json", headers=luca)
    assert deleted.status_code == 200
    res = deleted.json()
    assert "payload" not in res and res["expired"] is True and res["expired_on"] is not None and res["deleted"] is True
    assert upstream_keys(res) == DELETED_KEYS
    assert except_keys(res, "url_token", "created_at", "updated_at", "expired_on", "html_url", "json_url") == {
        "expire_after_views": 5, "expired": True, "retrieval_step": True, "passphrase": None, "expire_after_days": 7,
        "days_remaining": 7, "views_remaining": 5, "deleted": True, "deletable_by_viewer": None}
    res = site.get(f"/r/{res['url_token']}.json").json()
    assert res["payload"] is None and res["expired"] is True and res["deleted"] is True
    assert (res["deletable_by_viewer"], res["days_remaining"]) == (None, 7)
    assert res["views_remaining"] == 5  # deviation: docs/compatibility.md, "views_remaining"


# --- url_json_preview_test.rb -------------------------------------------------------------------------------------

def test_authenticated_preview_response(site, luca):
    token = site.post("/r.json", json={"url": {"payload": URL, "expire_after_views": 2}}, headers=luca).json()["url_token"]
    response = site.get(f"/r/{token}/preview.json", headers=luca)
    assert response.status_code == 200 and token in urlparse(response.json()["url"]).path
