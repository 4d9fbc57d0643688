"""Recipients named by email (issue 21) and PWPUSH_ALLOWED_RECIPIENT_DOMAINS, through a real
SMTP server: each address gets its own link only; an address outside the instance's domains
is refused in every door that mails a link (create, a group's recipients, mailing later;
the core and the API), and nothing is stored or mailed."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from pwpush_app.core.accounts import issue_api_token
from pwpush_app.core.audit import Client
from pwpush_app.core.create import NewPush, create_push
from pwpush_app.core.errors import InvalidPush
from pwpush_app.core.link_mail import mail_link
from pwpush_app.core.outbox import send_due_mails
from pwpush_app.core.recipients import create_group
from tests.api.conftest import asgi_client

PAYLOAD = "Group-mail-canary-77d3"


def _sender(runtime, email: str = "sender@example.com") -> Client:
    user, _token = issue_api_token(runtime, email)
    return Client(ip="192.0.2.10", user_agent="tests", user_id=user.id)


def _count(runtime, table: str) -> int:
    with runtime.engine.connect() as connection:
        return connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_each_recipient_named_by_email_gets_only_their_own_link(mail_runtime, smtp):
    group = create_group(mail_runtime, NewPush(payload=PAYLOAD, recipients=["bob@example.org", "Desk", "carol@example.net"]),
                         _sender(mail_runtime))
    assert send_due_mails(mail_runtime, "w").sent == 2
    by_address = {m.rcpt_tos[0]: m for m in smtp.received}
    assert sorted(by_address) == ["bob@example.org", "carol@example.net"]
    links = {one.push.recipient: f"http://localhost:3000/p/{one.url_token}" for one in group.pushes}
    for address, mail in by_address.items():
        assert links[address] in mail.text
        others = [link for label, link in links.items() if label != address]
        assert not any(link in mail.data.decode() for link in others)  # never another recipient's link
        assert PAYLOAD not in mail.data.decode()


def test_a_group_with_emails_needs_a_site_that_mails(runtime):
    sender = _sender(runtime)
    with pytest.raises(InvalidPush) as refused:
        create_group(runtime, NewPush(payload="x", recipients=["Desk", "bob@example.org"]), sender)
    assert "does not send links by email" in refused.value.errors["recipients"]
    assert _count(runtime, "push") == 0


@pytest.fixture
def fenced(make_runtime, smtp):
    """Mail only to example.com and its subdomains."""
    return make_runtime(**smtp.env(PWPUSH_ALLOWED_RECIPIENT_DOMAINS="example.com"))


def test_allowed_domains_fence_every_core_door_and_subdomains_pass(fenced, smtp):
    sender = _sender(fenced)
    for request in (NewPush(payload="x", notify_emails_to="ok@example.com, eve@evil.example"),
                    NewPush(payload="x", recipients=["ok@example.com", "eve@example.com.evil.example"]),
                    NewPush(payload="x", notify_emails_to="eve@notexample.com")):
        with pytest.raises(InvalidPush) as refused:
            (create_group if request.recipients else create_push)(fenced, request, sender)
        assert "outside the domains this site mails links to (example.com)" in next(iter(refused.value.errors.values()))
    assert _count(fenced, "push") == 0 and _count(fenced, "mail_outbox") == 0

    created = create_push(fenced, NewPush(payload="x", notify_emails_to="ok@Example.COM, a@eu.example.com"), sender)
    with pytest.raises(InvalidPush) as refused:
        mail_link(fenced, created.push, sender, "eve@evil.example")
    assert "outside the domains" in refused.value.errors["notify_emails_to"]
    assert send_due_mails(fenced, "w").sent == 2
    assert sorted(m.rcpt_tos[0] for m in smtp.received) == ["a@eu.example.com", "ok@Example.COM"]


def test_allowed_domains_fence_the_api_too(fenced):
    api = asgi_client(fenced)
    try:
        _user, token = issue_api_token(fenced, "api-sender@example.com")
        owner = {"Authorization": f"Bearer {token}"}
        for fields, field in (({"notify_emails_to": "eve@evil.example"}, "notify_emails_to"),
                              ({"recipients": ["Desk", "eve@evil.example"]}, "recipients")):
            refused = api.post("/api/v2/pushes", json={"push": {"payload": "x", **fields}}, headers=owner)
            assert refused.status_code == 422 and "outside the domains" in refused.json()[field][0], refused.text
        assert _count(fenced, "push") == 0
        token_of_push = api.post("/api/v2/pushes", json={"push": {"payload": "x"}}, headers=owner).json()["url_token"]
        later = api.post(f"/api/v2/pushes/{token_of_push}/notify_emails", json={"notify_emails_to": "eve@evil.example"},
                         headers=owner)
        assert later.status_code == 422 and "outside the domains" in later.text
        assert _count(fenced, "mail_outbox") == 0
    finally:
        api.close()
