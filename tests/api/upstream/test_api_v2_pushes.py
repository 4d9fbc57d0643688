"""test/integration/api/api_v2_pushes_test.rb, ported.

Its fixture push (`pushes(:test_push)`, owned by giuliana) is made through the API here.
"""

from __future__ import annotations

import re

import pytest

from pwpush_app.core.outbox import queued_count, send_due_mails
from tests.api.upstream.conftest import MONKEY
from tests.mail_servers import SmtpServer


def bearer(user: dict) -> dict:
    return {"Authorization": f"Bearer {user['X-User-Token']}"}


def make_test_push(site, passphrase: str | None = None, deletable_by_viewer: bool = True) -> tuple[str, dict]:
    """A push owned by giuliana; returns its token and her headers."""
    giuliana = site.make_user("giuliana@example.org")
    fields = {"payload": "test push", "deletable_by_viewer": deletable_by_viewer}
    if passphrase:
        fields["passphrase"] = passphrase
    created = site.post("/api/v2/pushes", json={"push": fields}, headers=bearer(giuliana))
    assert created.status_code == 201, created.text
    return created.json()["url_token"], giuliana


def test_help_api_page_is_available(site):
    response = site.get("/help/api", follow_redirects=True)
    assert response.status_code == 200 and "swagger" in response.text.lower()


def test_help_api_page_documents_notify_emails_endpoint(site):
    # Our /help/api is the interactive docs, drawn from the OpenAPI document.
    paths = site.get("/api/openapi.json").json()["paths"]
    endpoint = paths["/api/v2/pushes/{token}/notify_emails"]["post"]
    assert {"401", "403", "404", "422", "429"} <= set(endpoint["responses"])


def test_legacy_api_v1_docs_are_redirected(site):
    assert site.get("/api").is_redirect


def test_versioned_accounts_endpoints_are_not_exposed_and_requests_need_a_token(site):
    # Upstream's free edition exposes neither; our requests (issue 20, docs/api.md) are an
    # account's own: without a token they are refused, never listed.
    assert site.get("/api/v2/requests").status_code == 401
    assert site.get("/api/v2/accounts").status_code == 404


def test_create_push_with_v2_payload(site):
    response = site.post("/api/v2/pushes", json={"push": {"payload": "api-v2-secret", "expire_after_days": 1,
                                                          "expire_after_views": 3}})
    assert response.status_code == 201
    assert response.json()["url_token"]


def test_show_push_is_public_when_token_is_valid(site):
    token, _ = make_test_push(site)
    assert site.get(f"/api/v2/pushes/{token}").status_code == 200


def test_show_rejects_invalid_token_header_even_for_public_endpoint(site):
    token, _ = make_test_push(site)
    assert site.get(f"/api/v2/pushes/{token}", headers={"Authorization": "Bearer invalid-token"}).status_code == 401


def test_preview_rejects_invalid_token_header_even_for_public_endpoint(site):
    token, _ = make_test_push(site)
    response = site.get(f"/api/v2/pushes/{token}/preview", headers={"Authorization": "Bearer invalid-token"})
    assert response.status_code == 401


def test_show_requires_passphrase_when_set(site):
    token, _ = make_test_push(site, passphrase="super-secret")
    assert site.get(f"/api/v2/pushes/{token}").status_code == 401


def test_show_rejects_wrong_passphrase(site):
    token, _ = make_test_push(site, passphrase="super-secret")
    assert site.get(f"/api/v2/pushes/{token}", params={"passphrase": "wrong-passphrase"}).status_code == 401


def test_show_accepts_valid_passphrase(site):
    token, _ = make_test_push(site, passphrase="super-secret")
    assert site.get(f"/api/v2/pushes/{token}", params={"passphrase": "super-secret"}).status_code == 200


def test_show_passphrase_is_rate_limited_after_five_attempts_per_push(site):
    token, _ = make_test_push(site, passphrase="super-secret")
    for _ in range(5):
        assert site.get(f"/api/v2/pushes/{token}", params={"passphrase": "wrong-passphrase"}).status_code == 401
    response = site.get(f"/api/v2/pushes/{token}", params={"passphrase": "wrong-passphrase"})
    assert response.status_code == 429
    assert "Too many passphrase attempts" in response.json()["error"]


def test_active_requires_authentication(site):
    assert site.get("/api/v2/pushes/active").status_code == 401


def test_expired_requires_authentication(site):
    assert site.get("/api/v2/pushes/expired").status_code == 401


def test_audit_requires_authentication(site):
    token, _ = make_test_push(site)
    assert site.get(f"/api/v2/pushes/{token}/audit").status_code == 401


def test_audit_forbidden_for_authenticated_non_owner(site):
    token, _ = make_test_push(site)
    one = site.make_user("one@example.org")
    assert site.get(f"/api/v2/pushes/{token}/audit", headers=bearer(one)).status_code == 403


def test_audit_allowed_for_authenticated_owner(site):
    token, giuliana = make_test_push(site)
    assert site.get(f"/api/v2/pushes/{token}/audit", headers=bearer(giuliana)).status_code == 200


def _mailed_push(site) -> tuple[str, dict]:
    """test_push with its fixture notify_by_email: the link mailed to one@example.com, in en."""
    giuliana = site.make_user("giuliana@example.org")
    created = site.post("/api/v2/pushes", headers=bearer(giuliana), json={"push": {
        "payload": "test push", "notify_emails_to": "one@example.com", "notify_emails_to_locale": "en"}})
    assert created.status_code == 201, created.text
    return created.json()["url_token"], giuliana


def _mail_log(site, token: str, owner: dict) -> dict:
    logs = site.get(f"/api/v2/pushes/{token}/audit", headers=bearer(owner)).json()["logs"]
    return next(log for log in logs if log["kind"] == "creation_email_send")


def test_audit_includes_notify_by_email_details(mail_site):
    site, _smtp, _runtime = mail_site
    token, giuliana = _mailed_push(site)
    log = _mail_log(site, token, giuliana)
    assert log["notify_by_email"]["locale"] == "en"
    assert log["notify_by_email"]["recipients"] == "one@example.com"
    assert log["notify_by_email"]["status"] == "pending"
    assert log["notify_by_email"]["successful_sends"] is None
    assert log["notify_by_email"]["proceed_at"] is None


def test_audit_includes_notify_by_email_details_for_completed_notify_by_email(mail_site):
    site, smtp, runtime = mail_site
    token, giuliana = _mailed_push(site)
    assert send_due_mails(runtime, "tests").sent == 1
    log = _mail_log(site, token, giuliana)
    assert log["notify_by_email"]["recipients"] == "one@example.com"
    assert log["notify_by_email"]["locale"] == "en"
    assert log["notify_by_email"]["status"] == "completed"
    assert log["notify_by_email"]["successful_sends"] == "one@example.com"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", log["notify_by_email"]["proceed_at"])
    assert smtp.received[-1].rcpt_tos == ["one@example.com"]


def test_active_allows_authenticated_access(site):
    one = site.make_user("one@example.org")
    assert site.get("/api/v2/pushes/active", headers=bearer(one)).status_code == 200


def test_destroy_forbidden_for_authenticated_non_owner_when_not_deletable_by_viewer(site):
    token, _ = make_test_push(site, deletable_by_viewer=False)
    one = site.make_user("one@example.org")
    assert site.delete(f"/api/v2/pushes/{token}", headers=bearer(one)).status_code == 401


def test_destroy_allowed_for_authenticated_owner(site):
    token, giuliana = make_test_push(site)
    assert site.delete(f"/api/v2/pushes/{token}", headers=bearer(giuliana)).status_code == 200
    assert site.get(f"/api/v2/pushes/{token}").json()["expired"] is True


def test_destroy_allowed_for_anonymous_viewer_when_deletable_by_viewer(site):
    token, _ = make_test_push(site, deletable_by_viewer=True)
    assert site.delete(f"/api/v2/pushes/{token}").status_code == 200
    assert site.get(f"/api/v2/pushes/{token}").json()["expired"] is True


def test_destroy_forbidden_for_anonymous_push_when_not_deletable_by_viewer(site):
    created = site.post("/api/v2/pushes", json={"push": {"payload": "anonymous-secret", "deletable_by_viewer": False}})
    assert created.status_code == 201
    token = created.json()["url_token"]
    assert created.json()["deletable_by_viewer"] is False
    assert site.delete(f"/api/v2/pushes/{token}").status_code == 401
    assert site.get(f"/api/v2/pushes/{token}").json()["payload"] == "anonymous-secret"


def test_create_requires_auth_when_allow_anonymous_disabled(make_site):
    site = make_site(PWP__ALLOW_ANONYMOUS="false")
    response = site.post("/api/v2/pushes", json={"push": {"payload": "blocked-anon-create"}})
    assert response.status_code in (401, 302)


def test_create_with_missing_payload_returns_json_validation_error_without_accept_header(site):
    response = site.post("/api/v2/pushes", json={"push": {"expire_after_days": 1, "expire_after_views": 5}})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert "payload" in response.json()


def test_create_file_upload_requires_authentication_even_when_allow_anonymous_enabled(make_site):
    # In-process with the default settings: the session's server lets anonymous callers send files.
    site = make_site(PWP__ALLOW_ANONYMOUS="true", PWP__ENABLE_FILE_PUSHES="true")
    response = site.post("/api/v2/pushes", data={"push[payload]": "v2-file-push-without-auth"},
                         files=[("push[files][]", MONKEY)])
    assert response.status_code == 401


def test_create_file_upload_allows_authenticated_user_when_allow_anonymous_enabled(make_site):
    site = make_site(PWP__ALLOW_ANONYMOUS="true", PWP__ENABLE_FILE_PUSHES="true")
    response = site.post("/api/v2/pushes", data={"push[payload]": "v2-file-push-with-auth"},
                         files=[("push[files][]", MONKEY)], headers=bearer(site.make_user(LUCA_EMAIL)))
    assert response.status_code == 201
    assert response.json()["url_token"]


LUCA_EMAIL = "luca@example.org"


def test_create_with_empty_files_key_requires_authentication_even_when_allow_anonymous_enabled(make_site):
    site = make_site(PWP__ALLOW_ANONYMOUS="true", PWP__ENABLE_FILE_PUSHES="true")
    response = site.post("/api/v2/pushes", json={"push": {"payload": "v2-file-key-empty-without-auth", "files": []}})
    assert response.status_code == 401


def test_create_with_valid_payload_returns_json_created_without_accept_header(site):
    response = site.post("/api/v2/pushes", json={"push": {"payload": "valid-secret-without-accept",
                                                          "expire_after_days": 1, "expire_after_views": 5}})
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json()["url_token"]


def test_create_with_null_payload_returns_json_validation_error_without_accept_header(site):
    response = site.post("/api/v2/pushes", json={"push": {"payload": None, "expire_after_days": 1,
                                                          "expire_after_views": 5}})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert "payload" in response.json()


def test_create_with_missing_push_param_returns_json_bad_request_without_accept_header(site):
    response = site.post("/api/v2/pushes", json={})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json()["error"]


@pytest.fixture
def mail_site(make_site):
    """The app in-process with a real SMTP server: (site, smtp server, runtime)."""
    smtp = SmtpServer().start()
    site = make_site(**smtp.env())
    yield site, smtp, site.runtime
    smtp.stop()


NOTIFY = {"notify_emails_to": "recipient@example.com", "notify_emails_to_locale": "en"}


def _refused_both(response) -> None:
    """422 naming both fields (Password Pusher's "are not available"; ours say what to do)."""
    assert response.status_code == 422
    body = response.json()
    assert body["notify_emails_to"][0] and body["notify_emails_to_locale"][0]


def test_create_with_notify_by_email_params_adds_a_job_to_the_queue(mail_site):
    site, _smtp, runtime = mail_site
    one = site.make_user("one@example.org")
    response = site.post("/api/v2/pushes", headers=bearer(one), json={"push": {"payload": "some-secret", **NOTIFY}})
    assert response.status_code == 201
    assert response.json()["notify_emails_to"] == "recipient@example.com"
    assert response.json()["notify_emails_to_locale"] == "en"
    assert queued_count(runtime) == 1


def test_create_with_notify_by_email_params_fails_when_feature_is_disabled(make_site):
    site = make_site(PWP__MAIL__SMTP_ADDRESS="smtp.example.com", PWP__NOTIFY_BY_EMAIL__ENABLED="false")
    one = site.make_user("one@example.org")
    _refused_both(site.post("/api/v2/pushes", headers=bearer(one), json={"push": {"payload": "some-secret", **NOTIFY}}))


def test_create_with_notify_by_email_params_fails_when_email_service_is_not_configured(make_site):
    site = make_site()
    one = site.make_user("one@example.org")
    _refused_both(site.post("/api/v2/pushes", headers=bearer(one), json={"push": {"payload": "some-secret", **NOTIFY}}))


def test_create_with_notify_by_email_params_fails_when_user_is_not_signed_in(make_site):
    site = make_site(PWP__MAIL__SMTP_ADDRESS="smtp.example.com")
    _refused_both(site.post("/api/v2/pushes", json={"push": {"payload": "some-secret", **NOTIFY}}))


def test_notify_emails_with_valid_params_returns_json_created(mail_site):
    site, _smtp, runtime = mail_site
    token, giuliana = make_test_push(site)
    response = site.post(f"/api/v2/pushes/{token}/notify_emails", headers=bearer(giuliana), json=NOTIFY)
    assert response.status_code == 201
    assert response.json()["message"] == "Recipient(s) are added to the queue to be sent."
    assert queued_count(runtime) == 1


def test_notify_emails_returns_not_found_when_feature_is_disabled(make_site):
    site = make_site(PWP__MAIL__SMTP_ADDRESS="smtp.example.com", PWP__NOTIFY_BY_EMAIL__ENABLED="false")
    token, giuliana = make_test_push(site)
    assert site.post(f"/api/v2/pushes/{token}/notify_emails", headers=bearer(giuliana), json=NOTIFY).status_code == 404


def test_notify_emails_with_valid_params_returns_error_when_email_service_is_not_configured(make_site):
    site = make_site()
    token, giuliana = make_test_push(site)
    _refused_both(site.post(f"/api/v2/pushes/{token}/notify_emails", headers=bearer(giuliana), json=NOTIFY))


def test_notify_emails_requires_authentication(mail_site):
    site = mail_site[0]
    token, _giuliana = make_test_push(site)
    assert site.post(f"/api/v2/pushes/{token}/notify_emails", json=NOTIFY).status_code == 401


def test_notify_emails_forbidden_for_non_owner(mail_site):
    site = mail_site[0]
    token, _giuliana = make_test_push(site)
    one = site.make_user("one@example.org")
    assert site.post(f"/api/v2/pushes/{token}/notify_emails", headers=bearer(one), json=NOTIFY).status_code == 403


def test_notify_emails_is_rate_limited_after_five_bursts_per_user(mail_site):
    site = mail_site[0]
    token, giuliana = make_test_push(site)
    for i in range(5):
        answer = site.post(f"/api/v2/pushes/{token}/notify_emails", headers=bearer(giuliana),
                           json={"notify_emails_to": f"recipient{i}@example.com", "notify_emails_to_locale": "en"})
        assert answer.status_code == 201
    response = site.post(f"/api/v2/pushes/{token}/notify_emails", headers=bearer(giuliana),
                         json={"notify_emails_to": "recipient5@example.com", "notify_emails_to_locale": "en"})
    assert response.status_code == 429
    assert "Too many email notification requests" in response.json()["error"]
