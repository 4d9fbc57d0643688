"""test/integration/qr/qr_json_*_test.rb, ported (creation, retrieval, passphrase, audit,
deletion, preview).  Where upstream sets `Settings.qr.retrieval_step_default = false`, the
test runs in-process with PWP__QR__RETRIEVAL_STEP_DEFAULT=false."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from tests.api.upstream.conftest import PASSPHRASE_MASK, audit_rows, except_keys, upstream_keys
from tests.api.upstream.test_password_json import CREATED_KEYS, DELETED_KEYS, SHOWN_KEYS, _rows, push


@pytest.fixture
def qr_site(make_site):
    return make_site(PWP__QR__RETRIEVAL_STEP_DEFAULT="false")


def qr(site, headers=None, **fields):
    return push(site, headers, kind="qr", **fields)


# --- qr_json_creation_test.rb ---------------------------------------------------------------------

def test_basic_json_creation(qr_site):
    res = qr(qr_site, payload="testqr")
    assert "payload" not in res and res["name"] == "" and res["expired"] is False and res["deleted"] is False
    assert upstream_keys(res) == CREATED_KEYS
    assert except_keys(res, "url_token", "created_at", "updated_at", "html_url", "json_url") == {
        "expire_after_views": 5, "expired": False, "retrieval_step": False, "expired_on": None, "passphrase": "",
        "expire_after_days": 7, "days_remaining": 7, "views_remaining": 5, "deleted": False,
        "deletable_by_viewer": True, "note": "", "name": ""}


def test_json_creation_with_uncommon_characters(qr_site):
    res = push(qr_site, payload="£¬")
    assert (res["deletable_by_viewer"], res["days_remaining"], res["views_remaining"]) == (True, 7, 5)
    assert qr_site.get(f"/p/{res['url_token']}.json").json()["payload"] == "£¬"


def test_deletable_by_viewer(qr_site):
    assert qr(qr_site, payload="testqr", deletable_by_viewer="true")["deletable_by_viewer"] is True


def test_not_deletable_by_viewer(qr_site):
    assert qr(qr_site, payload="testqr", deletable_by_viewer="false")["deletable_by_viewer"] is False


def test_deletable_by_viewer_absent_is_default(qr_site):
    assert qr(qr_site, payload="testqr")["deletable_by_viewer"] is True


def test_custom_days_expiration(qr_site):
    res = qr(qr_site, payload="testqr", expire_after_days=1)
    assert (res["days_remaining"], res["expire_after_days"]) == (1, 1)


def test_custom_views_expiration(qr_site):
    res = qr(qr_site, payload="testqr", expire_after_views=5)
    assert (res["views_remaining"], res["expire_after_views"]) == (5, 5)


def test_creation_with_kind_on_endpoint_starting_with_p(qr_site):
    assert qr(qr_site, payload="testqr")["kind"] == "qr"


def test_bad_request(qr_site):
    response = qr_site.post("/p.json", data={})
    assert response.status_code == 400
    assert response.json()["error"] == "param is missing or the value is empty or invalid: password"


# --- qr_json_deletion_test.rb ------------------------------------------------------------------------

def test_deletion(qr_site):
    res = qr(qr_site, payload="testqr")
    assert (res["expired"], res["deleted"], res["deletable_by_viewer"], res["views_remaining"]) == (False, False, True, 5)
    deleted = qr_site.delete(f"/p/{res['url_token']}.json")
    assert deleted.status_code == 200
    res = deleted.json()
    assert "payload" not in res and res["expired"] is True and res["expired_on"] is not None and res["deleted"] is True
    assert upstream_keys(res) == DELETED_KEYS
    assert except_keys(res, "url_token", "created_at", "updated_at", "expired_on", "html_url", "json_url") == {
        "expire_after_views": 5, "expired": True, "deletable_by_viewer": True, "retrieval_step": False,
        "passphrase": None, "expire_after_days": 7, "days_remaining": 7, "views_remaining": 5, "deleted": True}
    res = qr_site.get(f"/p/{res['url_token']}.json").json()
    assert res["payload"] is None and res["expired"] is True and res["deleted"] is True
    assert res["views_remaining"] == 5  # deviation: docs/compatibility.md, "views_remaining"


# --- qr_json_passphrase_test.rb ------------------------------------------------------------------------

def test_basic_json_passphrase(site):
    res = qr(site, payload="testpw", passphrase="asdf")
    assert "payload" not in res
    assert res["passphrase"] == PASSPHRASE_MASK  # deviation: docs/compatibility.md, "passphrase"
    token = res["url_token"]
    assert site.get(f"/p/{token}.json").json()["error"] == "That passphrase is incorrect."
    shown = site.get(f"/p/{token}.json?passphrase=asdf").json()
    assert (shown["expired"], shown["deleted"], shown["payload"]) == (False, False, "testpw")


def test_basic_json_bad_passphrase(site):
    token = qr(site, payload="testpw", passphrase="asdf")["url_token"]
    logged = site.count_failed_passphrases()
    missing = site.get(f"/p/{token}.json")
    assert missing.status_code == 401 and missing.json()["error"] == "That passphrase is incorrect."
    assert site.count_failed_passphrases() == logged + 1
    wrong = site.get(f"/p/{token}.json?passphrase=badpassphrase")
    assert wrong.status_code == 401 and wrong.json()["error"] == "That passphrase is incorrect."
    assert site.count_failed_passphrases() == logged + 2


# --- qr_json_retrieval_test.rb ----------------------------------------------------------------------------

def test_view_with_passphrase(qr_site):
    token = qr(qr_site, payload="testqr", expire_after_views=2, passphrase="asdf")["url_token"]
    assert qr_site.get(f"/p/{token}.json").status_code == 401
    shown = qr_site.get(f"/p/{token}.json?passphrase=asdf")
    assert shown.status_code == 200 and shown.json()["payload"] == "testqr"


def test_view_expiration(qr_site):
    res = qr(qr_site, payload="testqr", expire_after_views=2)
    token = res["url_token"]
    for views_left in (1, 0):
        shown = qr_site.get(f"/p/{token}.json").json()
        assert (shown["expired"], shown["deleted"], shown["payload"]) == (False, False, "testqr")
        assert (shown["views_remaining"], shown["expire_after_views"]) == (views_left, 2)
    res = qr_site.get(f"/p/{token}.json").json()
    assert res["expired"] is True and res["expired_on"] is not None and res["deleted"] is False
    assert upstream_keys(res) == SHOWN_KEYS
    assert except_keys(res, "url_token", "created_at", "updated_at", "expired_on", "html_url", "json_url") == {
        "expire_after_views": 2, "expired": True, "deletable_by_viewer": True, "retrieval_step": False,
        "passphrase": None, "expire_after_days": 7, "days_remaining": 7, "views_remaining": 0, "deleted": False,
        "payload": None, "files": []}


# --- qr_json_audit_test.rb -----------------------------------------------------------------------------------

def test_audit_response_for_authenticated(site, luca):
    token = site.post("/p.json", json={"password": {"kind": "qr", "payload": "testqr", "expire_after_views": 2}},
                      headers=luca).json()["url_token"]
    for _ in range(3):
        assert site.get(f"/p/{token}.json").status_code == 200
    body = site.get(f"/p/{token}/audit.json", headers=luca).json()
    assert audit_rows(body) == _rows(site, ["creation", "view", "view", "failed_view"])


def test_audit_response_for_created_expired_successful_and_unsuccessful_views(site, luca):
    token = site.post("/p.json", json={"password": {"kind": "qr", "payload": "testqr", "passphrase": "asdf",
                                                    "expire_after_views": 3}}, headers=luca).json()["url_token"]
    for _ in range(2):
        assert site.get(f"/p/{token}.json?passphrase=asdf").status_code == 200
    assert site.get(f"/p/{token}.json").status_code == 401
    assert site.delete(f"/p/{token}.json", headers=luca).status_code == 200
    for _ in range(2):
        assert site.get(f"/p/{token}.json").status_code == 200
    body = site.get(f"/p/{token}/audit.json", headers=luca).json()
    assert audit_rows(body) == _rows(site, ["creation", "view", "view", "failed_passphrase", "expire", "failed_view",
                                            "failed_view"])


def test_no_token_no_audit_log(site, luca):
    token = site.post("/p.json", json={"password": {"kind": "qr", "payload": "testqr", "expire_after_views": 2}},
                      headers=luca).json()["url_token"]
    for _ in range(3):
        assert site.get(f"/p/{token}.json").status_code == 200
    assert site.get(f"/p/{token}/audit.json").status_code == 401


def test_no_audit_log_for_anonymous_pushes(site):
    token = site.post("/p.json", json={"password": {"kind": "qr", "payload": "testqr",
                                                    "expire_after_views": 2}}).json()["url_token"]
    for _ in range(3):
        assert site.get(f"/p/{token}.json").status_code == 200
    assert site.get(f"/p/{token}/audit.json").status_code == 401


# --- qr_json_preview_test.rb ------------------------------------------------------------------------------------

def test_preview_anonymous_response(site):
    token = qr(site, payload="testqr", expire_after_views=2)["url_token"]
    assert "url" in site.get(f"/p/{token}/preview.json").json()


def test_authenticated_preview_response(site, luca):
    token = site.post("/p.json", json={"password": {"kind": "qr", "payload": "testqr", "expire_after_views": 2}},
                      headers=luca).json()["url_token"]
    response = site.get(f"/p/{token}/preview.json", headers=luca)
    assert response.status_code == 200 and token in urlparse(response.json()["url"]).path


def test_override_base_url(make_site):
    site = make_site(PWP__OVERRIDE_BASE_URL="https://example.com:12345")
    token = push(site, payload="testqr", expire_after_views=2)["url_token"]
    url = urlparse(site.get(f"/p/{token}/preview.json").json()["url"])
    assert (url.hostname, url.port, url.scheme) == ("example.com", 12345, "https")
    assert token in url.path
