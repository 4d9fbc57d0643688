"""The outbox against real SMTP servers started here (aiosmtpd): plain, STARTTLS, implicit
TLS, AUTH, and servers that refuse, are absent or hang.  Mail goes only through the
outbox; failures are retried with back-off, given up for good refusals, logged, and shown
to the account they belong to."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from pwpush_app.core import letters
from pwpush_app.core.accounts import issue_api_token
from pwpush_app.core.clock import utcnow
from pwpush_app.core.db import transaction
from pwpush_app.core.models_mail import MailOutbox
from pwpush_app.core.outbox import dismiss_mail_problem, mail_problems, queue_mail, send_due_mails
from tests.mail_servers import HangingServer, closed_port

CANARY = "Outbox-canary-7c1e9d"


def queue(runtime, to="bob@example.org", body=CANARY, user_id=None, purpose="test"):
    letter = letters.compose(runtime.settings, to, f"Hello {to}", "A heading", [body], "Why you got it.")
    with transaction(runtime.engine) as db:
        return queue_mail(db, runtime, letter, purpose, user_id=user_id, now=utcnow())


def outbox_rows(runtime) -> list[dict]:
    with runtime.engine.connect() as connection:
        return [dict(r) for r in connection.execute(text("SELECT * FROM mail_outbox")).mappings()]


def test_a_queued_mail_is_sealed_then_sent_in_text_and_html_and_deleted(mail_runtime, smtp):
    queue(mail_runtime)
    [row] = outbox_rows(mail_runtime)
    # At rest only ciphertext: neither the body nor the subject can be read from the row.
    assert CANARY.encode() not in row["message_sealed"] and b"Hello" not in row["message_sealed"]

    done = send_due_mails(mail_runtime, "worker-1")

    assert done.sent == 1
    [mail] = smtp.received
    assert mail.rcpt_tos == ["bob@example.org"] and mail.mail_from == "secrets@example.com"
    message = mail.message
    assert message["Subject"] == "Hello bob@example.org"
    assert message["From"] == '"Secrets" <secrets@example.com>' or message["From"] == "Secrets <secrets@example.com>"
    assert message["Message-ID"].endswith("@example.com>")
    assert CANARY in mail.text and CANARY in mail.html
    # The site's branding: its title in both parts.
    assert mail_runtime.settings.brand_title in mail.text and mail_runtime.settings.brand_title in mail.html
    assert outbox_rows(mail_runtime) == []


def test_starttls_required_by_the_server(make_runtime, smtp_server):
    server = smtp_server(starttls=True, require_tls=True)
    runtime = make_runtime(**server.env(PWP__MAIL__SMTP_OPENSSL_VERIFY_MODE="none"))
    queue(runtime)
    assert send_due_mails(runtime, "w").sent == 1
    assert server.received[0].tls


def test_a_certificate_the_machine_does_not_trust_is_refused_unless_verify_mode_none(make_runtime, smtp_server, monkeypatch,
                                                                                      tls_files):
    server = smtp_server(starttls=True, require_tls=True)
    runtime = make_runtime(**server.env())  # verify mode: peer
    queue(runtime)
    done = send_due_mails(runtime, "w")
    assert (done.sent, done.retrying) == (0, 1)
    [row] = outbox_rows(runtime)
    assert "certificate" in row["last_error"]
    assert server.received == []

    # Trusted (as a company CA would be): the same mail goes on its next attempt.
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_files[0]))
    with transaction(runtime.engine) as db:
        db.execute(text("UPDATE mail_outbox SET next_attempt_at = :now"), {"now": utcnow()})
    assert send_due_mails(runtime, "w").sent == 1
    assert server.received[0].tls


def test_implicit_tls(make_runtime, smtp_server):
    server = smtp_server(implicit_tls=True)
    runtime = make_runtime(**server.env(PWPUSH_MAIL_SMTP_TLS="true", PWP__MAIL__SMTP_OPENSSL_VERIFY_MODE="none"))
    queue(runtime)
    assert send_due_mails(runtime, "w").sent == 1
    assert server.received[0].tls


@pytest.mark.parametrize("method", ["plain", "login"])
def test_auth_over_starttls(make_runtime, smtp_server, method):
    server = smtp_server(starttls=True, users={"apikey": "Sm7p-Pa55word-canary"})
    runtime = make_runtime(**server.env(PWP__MAIL__SMTP_USER_NAME="apikey", PWP__MAIL__SMTP_PASSWORD="Sm7p-Pa55word-canary",
                                        PWP__MAIL__SMTP_AUTHENTICATION=method, PWP__MAIL__SMTP_OPENSSL_VERIFY_MODE="none"))
    queue(runtime)
    assert send_due_mails(runtime, "w").sent == 1
    assert server.received[0].authenticated_as == "apikey" and server.received[0].tls


def test_a_wrong_smtp_password_is_retried_and_never_written_anywhere(make_runtime, smtp_server, caplog):
    server = smtp_server(users={"apikey": "the-right-one"})
    password = "Wr0ng-Sm7p-canary"
    runtime = make_runtime(**server.env(PWP__MAIL__SMTP_USER_NAME="apikey", PWP__MAIL__SMTP_PASSWORD=password))
    user, _token = issue_api_token(runtime, "owner@example.com")
    queue(runtime, user_id=user.id)
    with caplog.at_level(logging.INFO):
        done = send_due_mails(runtime, "w")
    assert (done.sent, done.retrying) == (0, 1)
    [problem] = mail_problems(runtime, user.id)
    assert "refused the login of apikey" in problem.error and not problem.given_up
    assert password not in caplog.text and password not in problem.error
    assert "refused the login" in caplog.text
    assert server.received == []


def test_required_starttls_missing_means_no_password_goes_out_in_the_clear(make_runtime, smtp_server):
    server = smtp_server(users={"apikey": "Sm7p-Pa55word-canary"})  # no STARTTLS offered
    runtime = make_runtime(**server.env(PWP__MAIL__SMTP_STARTTLS="true", PWP__MAIL__SMTP_USER_NAME="apikey",
                                        PWP__MAIL__SMTP_PASSWORD="Sm7p-Pa55word-canary"))
    queue(runtime)
    done = send_due_mails(runtime, "w")
    assert done.retrying == 1 and server.received == [] and server.auth_attempts == []
    assert "does not offer STARTTLS" in outbox_rows(runtime)[0]["last_error"]


def test_a_recipient_refused_for_good_is_given_up_at_once_and_shown_to_its_account(make_runtime, smtp_server, caplog):
    server = smtp_server()
    server.collector.refuse_recipients = "550 5.1.1 No such user here"
    runtime = make_runtime(**server.env())
    user, _token = issue_api_token(runtime, "owner@example.com")
    queue(runtime, to="nobody@example.org", user_id=user.id)
    with caplog.at_level(logging.WARNING):
        done = send_due_mails(runtime, "w")
    assert (done.sent, done.given_up) == (0, 1)
    [row] = outbox_rows(runtime)
    # Given up: the message (and its key) is gone; what failed stays for the account.
    assert row["status"] == "failed" and row["message_sealed"] is None and row["wrapped_key"] is None
    [problem] = mail_problems(runtime, user.id)
    assert problem.given_up and problem.recipient == "nobody@example.org"
    assert "550 5.1.1 No such user here" in problem.error
    assert "given up after 1 attempt" in caplog.text and "n…@example.org" in caplog.text
    assert "nobody@example.org" not in caplog.text
    # Only its account can dismiss it, and a mail still waiting can't be dismissed.
    other, _token = issue_api_token(runtime, "other@example.com")
    dismiss_mail_problem(runtime, other.id, problem.id)
    assert mail_problems(runtime, user.id) == [problem]
    waiting = queue(runtime, to="later@example.org", user_id=user.id)
    dismiss_mail_problem(runtime, user.id, waiting)
    dismiss_mail_problem(runtime, user.id, problem.id)
    assert [r["id"] for r in outbox_rows(runtime)] == [waiting]


def test_a_temporary_refusal_is_retried_with_back_off_until_it_goes(make_runtime, smtp_server):
    server = smtp_server()
    server.collector.refuse_recipients = "450 4.2.1 Mailbox busy, try later"
    runtime = make_runtime(**server.env(PWPUSH_MAIL_RETRY_SECONDS="60"))
    queue(runtime)
    start = utcnow()
    assert send_due_mails(runtime, "w", clock=lambda: start).retrying == 1
    [row] = outbox_rows(runtime)
    assert row["attempts"] == 1 and "450 4.2.1" in row["last_error"]
    # Not due again before its wait: nothing is tried.
    assert send_due_mails(runtime, "w", clock=lambda: start + timedelta(seconds=59)).retrying == 0
    assert send_due_mails(runtime, "w", clock=lambda: start + timedelta(seconds=61)).retrying == 1
    with transaction(runtime.engine, write=False) as db:
        second = db.exec(select(MailOutbox)).one()
    assert second.attempts == 2
    # The wait doubles: 60 s after the first failure, 120 s after the second.
    assert second.next_attempt_at - (start + timedelta(seconds=61)) == timedelta(seconds=120)
    server.collector.refuse_recipients = None
    assert send_due_mails(runtime, "w", clock=lambda: start + timedelta(seconds=200)).sent == 1
    assert len(server.received) == 1 and outbox_rows(runtime) == []


def test_no_server_listening_is_retried_then_given_up_after_the_last_attempt(make_runtime, smtp):
    runtime = make_runtime(**smtp.env(PWP__MAIL__SMTP_PORT=str(closed_port()), PWPUSH_MAIL_MAX_ATTEMPTS="3"))
    user, _token = issue_api_token(runtime, "owner@example.com")
    queue(runtime, user_id=user.id)
    clock = utcnow()
    for attempt in range(1, 4):
        done = send_due_mails(runtime, "w", clock=lambda: clock)
        clock += timedelta(hours=3)
    assert done.given_up == 1
    [problem] = mail_problems(runtime, user.id)
    assert problem.given_up and problem.attempts == 3 and "refused" in problem.error


def test_a_server_that_never_answers_times_out_and_the_mail_waits(make_runtime, smtp):
    hanging = HangingServer()
    try:
        runtime = make_runtime(**smtp.env(PWP__MAIL__SMTP_PORT=str(hanging.port), PWP__MAIL__SMTP_OPEN_TIMEOUT="1",
                                          PWP__MAIL__SMTP_READ_TIMEOUT="1", PWPUSH_MAIL_LEASE_SECONDS="20"))
        queue(runtime)
        queue(runtime, to="carol@example.org")
        started = time.monotonic()
        done = send_due_mails(runtime, "w")
        took = time.monotonic() - started
    finally:
        hanging.stop()
    # One connection attempt, cut off by the open timeout; the round stops there (the
    # second mail waits for the next round instead of hanging too).
    assert (done.sent, done.retrying) == (0, 1)
    assert took < 10
    rows = sorted(outbox_rows(runtime), key=lambda r: r["attempts"])
    assert [r["attempts"] for r in rows] == [0, 1]
    assert "did not answer in time" in rows[1]["last_error"]
    assert all(r["lease_until"] is None or r["attempts"] == 0 for r in rows)


def test_a_link_mail_whose_push_expired_first_is_dropped_not_sent(mail_runtime, smtp):
    from pwpush_app.core.audit import Client
    from pwpush_app.core.create import NewPush, create_push
    from pwpush_app.core.owners import expire_by_owner

    user, _token = issue_api_token(mail_runtime, "sender@example.com")
    client = Client(ip="192.0.2.1", user_id=user.id)
    created = create_push(mail_runtime, NewPush(payload=CANARY, notify_emails_to="bob@example.org"), client)
    expire_by_owner(mail_runtime, created.push, client)
    done = send_due_mails(mail_runtime, "w")
    assert (done.sent, done.dropped) == (0, 1)
    assert smtp.received == [] and outbox_rows(mail_runtime) == []
    with mail_runtime.engine.connect() as connection:
        status = connection.execute(text("SELECT status FROM push_recipient")).scalar_one()
    assert status == "dropped"
