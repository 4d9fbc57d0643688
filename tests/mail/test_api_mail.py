"""The API's door to mail: `notify_emails_to` on create (JSON and form) and
POST /api/v2/pushes/:url_token/notify_emails, through a real SMTP server."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from pwpush_app.core import links
from pwpush_app.core.accounts import issue_api_token
from pwpush_app.core.outbox import send_due_mails
from tests.api.conftest import asgi_client

PAYLOAD = "Api-payload-canary-61f0"


@pytest.fixture
def api(mail_runtime):
    client = asgi_client(mail_runtime)
    yield client
    client.close()


@pytest.fixture
def token_of(mail_runtime):
    def headers(email: str) -> dict:
        _user, token = issue_api_token(mail_runtime, email)
        return {"Authorization": f"Bearer {token}"}
    return headers


def pushes(runtime) -> int:
    with runtime.engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM push")).scalar_one()


def test_create_with_recipients_mails_the_link_and_the_audit_shows_each_mail(api, mail_runtime, smtp, token_of):
    alice = token_of("alice@example.com")
    created = api.post("/api/v2/pushes", headers=alice, json={"push": {
        "payload": PAYLOAD, "expire_after_views": 2, "notify_emails_to": "bob@example.org,carol@example.org",
        "notify_emails_to_locale": "en"}})
    assert created.status_code == 201, created.text
    token = created.json()["url_token"]
    assert send_due_mails(mail_runtime, "w").sent == 2
    # A mailed link names the site's own address (settings.base_url), never the Host header
    # the API request carried (core/links.py): nobody checked that one for the recipient.
    mailed_link = links.secret_link(mail_runtime.settings.base_url, token)
    assert all(mailed_link in m.text and PAYLOAD not in m.data.decode() for m in smtp.received)

    logs = api.get(f"/api/v2/pushes/{token}/audit", headers=alice).json()["logs"]
    mailed = [log for log in logs if log["kind"] == "creation_email_send"]
    assert sorted(log["notify_by_email"]["recipients"] for log in mailed) == ["bob@example.org", "carol@example.org"]
    assert {log["notify_by_email"]["status"] for log in mailed} == {"completed"}
    assert all("notify_by_email" not in log for log in logs if log["kind"] != "creation_email_send")
    # No view was taken by the mails.
    assert api.get("/api/v2/pushes/active", headers=alice).json()[0]["views_remaining"] == 2


def test_form_fields_as_rails_sends_them(api, mail_runtime, smtp, token_of):
    response = api.post("/p.json", headers=token_of("alice@example.com"),
                        data={"password[payload]": PAYLOAD, "password[notify_emails_to]": "bob@example.org"})
    assert response.status_code == 201, response.text
    assert send_due_mails(mail_runtime, "w").sent == 1


@pytest.mark.parametrize("fields, field, words", [
    ({"notify_emails_to": "bob@example.org"}, "notify_emails_to", "logged-in"),
    ({"notify_emails_to": 12}, "notify_emails_to", "must be text"),
    ({"notify_emails_to": "bob@example.org", "notify_emails_to_locale": ["en"]}, "notify_emails_to_locale", "language code"),
])
def test_a_bad_request_is_a_422_and_creates_nothing(api, mail_runtime, fields, field, words):
    response = api.post("/api/v2/pushes", json={"push": {"payload": PAYLOAD, **fields}})
    assert response.status_code == 422
    assert words in response.json()[field][0]
    assert pushes(mail_runtime) == 0


def test_notify_emails_for_an_existing_push(api, mail_runtime, smtp, token_of):
    alice, bob = token_of("alice@example.com"), token_of("bob@example.com")
    token = api.post("/api/v2/pushes", headers=alice, json={"push": {"payload": PAYLOAD}}).json()["url_token"]
    path = f"/api/v2/pushes/{token}/notify_emails"

    sent = api.post(path, headers=alice, json={"notify_emails_to": "dave@example.org, erin@example.org"})
    assert sent.status_code == 201
    assert sent.json() == {"message": "Recipient(s) are added to the queue to be sent.",
                           "recipients": ["dave@example.org", "erin@example.org"]}
    assert api.post(path, headers=alice, data={"notify_emails_to": "frank@example.org"}).status_code == 201
    assert send_due_mails(mail_runtime, "w").sent == 3

    assert api.post(path, json={"notify_emails_to": "x@example.org"}).status_code == 401
    assert api.post(path, headers=bob, json={"notify_emails_to": "x@example.org"}).status_code == 403
    assert api.post("/api/v2/pushes/NoSuchTokenAtAll123456/notify_emails", headers=alice,
                    json={"notify_emails_to": "x@example.org"}).status_code == 404
    too_many = api.post(path, headers=alice, json={"notify_emails_to": "a@x.org,b@x.org,c@x.org"})
    assert too_many.status_code == 422 and "3 already sent, 2 left" in too_many.json()["error"]
    assert api.post(path, headers=alice, json={}).status_code == 422
    broken = api.post(path, headers={**alice, "Content-Type": "application/json"}, content=b"{not json")
    assert broken.status_code == 400
    assert api.post(path, headers={**alice, "Content-Type": "text/plain"}, content=b"x").status_code == 415

    api.delete(f"/api/v2/pushes/{token}", headers=alice)
    expired = api.post(path, headers=alice, json={"notify_emails_to": "late@example.org"})
    assert expired.status_code == 422 and "expired" in expired.json()["error"]
    assert send_due_mails(mail_runtime, "w").sent == 0


def test_version_says_whether_the_site_mails_links(api, make_runtime):
    assert api.get("/api/v2/version").json()["features"]["pushes"]["email_auto_dispatch"] is True
    quiet = asgi_client(make_runtime(PWP__MAIL__SMTP_ADDRESS=""))
    try:
        assert quiet.get("/api/v2/version").json()["features"]["pushes"]["email_auto_dispatch"] is False
    finally:
        quiet.close()
