"""Mailing the link to recipients (notify_emails_to) in the core, through a real SMTP server:
who may, how many, what the mail says (never the secret or the note), the audit trail, and
that it costs no view."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from pwpush_app.core import link_mail, outbox
from pwpush_app.core.accounts import issue_api_token
from pwpush_app.core.audit import Client
from pwpush_app.core.create import NewPush, create_push
from pwpush_app.core.errors import InvalidPush, NotAllowed, PushUnavailable
from pwpush_app.core.i18n import sentences_in
from pwpush_app.core.outbox import send_due_mails
from pwpush_app.core.owners import audit_trail, expire_by_owner
from pwpush_app.core.records import find_push

PAYLOAD = "Payload-canary-4b7d1e"
NOTE = "Note-canary-9a2f6c"
PASSPHRASE = "Passphrase-canary-31c8"


@pytest.fixture
def sender(mail_runtime):
    user, _token = issue_api_token(mail_runtime, "sender@example.com")
    return Client(ip="192.0.2.10", user_agent="tests", user_id=user.id)


def count(runtime, table: str) -> int:
    with runtime.engine.connect() as connection:
        return connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_the_link_goes_to_each_recipient_with_its_expiry_and_sender_and_nothing_secret(mail_runtime, smtp, sender):
    created = create_push(mail_runtime, NewPush(payload=PAYLOAD, note=NOTE, passphrase=PASSPHRASE, expire_after_views=3,
                                                notify_emails_to="bob@example.org, Carol@Example.net"), sender)
    assert send_due_mails(mail_runtime, "w").sent == 2

    assert sorted(m.rcpt_tos[0] for m in smtp.received) == ["Carol@Example.net", "bob@example.org"]
    link = f"http://localhost:3000/p/{created.url_token}"
    for mail in smtp.received:
        assert mail.message["Subject"] == "sender@example.com sent you a secret"
        for body in (mail.text, mail.html):
            assert link in body and "sender@example.com" in body and "3 views" in body
            assert "passphrase" in body  # that one is needed, not what it is
        raw = mail.data.decode()
        for secret in (PAYLOAD, NOTE, PASSPHRASE, created.manage_token):
            assert secret not in raw
    push = find_push(mail_runtime, created.url_token)
    assert push.views_remaining == 3  # sending takes no view
    events = [e.kind for e in audit_trail(mail_runtime, push)]
    assert events.count("creation_email_send") == 2
    rows = link_mail.recipients_by_event(mail_runtime, [e.id for e in audit_trail(mail_runtime, push)])
    assert sorted((r.email, r.status) for r in rows.values()) == [("Carol@Example.net", "sent"), ("bob@example.org", "sent")]


@pytest.mark.parametrize("recipients, message", [
    ("a@x.org, b@x.org, c@x.org, d@x.org, e@x.org, f@x.org", "at most 5"),
    ("bob@example.org, BOB@example.org", "twice"),
    ("bob@example.org, not-an-address", "Not an email address: not-an-address"),
    (["bob@example.org", 7], "as text"),
])
def test_a_bad_recipient_list_is_refused_whole_and_nothing_is_created(mail_runtime, sender, recipients, message):
    with pytest.raises(InvalidPush) as refused:
        create_push(mail_runtime, NewPush(payload=PAYLOAD, notify_emails_to=recipients), sender)
    assert message in refused.value.errors["notify_emails_to"]
    assert count(mail_runtime, "push") == count(mail_runtime, "mail_outbox") == count(mail_runtime, "audit_event") == 0


def test_only_logged_in_senders_on_a_site_that_mails(mail_runtime, make_runtime):
    with pytest.raises(InvalidPush) as anonymous:
        create_push(mail_runtime, NewPush(payload=PAYLOAD, notify_emails_to="bob@example.org"), Client(ip="192.0.2.1"))
    assert "logged-in" in anonymous.value.errors["notify_emails_to"]

    no_mail = make_runtime(PWP__MAIL__SMTP_ADDRESS="")
    user, _token = issue_api_token(no_mail, "x@example.com")
    with pytest.raises(InvalidPush) as refused:
        create_push(no_mail, NewPush(payload=PAYLOAD, notify_emails_to="bob@example.org"), Client(user_id=user.id))
    assert "does not send links by email" in refused.value.errors["notify_emails_to"]
    assert count(no_mail, "push") == 0


def test_the_daily_limit_per_account(make_runtime, smtp):
    runtime = make_runtime(**smtp.env(PWP__NOTIFY_BY_EMAIL__DAILY_LIMIT="3"))
    user, _token = issue_api_token(runtime, "sender@example.com")
    client = Client(user_id=user.id)
    create_push(runtime, NewPush(payload=PAYLOAD, notify_emails_to="a@x.org, b@x.org"), client)
    with pytest.raises(InvalidPush) as refused:
        create_push(runtime, NewPush(payload=PAYLOAD, notify_emails_to="c@x.org, d@x.org"), client)
    assert "at most 3 links mailed per day" in refused.value.errors["notify_emails_to"]
    assert count(runtime, "push") == 1
    create_push(runtime, NewPush(payload=PAYLOAD, notify_emails_to="c@x.org"), client)


def test_mailing_an_existing_push_later_counts_towards_five_and_only_its_owner_may(mail_runtime, smtp, sender):
    created = create_push(mail_runtime, NewPush(payload=PAYLOAD, notify_emails_to="a@x.org, b@x.org"), sender)
    push = find_push(mail_runtime, created.url_token)
    assert link_mail.mail_link(mail_runtime, push, sender, "c@x.org d@x.org; e@x.org") == ["c@x.org", "d@x.org", "e@x.org"]
    with pytest.raises(InvalidPush) as full:
        link_mail.mail_link(mail_runtime, push, sender, "f@x.org")
    assert "5 already sent, 0 left" in full.value.errors["notify_emails_to"]

    other, _token = issue_api_token(mail_runtime, "other@example.com")
    with pytest.raises(NotAllowed):
        link_mail.mail_link(mail_runtime, push, Client(user_id=other.id), "g@x.org")
    with pytest.raises(NotAllowed):
        link_mail.mail_link(mail_runtime, push, Client(), "g@x.org")
    expire_by_owner(mail_runtime, push, sender)
    with pytest.raises(PushUnavailable):
        link_mail.mail_link(mail_runtime, find_push(mail_runtime, created.url_token), sender, "g@x.org")
    assert send_due_mails(mail_runtime, "w").sent == 0  # the five were for a push that expired first


def test_a_refused_recipient_shows_in_the_audit_trail(make_runtime, smtp_server):
    server = smtp_server()
    server.collector.refuse_recipients = "550 5.1.1 User unknown"
    runtime = make_runtime(**server.env())
    user, _token = issue_api_token(runtime, "sender@example.com")
    created = create_push(runtime, NewPush(payload=PAYLOAD, notify_emails_to="gone@example.org"), Client(user_id=user.id))
    send_due_mails(runtime, "w")
    push = find_push(runtime, created.url_token)
    [row] = link_mail.recipients_by_event(runtime, [e.id for e in audit_trail(runtime, push)]).values()
    assert link_mail.recipient_facts(row) == {
        "mailed_to": "gone@example.org", "mail_status": "not delivered",
        "mail_error": "The mail server refused the recipient: 550 5.1.1 User unknown"}
    # Kept in English; the pages find its sentence again and word it in the reader's language.
    assert sentences_in(row.error, outbox.FAILURES) == [{
        "text": "The mail server refused the recipient: {answer}", "values": {"answer": "550 5.1.1 User unknown"}}]
    assert sentences_in("Something else went wrong", outbox.FAILURES) == []
