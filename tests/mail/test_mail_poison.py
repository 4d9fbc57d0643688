"""One bad row must never stop the site's mail (audit F1): a push name with a line break,
stored before names had to be one line, once made every mail round die at the notice's
Subject, so nobody got any mail again (password resets, sign-up confirmations, link mails,
other owners' notices) and no webhook event was handed out.  Through a real SMTP server."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text

from pwpush_app import jobs
from pwpush_app.core.accounts import issue_api_token, sign_up
from pwpush_app.core.audit import Client
from pwpush_app.core.create import NewPush, create_push
from pwpush_app.core.owner_events import NoticeChoices, choose_notices
from pwpush_app.core.reveal import reveal_push

VIEWER = Client(ip="203.0.113.99", user_agent="Viewer-Browser/1.0")
CONFIRM_SUBJECT = "Confirm your email address"


@pytest.fixture
def runtime(make_runtime, smtp):
    return make_runtime(**smtp.env(PWP__ENABLE_USER_ACCOUNT_EMAILS="true"))


def listening_owner(runtime, email: str) -> Client:
    user, _token = issue_api_token(runtime, email)
    choose_notices(runtime, user.id, NoticeChoices(on_view=True))
    return Client(ip="192.0.2.10", user_id=user.id)


def viewed_push(runtime, owner: Client, name: str, stored_name: str | None = None) -> str:
    """A push of `owner` viewed once (an owner event waits); `stored_name` is written straight
    into its row, as a database from before the one-line rule may hold it."""
    created = create_push(runtime, NewPush(payload="s3cret", name=name), owner)
    if stored_name is not None:
        with runtime.engine.begin() as connection:
            connection.execute(text("UPDATE push SET name = :name WHERE id = :id"),
                               {"name": stored_name, "id": created.push.id})
    reveal_push(runtime, created.url_token, VIEWER)
    return created.push.id


def subjects_to(smtp) -> dict[str, str]:
    return {m.rcpt_tos[0]: m.message["Subject"] for m in smtp.received}


def test_an_old_name_with_line_breaks_stops_no_mail_and_is_mailed_on_one_line(runtime, smtp):
    # What the auditor did: a name that breaks the Subject, then someone else's notice and a
    # stranger's sign-up confirmation queued behind it.
    attacker = listening_owner(runtime, "attacker@example.com")
    victim = listening_owner(runtime, "victim@example.com")
    viewed_push(runtime, attacker, "harmless", stored_name="evil\r\nBcc: all@example.com\nname\u2028x")
    sign_up(runtime, "newcomer@example.com", "a long enough password 123", ip="198.51.100.9")
    viewed_push(runtime, victim, "victim push")

    jobs.mail_round(runtime, "w1")

    subjects = subjects_to(smtp)
    assert subjects.pop("newcomer@example.com").startswith(CONFIRM_SUBJECT)
    assert subjects == {"attacker@example.com": "Your push “evil Bcc: all@example.com name x” was viewed",
                        "victim@example.com": "Your push “victim push” was viewed"}
    assert all(len(m.rcpt_tos) == 1 for m in smtp.received)  # no header smuggled in a recipient
    with runtime.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM owner_event")).scalar() == 0


@pytest.mark.sqlite_only  # PostgreSQL would refuse the broken row this test needs
def test_an_event_that_cannot_be_handed_out_is_logged_and_dropped_and_the_others_go(runtime, smtp, caplog):
    owner = listening_owner(runtime, "owner@example.com")
    other = listening_owner(runtime, "other@example.com")
    broken = viewed_push(runtime, owner, "broken")  # the first event in the queue
    viewed_push(runtime, other, "fine")
    sign_up(runtime, "newcomer@example.com", "a long enough password 123", ip="198.51.100.9")
    # A row the sender can't read: handing out its event raises, whatever the reason.
    with runtime.engine.begin() as connection:
        connection.execute(text("UPDATE push SET created_at = 'not a date' WHERE id = :id"), {"id": broken})

    with caplog.at_level(logging.WARNING, logger="pwpush"):
        jobs.mail_round(runtime, "w1")
        jobs.mail_round(runtime, "w1")

    assert sorted(subjects_to(smtp)) == ["newcomer@example.com", "other@example.com"]
    assert subjects_to(smtp)["other@example.com"] == "Your push “fine” was viewed"
    with runtime.engine.connect() as connection:  # dropped, not tried again every round
        assert connection.execute(text("SELECT count(*) FROM owner_event")).scalar() == 0
    told = [r.getMessage() for r in caplog.records if broken in r.getMessage()]
    assert len(told) == 1 and "dropped" in told[0] and "ValueError" in told[0], told


@pytest.mark.sqlite_only  # PostgreSQL would refuse the broken row this test needs
def test_a_step_of_the_mail_round_that_fails_lets_the_later_steps_send(runtime, smtp, caplog):
    owner = listening_owner(runtime, "owner@example.com")
    viewed_push(runtime, owner, "fine")
    sign_up(runtime, "newcomer@example.com", "a long enough password 123", ip="198.51.100.9")
    # A queue the first step can't even read: handing out events fails as a whole.
    with runtime.engine.begin() as connection:
        connection.execute(text("UPDATE owner_event SET created_at = 'not a date'"))

    with caplog.at_level(logging.WARNING, logger="pwpush"):
        done = jobs.mail_round(runtime, "w1")  # raises nothing

    assert done.sent == 1
    assert sorted(subjects_to(smtp)) == ["newcomer@example.com"]
    assert subjects_to(smtp)["newcomer@example.com"].startswith(CONFIRM_SUBJECT)
    told = [r.getMessage() for r in caplog.records if r.name == "pwpush.jobs"]
    assert any("owner events" in line and "ValueError" in line for line in told), told
    assert not any("not a date" in line for line in told)  # the error's type, never its text
