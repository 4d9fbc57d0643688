"""Telling senders what happened to their pushes: the core's lifecycle notes owner events
(view, wrong passphrase, expiry, deletion) in the transaction that did it; the sender turns
them into mails (or one daily digest) through a real SMTP server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from pwpush_app.core import notices
from pwpush_app.core.accounts import issue_api_token
from pwpush_app.core.audit import Client
from pwpush_app.core.clock import utcnow
from pwpush_app.core.create import NewPush, create_push
from pwpush_app.core.errors import WrongPassphrase
from pwpush_app.core.outbox import send_due_mails
from pwpush_app.core.owner_events import NoticeChoices, choose_notices
from pwpush_app.core.owners import expire_by_owner
from pwpush_app.core.purge import purge_expired
from pwpush_app.core.records import find_push
from pwpush_app.core.reveal import reveal_push
from tests.core.common import run_at_once

PAYLOAD = "Payload-canary-5e0a3b"
VIEWER = Client(ip="203.0.113.99", user_agent="Viewer-Browser/1.0")
ALL = NoticeChoices(on_view=True, on_failed_passphrase=True, on_expire=True)


@pytest.fixture
def owner(mail_runtime):
    user, _token = issue_api_token(mail_runtime, "owner@example.com")
    return Client(ip="192.0.2.10", user_agent="Owner-Browser", user_id=user.id)


def events(runtime) -> list[tuple]:
    with runtime.engine.connect() as connection:
        return [tuple(r) for r in connection.execute(text("SELECT kind, by_owner, in_digest FROM owner_event ORDER BY id"))]


def send(runtime, at=None) -> int:
    """What the background sender does in one round."""
    while notices.hand_out_events(runtime, at):
        pass
    notices.send_due_digests(runtime, at)
    return send_due_mails(runtime, "w", clock=(lambda: at) if at else notices.utcnow).sent


def test_a_view_wrong_passphrase_and_expiry_each_mail_the_owner_without_the_secret(mail_runtime, smtp, owner):
    choose_notices(mail_runtime, owner.user_id, ALL)
    created = create_push(mail_runtime, NewPush(payload=PAYLOAD, passphrase="open sesame", expire_after_views=1,
                                                name="Wi-Fi for Bob"), owner)
    with pytest.raises(WrongPassphrase):
        reveal_push(mail_runtime, created.url_token, VIEWER, passphrase="guess")
    reveal_push(mail_runtime, created.url_token, VIEWER, passphrase="open sesame")  # the last view: it expires
    assert [e[0] for e in events(mail_runtime)] == ["failed_passphrase", "viewed", "expired"]

    assert send(mail_runtime) == 3
    by_subject = {m.message["Subject"]: m for m in smtp.received}
    assert sorted(by_subject) == ["A wrong passphrase was tried on “Wi-Fi for Bob”", "Your push “Wi-Fi for Bob” expired",
                                  "Your push “Wi-Fi for Bob” was viewed"]
    viewed = by_subject["Your push “Wi-Fi for Bob” was viewed"]
    assert "203.0.113.99" in viewed.text and "Viewer-Browser/1.0" in viewed.text and "no views left" in viewed.text
    for mail in smtp.received:
        raw = mail.data.decode()
        assert mail.rcpt_tos == ["owner@example.com"]
        assert PAYLOAD not in raw and created.url_token not in raw and "open sesame" not in raw
    assert events(mail_runtime) == []  # handed out, then gone


def test_a_right_passphrase_is_no_wrong_passphrase_and_only_chosen_kinds_are_mailed(mail_runtime, smtp, owner):
    choose_notices(mail_runtime, owner.user_id, NoticeChoices(on_failed_passphrase=True))
    created = create_push(mail_runtime, NewPush(payload=PAYLOAD, passphrase="open sesame", expire_after_views=2), owner)
    reveal_push(mail_runtime, created.url_token, VIEWER, passphrase="open sesame")
    assert events(mail_runtime) == []
    assert send(mail_runtime) == 0


def test_nothing_is_noted_for_pushes_without_an_owner_or_owners_who_do_not_listen(mail_runtime, owner):
    anonymous = create_push(mail_runtime, NewPush(payload=PAYLOAD), Client(ip="192.0.2.1"))
    quiet = create_push(mail_runtime, NewPush(payload=PAYLOAD), owner)
    for created in (anonymous, quiet):
        reveal_push(mail_runtime, created.url_token, VIEWER)
    expire_by_owner(mail_runtime, find_push(mail_runtime, quiet.url_token), owner)
    assert events(mail_runtime) == []


def test_what_the_owner_did_is_not_mailed_to_them(mail_runtime, smtp, owner):
    choose_notices(mail_runtime, owner.user_id, ALL)
    created = create_push(mail_runtime, NewPush(payload=PAYLOAD), owner)
    expire_by_owner(mail_runtime, find_push(mail_runtime, created.url_token), owner)
    assert events(mail_runtime) == [("deleted", True, False)]
    assert send(mail_runtime) == 0


def test_the_purge_notes_expiry_by_time(mail_runtime, smtp, owner):
    choose_notices(mail_runtime, owner.user_id, NoticeChoices(on_expire=True))
    now = utcnow()
    create_push(mail_runtime, NewPush(payload=PAYLOAD, expire_after_minutes=5, name="Short one"), owner, now=now)
    assert purge_expired(mail_runtime, now=now + timedelta(minutes=6)) == 1
    assert send(mail_runtime) == 1
    assert "its time ran out" in smtp.received[0].text


def test_a_daily_digest_gathers_the_day_into_one_mail_at_the_digest_hour(make_runtime, smtp, owner):
    runtime = make_runtime(**smtp.env(PWPUSH_DIGEST_HOUR_UTC="7"))
    user, _token = issue_api_token(runtime, "owner@example.com")
    client = Client(user_id=user.id)
    choose_notices(runtime, user.id, NoticeChoices(on_view=True, on_expire=True, daily_digest=True))
    morning = utcnow().replace(hour=9, minute=0, second=0, microsecond=0)
    first = create_push(runtime, NewPush(payload=PAYLOAD, name="First", expire_after_views=3), client, now=morning)
    second = create_push(runtime, NewPush(payload=PAYLOAD, name="Second"), client, now=morning)
    reveal_push(runtime, first.url_token, VIEWER, now=morning + timedelta(hours=1))
    reveal_push(runtime, second.url_token, VIEWER, now=morning + timedelta(hours=2))
    expire_by_owner(runtime, find_push(runtime, second.url_token), Client(ip="192.0.2.5"), now=morning + timedelta(hours=3))

    assert send(runtime, at=morning + timedelta(hours=4)) == 0  # kept for the digest
    assert send(runtime, at=morning + timedelta(hours=21, minutes=59)) == 0  # 06:59 next day
    assert send(runtime, at=morning + timedelta(hours=22, minutes=1)) == 1  # 07:01
    [digest] = smtp.received
    assert digest.message["Subject"] == "Your pushes today: 3 things happened"
    assert digest.text.index("“First”") < digest.text.index("“Second”")
    assert "was deleted by its recipient" in digest.text
    assert send(runtime, at=morning + timedelta(days=2)) == 0  # nothing new, no empty digest


def test_two_workers_hand_out_each_event_once(mail_runtime, smtp, owner):
    choose_notices(mail_runtime, owner.user_id, NoticeChoices(on_view=True))
    created = create_push(mail_runtime, NewPush(payload=PAYLOAD, expire_after_views=40), owner)
    for _ in range(30):
        reveal_push(mail_runtime, created.url_token, VIEWER)
    run_at_once(lambda _n: notices.hand_out_events(mail_runtime), range(4))
    while notices.hand_out_events(mail_runtime):
        pass
    run_at_once(lambda n: send_due_mails(mail_runtime, f"worker-{n}"), range(3))
    assert len(smtp.received) == 30
    assert len({m.message["Message-ID"] for m in smtp.received}) == 30
