"""Verify the recipient through the JSON API (issue 21), on SQLite and PostgreSQL, with a
real SMTP server: `verify_email` on create, POST .../verification_code, and the code with
the retrieve. A retrieve without the code, or with a wrong, expired or used one, is refused
and takes no view; the other door (the page) is tested in tests/ui/test_recipient_code_pages.py."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from pwpush_app.core.accounts import issue_api_token
from pwpush_app.core.outbox import send_due_mails
from tests.api.conftest import asgi_client

SECRET = "Api-verified-canary-3c8a"
BOB = "bob@example.org"


@pytest.fixture
def api(mail_runtime):
    client = asgi_client(mail_runtime)
    yield client
    client.close()


@pytest.fixture
def owner(mail_runtime):
    _user, token = issue_api_token(mail_runtime, "sender@example.com")
    return {"Authorization": f"Bearer {token}"}


def _views_left(runtime, token_digest_push_id: str) -> int:
    with runtime.engine.connect() as connection:
        return connection.execute(text("SELECT views_remaining FROM push WHERE id = :id"),
                                  {"id": token_digest_push_id}).scalar_one()


def _said(response, field: str) -> str:
    """A 422's message for `field` (Password Pusher's shape: a list of messages)."""
    value = response.json()[field]
    return " ".join(value) if isinstance(value, list) else value


def _only_push_id(runtime) -> str:
    with runtime.engine.connect() as connection:
        return connection.execute(text("SELECT id FROM push")).scalar_one()


def _mailed_code(runtime, smtp, number: int) -> str:
    assert send_due_mails(runtime, "w").sent == 1
    mail = smtp.wait_for(number)[number - 1]
    assert mail.rcpt_tos == [BOB] and SECRET not in mail.data.decode()
    found = re.search(r"\b(\d{3}) (\d{3})\b", mail.text)
    return found.group(1) + found.group(2)


def test_the_api_retrieve_needs_the_mailed_code(api, mail_runtime, smtp, owner):
    created = api.post("/api/v2/pushes", headers=owner, json={"push": {
        "payload": SECRET, "verify_email": BOB, "expire_after_views": 2}})
    assert created.status_code == 201, created.text
    assert created.json()["verify_recipient"] is True and BOB not in created.text
    token = created.json()["url_token"]
    push_id = _only_push_id(mail_runtime)

    # Without the code, on both dialects: 401, and nothing taken.
    for path in (f"/api/v2/pushes/{token}", f"/p/{token}.json"):
        refused = api.get(path)
        assert refused.status_code == 401, refused.text
        assert refused.json()["error"] == "A verification code is required."
        assert "POST /api/v2/pushes/<url_token>/verification_code" in refused.json()["message"]
    # A code before any was sent: refused the same way, nothing counted.
    stale = api.get(f"/api/v2/pushes/{token}", headers={"X-Verification-Code": "123456"})
    assert stale.status_code == 401 and "request a new code" in stale.json()["message"]
    assert _views_left(mail_runtime, push_id) == 2

    sent = api.post(f"/api/v2/pushes/{token}/verification_code")
    assert sent.status_code == 202, sent.text
    assert sent.json()["sent_to"] == "b•••@example.org" and sent.json()["expires_in"] == 600
    again = api.post(f"/api/v2/pushes/{token}/verification_code")
    assert again.status_code == 429 and int(again.headers["Retry-After"]) <= 60
    code = _mailed_code(mail_runtime, smtp, 1)

    wrong = api.get(f"/api/v2/pushes/{token}", params={"verification_code": f"{(int(code) + 1) % 10**6:06d}"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "That verification code is incorrect."
    assert "4 attempts left" in wrong.json()["message"]
    both = api.get(f"/api/v2/pushes/{token}", params={"verification_code": code}, headers={"X-Verification-Code": code})
    assert both.status_code == 422
    assert _views_left(mail_runtime, push_id) == 2

    shown = api.get(f"/api/v2/pushes/{token}", headers={"X-Verification-Code": code})
    assert shown.status_code == 200 and shown.json()["payload"] == SECRET
    assert "verify_recipient" not in shown.json()
    reused = api.get(f"/api/v2/pushes/{token}", headers={"X-Verification-Code": code})
    assert reused.status_code == 401 and "no longer works" in reused.json()["message"]
    assert _views_left(mail_runtime, push_id) == 1

    logs = api.get(f"/api/v2/pushes/{token}/audit", headers=owner).json()["logs"]
    kinds = [log["kind"] for log in logs]
    assert kinds[-4:] == ["code_sent", "wrong_code", "code_verified", "view"]


def test_the_code_route_refuses_what_it_should(api, mail_runtime, owner):
    plain = api.post("/api/v2/pushes", headers=owner, json={"push": {"payload": "no code here"}}).json()["url_token"]
    assert api.post(f"/api/v2/pushes/{plain}/verification_code").status_code == 422
    assert api.post(f"/api/v2/pushes/{'A' * 22}/verification_code").json() == {"error": "not-found"}
    # Creating: anonymous senders, a bad address, and an edit can't add it.
    anonymous = api.post("/api/v2/pushes", json={"push": {"payload": "x", "verify_email": BOB}})
    assert anonymous.status_code == 422 and "Only logged-in senders" in _said(anonymous, "verify_email")
    bad = api.post("/api/v2/pushes", headers=owner, json={"push": {"payload": "x", "verify_email": 7}})
    assert bad.status_code == 422 and "verify_email must be text" in _said(bad, "verify_email")
    edited = api.patch(f"/api/v2/pushes/{plain}", headers=owner, json={"push": {"verify_email": BOB}})
    assert edited.status_code == 422


def test_a_site_without_mail_refuses_verification_clearly(make_runtime):
    runtime = make_runtime()
    _user, token = issue_api_token(runtime, "sender@example.com")
    client = asgi_client(runtime)
    try:
        refused = client.post("/api/v2/pushes", headers={"Authorization": f"Bearer {token}"},
                              json={"push": {"payload": "x", "verify_email": BOB}})
    finally:
        client.close()
    assert refused.status_code == 422 and "This site sends no mail" in _said(refused, "verify_email")


def test_a_group_verifies_each_recipient_through_the_api(api, mail_runtime, smtp, owner):
    created = api.post("/api/v2/pushes", headers=owner, json={"push": {
        "payload": SECRET, "recipients": [BOB, "carol@example.net"], "verify_recipients": True}})
    assert created.status_code == 201, created.text
    pushes = created.json()["pushes"]
    assert all(p["verify_recipient"] for p in pushes)
    labelled = api.post("/api/v2/pushes", headers=owner, json={"push": {
        "payload": SECRET, "recipients": [BOB, "Desk"], "verify_recipients": True}})
    assert labelled.status_code == 422 and "verify_recipients" in labelled.json()


def test_a_recipients_delete_through_the_api_needs_the_code_first(api, mail_runtime, owner):
    token = api.post("/api/v2/pushes", headers=owner, json={"push": {
        "payload": SECRET, "verify_email": BOB, "deletable_by_viewer": True}}).json()["url_token"]
    refused = api.delete(f"/api/v2/pushes/{token}")
    assert refused.status_code == 401 and "reveal the secret with the emailed code first" in refused.json()["error"]
    assert api.get("/api/v2/pushes/active", headers=owner).json()[0]["expired"] is False
