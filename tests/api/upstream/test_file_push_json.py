"""test/integration/file_push/file_push_json_*_test.rb, ported (creation, retrieval,
passphrase, audit, deletion, active, expired, preview)."""

from __future__ import annotations

from urllib.parse import urlparse

from tests.api.upstream.conftest import MONKEY, PASSPHRASE_MASK, audit_rows, except_keys, upstream_keys
from tests.api.upstream.test_password_json import CREATED_KEYS, DELETED_KEYS, _rows


def file_push(site, headers, root="file_push", path="/f.json", **fields):
    response = site.post(path, data={f"{root}[{k}]": v for k, v in fields.items()},
                         files=[(f"{root}[files][]", MONKEY)], headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


# --- file_push_json_creation_test.rb ---------------------------------------------------------------

def test_basic_json_creation(site, luca):
    res = file_push(site, luca, payload="Message")
    assert "payload" not in res and res["name"] == "" and res["expired"] is False and res["deleted"] is False
    assert upstream_keys(res) == CREATED_KEYS
    assert except_keys(res, "url_token", "created_at", "updated_at", "html_url", "json_url") == {
        "expire_after_views": 5, "expired": False, "deletable_by_viewer": True, "retrieval_step": True,
        "expired_on": None, "passphrase": "", "expire_after_days": 7, "days_remaining": 7, "views_remaining": 5,
        "deleted": False, "note": "", "name": ""}


def test_json_creation_with_uncommon_characters(site, luca):
    res = file_push(site, luca, payload="£¬")
    assert (res["deletable_by_viewer"], res["days_remaining"], res["views_remaining"]) == (True, 7, 5)
    shown = site.get(f"/f/{res['url_token']}.json")
    assert shown.status_code == 200 and shown.json()["payload"] == "£¬"


def test_deletable_by_viewer(site, luca):
    assert file_push(site, luca, payload="Message", deletable_by_viewer="true")["deletable_by_viewer"] is True


def test_not_deletable_by_viewer(site, luca):
    assert file_push(site, luca, payload="Message", deletable_by_viewer="false")["deletable_by_viewer"] is False


def test_deletable_by_viewer_absent_is_default(site, luca):
    assert file_push(site, luca, payload="Message")["deletable_by_viewer"] is True


def test_custom_days_expiration(site, luca):
    res = file_push(site, luca, payload="Message", expire_after_days=1)
    assert (res["days_remaining"], res["expire_after_days"]) == (1, 1)


def test_custom_views_expiration(site, luca):
    res = file_push(site, luca, payload="Message", expire_after_views=5)
    assert (res["views_remaining"], res["expire_after_views"]) == (5, 5)


def test_creation_with_kind_on_endpoint_starting_with_p(site, luca):
    assert file_push(site, luca, root="password", path="/p.json", kind="file", payload="Message")["kind"] == "file"


def test_creation_without_kind_on_endpoint_starting_with_p(site, luca):
    assert file_push(site, luca, root="password", path="/p.json", payload="Message")["kind"] == "file"


def test_bad_request(site, luca):
    assert site.post("/f.json", data={}, headers=luca).status_code == 400


# --- file_push_json_retrieval_test.rb ----------------------------------------------------------------

def test_view_with_passphrase(site, luca):
    token = file_push(site, luca, payload="testpw", expire_after_views=10, passphrase="asdf")["url_token"]
    missing = site.get(f"/f/{token}.json")
    assert missing.status_code == 401 and "error" in missing.json()
    assert site.get(f"/p/{token}.json?passphrase=asdf").status_code == 200
    shown = site.get(f"/f/{token}.json?passphrase=asdf")
    assert shown.status_code == 200 and shown.json()["payload"] == "testpw"


def test_view_expiration(site, luca):
    res = file_push(site, luca, payload="testpw", expire_after_views=2)
    assert (res["expired"], res["deleted"], res["deletable_by_viewer"]) == (False, False, True)
    assert (res["views_remaining"], res["expire_after_views"]) == (2, 2)
    token = res["url_token"]
    for views_left in (1, 0):
        shown = site.get(f"/f/{token}.json").json()
        assert (shown["expired"], shown["deleted"], shown["payload"]) == (False, False, "testpw")
        assert (shown["views_remaining"], shown["expire_after_views"]) == (views_left, 2)
    res = site.get(f"/f/{token}.json").json()
    assert res["expired"] is True and res["expired_on"] is not None and res["deleted"] is False
    assert except_keys(res, "url_token", "created_at", "updated_at", "expired_on", "json_url", "html_url") == {
        "expire_after_views": 2, "expired": True, "retrieval_step": True, "passphrase": None, "expire_after_days": 7,
        "days_remaining": 7, "views_remaining": 0, "deleted": False, "deletable_by_viewer": True, "payload": None,
        "files": []}


# --- file_push_json_passphrase_test.rb ----------------------------------------------------------------

def test_basic_json_passphrase(site, luca):
    res = file_push(site, luca, payload="Message", passphrase="asdf")
    assert "payload" not in res
    assert res["passphrase"] == PASSPHRASE_MASK  # deviation: docs/compatibility.md, "passphrase"
    token = res["url_token"]
    missing = site.get(f"/f/{token}.json")
    assert missing.status_code == 401 and missing.json()["error"] == "That passphrase is incorrect."
    shown = site.get(f"/f/{token}.json?passphrase=asdf").json()
    assert (shown["expired"], shown["deleted"], shown["payload"]) == (False, False, "Message")


def test_basic_json_bad_passphrase(site, luca):
    token = file_push(site, luca, payload="testpw", passphrase="asdf")["url_token"]
    logged = site.count_failed_passphrases()
    missing = site.get(f"/f/{token}.json")
    assert missing.status_code == 401 and missing.json()["error"] == "That passphrase is incorrect."
    assert site.count_failed_passphrases() == logged + 1
    wrong = site.get(f"/f/{token}.json?passphrase=badpassphrase")
    assert wrong.status_code == 401 and wrong.json()["error"] == "That passphrase is incorrect."
    assert site.count_failed_passphrases() == logged + 2


# --- file_push_json_audit_test.rb -----------------------------------------------------------------------

def test_audit_response_for_authenticated(site, luca):
    token = file_push(site, luca, payload="testpw", expire_after_views=2)["url_token"]
    for _ in range(3):
        assert site.get(f"/f/{token}.json").status_code == 200
    body = site.get(f"/f/{token}/audit.json", headers=luca).json()
    assert {"ip", "user_agent", "referrer", "created_at", "updated_at", "kind"} <= set(body["views"][0])
    assert audit_rows(body) == _rows(site, ["creation", "view", "view", "failed_view"])


def test_audit_response_for_created_expired_successful_and_unsuccessful_views(site, luca):
    token = file_push(site, luca, payload="testpw", passphrase="asdf", expire_after_views=3)["url_token"]
    for _ in range(2):
        assert site.get(f"/f/{token}.json", params={"passphrase": "asdf"}).status_code == 200
    assert site.get(f"/f/{token}.json").status_code == 401
    assert site.delete(f"/f/{token}.json", headers=luca).status_code == 200
    for _ in range(2):
        assert site.get(f"/f/{token}.json").status_code == 200
    body = site.get(f"/f/{token}/audit.json", headers=luca).json()
    assert audit_rows(body) == _rows(site, ["creation", "view", "view", "failed_passphrase", "expire", "failed_view",
                                            "failed_view"])


def test_no_token_no_audit_log(site, luca):
    token = file_push(site, luca, payload="testpw", expire_after_views=2)["url_token"]
    for _ in range(3):
        assert site.get(f"/f/{token}.json").status_code == 200
    assert site.get(f"/f/{token}/audit.json").status_code == 401


# --- file_push_json_deletion_test.rb --------------------------------------------------------------------

def test_deletion(site, luca):
    res = file_push(site, luca, payload="Message")
    assert (res["expired"], res["deleted"], res["deletable_by_viewer"]) == (False, False, True)
    deleted = site.delete(f"/f/{res['url_token']}.json", headers=luca)
    assert deleted.status_code == 200
    res = deleted.json()
    assert "payload" not in res and res["expired"] is True and res["expired_on"] is not None and res["deleted"] is True
    assert upstream_keys(res) == DELETED_KEYS
    assert except_keys(res, "url_token", "created_at", "updated_at", "expired_on", "html_url", "json_url") == {
        "expire_after_views": 5, "expired": True, "deletable_by_viewer": True, "retrieval_step": True,
        "passphrase": None, "expire_after_days": 7, "days_remaining": 7, "views_remaining": 5, "deleted": True}
    res = site.get(f"/f/{res['url_token']}.json").json()
    assert res["payload"] is None and res["expired"] is True and res["deleted"] is True
    assert (res["deletable_by_viewer"], res["days_remaining"]) == (True, 7)
    assert res["views_remaining"] == 5  # deviation: docs/compatibility.md, "views_remaining"


# --- file_push_json_active_test.rb / file_push_json_expired_test.rb ----------------------------------------

def test_basic_json_active(site, luca):
    file_push(site, luca, payload="Message", name="Test File Push", note="This is a test file push")
    first = site.get("/f/active.json", headers=luca).json()[0]
    assert "payload" not in first and upstream_keys(first) == CREATED_KEYS
    assert except_keys(first, "url_token", "created_at", "updated_at", "html_url", "json_url", "expired_on") == {
        "expire_after_views": 5, "expired": False, "deletable_by_viewer": True, "retrieval_step": True,
        "passphrase": "", "expire_after_days": 7, "days_remaining": 7, "views_remaining": 5, "deleted": False,
        "note": "This is a test file push", "name": "Test File Push"}


def test_basic_json_expired(site, luca):
    res = file_push(site, luca, payload="Message", name="Test File Push", note="This is a test file push")
    assert site.delete(f"/f/{res['url_token']}.json").status_code == 200
    first = site.get("/f/expired.json", headers=luca).json()[0]
    assert "payload" not in first and upstream_keys(first) == CREATED_KEYS
    assert except_keys(first, "url_token", "created_at", "updated_at", "html_url", "json_url", "expired_on") == {
        "expire_after_views": 5, "expired": True, "deletable_by_viewer": True, "retrieval_step": True,
        "passphrase": None, "expire_after_days": 7, "days_remaining": 7, "views_remaining": 5, "deleted": True,
        "note": "", "name": "Test File Push"}  # deviation: docs/compatibility.md, "Expired pushes in lists"


# --- file_push_json_preview_test.rb ---------------------------------------------------------------------------

def test_preview_response(site, luca):
    token = file_push(site, luca, payload="testpw", expire_after_views=2)["url_token"]
    response = site.get(f"/f/{token}/preview.json", headers=luca)
    assert response.status_code == 200 and "url" in response.json()


def test_authenticated_preview_response(site, luca):
    token = file_push(site, luca, payload="testpw", expire_after_views=2)["url_token"]
    response = site.get(f"/f/{token}/preview.json", headers=luca)
    assert response.status_code == 200 and token in urlparse(response.json()["url"]).path
