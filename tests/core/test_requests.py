"""Requests (core/requests.py): a logged-in user asks someone for a secret through a link
that takes one answer; the answer is a push only the requester opens; the request's
message goes when the request expires.  On SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import secrets
import time
from datetime import timedelta

import pytest
from sqlalchemy import text

from pwpush_app.core import accounts
from pwpush_app.core.errors import InvalidPush, LoginRequired, PushUnavailable
from pwpush_app.core.owners import audit_trail, owned_push, pushes_of_owner
from pwpush_app.core.purge import purge_expired
from pwpush_app.core.records import open_link_token
from pwpush_app.core.requests import (
    NewRequest,
    answer_request,
    create_request,
    request_landing,
    request_of,
    requests_of,
)
from pwpush_app.core.reveal import reveal_push

from .common import ALICE, MALLORY, SENDER, T0, run_at_once
from .test_plaintext_canary import assert_absent, encodings, files_under

PASSWORD = "correct horse battery staple"


@pytest.fixture
def requester(runtime):
    user = accounts.sign_up(runtime, "requester@example.com", PASSWORD, now=T0)
    return SENDER.__class__(ip=SENDER.ip, user_agent=SENDER.user_agent, user_id=user.id)


@pytest.fixture
def stranger(runtime):
    user = accounts.sign_up(runtime, "stranger@example.com", PASSWORD, now=T0)
    return MALLORY.__class__(ip=MALLORY.ip, user_agent=MALLORY.user_agent, user_id=user.id)


def request_row(runtime, request_id: str) -> dict:
    with runtime.engine.connect() as connection:
        return dict(connection.execute(text("SELECT * FROM secret_request WHERE id = :id"),
                                       {"id": request_id}).mappings().one())


def count(runtime, table: str) -> int:
    with runtime.engine.connect() as connection:
        return connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_a_request_takes_one_answer_that_only_the_requester_opens(runtime, requester, stranger):
    made = create_request(runtime, NewRequest(message="Send me the VPN password", expire_after_minutes=60,
                                              answer_views=2, answer_minutes=120), requester, now=T0)
    assert made.request.state == "open" and made.request.link_token == made.token
    assert request_landing(runtime, made.token, now=T0).message == "Send me the VPN password"

    answer_request(runtime, made.token, "vpn-Pa55word", ALICE, now=T0 + timedelta(minutes=5))

    # The link is used: it reads like an unknown one, for the page and for a second answer.
    for attempt in (lambda: request_landing(runtime, made.token, now=T0 + timedelta(minutes=6)),
                    lambda: answer_request(runtime, made.token, "another", MALLORY, now=T0 + timedelta(minutes=6))):
        with pytest.raises(PushUnavailable) as refusal:
            attempt()
        assert str(refusal.value) == "This secret link has expired or never existed."
    assert count(runtime, "push") == 1

    [listed] = requests_of(runtime, requester.user_id, now=T0 + timedelta(minutes=6))
    assert listed.state == "answered" and listed.link_token is None and listed.answer_push_id
    assert listed.message == "Send me the VPN password"
    push = owned_push(runtime, requester.user_id, listed.answer_push_id)
    assert push.owner_id == requester.user_id and push.expire_after_views == 2 and push.expire_after_minutes == 120
    assert push.expires_at == T0 + timedelta(minutes=125)
    # The answerer is anonymous in the audit trail; the requester reveals with the usual rules.
    [creation] = audit_trail(runtime, push)
    assert (creation.kind, creation.ip, creation.user_id) == ("creation", ALICE.ip, None)
    token = open_link_token(runtime, push)
    assert reveal_push(runtime, token, requester, now=T0 + timedelta(minutes=7)).payload == "vpn-Pa55word"

    # Nobody else sees the request or its answer.
    assert requests_of(runtime, stranger.user_id) == []
    with pytest.raises(PushUnavailable):
        request_of(runtime, stranger.user_id, made.request.id)
    with pytest.raises(PushUnavailable):
        owned_push(runtime, stranger.user_id, push.id)
    assert pushes_of_owner(runtime, stranger.user_id, expired=False) == []


def test_of_answers_at_once_exactly_one_lands(runtime, requester):
    made = create_request(runtime, NewRequest(message="The root password, please"), requester, now=T0)
    outcomes = []

    def answer(number: int) -> None:
        try:
            answer_request(runtime, made.token, f"answer {number}", ALICE, now=T0)
            outcomes.append(("won", number))
        except PushUnavailable:
            outcomes.append(("refused", number))

    run_at_once(answer, range(8))
    assert sorted(o[0] for o in outcomes) == ["refused"] * 7 + ["won"]
    [winner] = [number for outcome, number in outcomes if outcome == "won"]
    assert count(runtime, "push") == 1 and count(runtime, "audit_event") == 1
    [listed] = requests_of(runtime, requester.user_id, now=T0)
    push = owned_push(runtime, requester.user_id, listed.answer_push_id)
    assert reveal_push(runtime, open_link_token(runtime, push), requester, now=T0).payload == f"answer {winner}"


def test_an_expired_request_takes_no_answer_and_loses_its_message(runtime, requester):
    made = create_request(runtime, NewRequest(message="Message-canary-91f3", expire_after_minutes=30), requester,
                          now=T0)
    later = T0 + timedelta(minutes=30)
    with pytest.raises(PushUnavailable):
        answer_request(runtime, made.token, "too late", ALICE, now=later)
    with pytest.raises(PushUnavailable):
        request_landing(runtime, made.token, now=later)
    assert count(runtime, "push") == 0
    purge_expired(runtime, now=later)
    row = request_row(runtime, made.request.id)
    assert row["state"] == "expired"
    assert (row["wrapped_key"], row["message_sealed"], row["link_sealed"]) == (None, None, None)
    [listed] = requests_of(runtime, requester.user_id, now=later)
    assert (listed.state, listed.message, listed.link_token) == ("expired", "", None)


def test_an_answered_request_keeps_its_message_until_its_own_expiry(runtime, requester):
    made = create_request(runtime, NewRequest(message="Wi-Fi key?", expire_after_minutes=60), requester, now=T0)
    answer_request(runtime, made.token, "wifi", ALICE, now=T0)
    purge_expired(runtime, now=T0 + timedelta(minutes=61))
    row = request_row(runtime, made.request.id)
    assert row["state"] == "answered" and row["message_sealed"] is None and row["answer_push_id"]


def test_only_accounts_ask_and_bad_requests_or_answers_change_nothing(runtime, requester):
    with pytest.raises(LoginRequired, match="needs an account"):
        create_request(runtime, NewRequest(message="hi"), ALICE, now=T0)
    with pytest.raises(InvalidPush) as refused:
        create_request(runtime, NewRequest(message="  ", expire_after_minutes=0, answer_views=0, answer_minutes="x"),
                       requester, now=T0)
    assert set(refused.value.errors) == {"message", "expire_after_minutes", "answer_views", "answer_minutes"}
    assert count(runtime, "secret_request") == 0
    made = create_request(runtime, NewRequest(message="a key"), requester, now=T0)
    with pytest.raises(InvalidPush) as empty:
        answer_request(runtime, made.token, "   ", ALICE, now=T0)
    assert empty.value.errors == {"payload": "Enter the secret to share."}
    assert count(runtime, "push") == 0 and request_landing(runtime, made.token, now=T0).message == "a key"
    for token in ("", "x", "../../etc", made.token[:-1] + ("A" if made.token[-1] != "A" else "B")):
        with pytest.raises(PushUnavailable):
            answer_request(runtime, token, "s", ALICE, now=T0)


def test_no_message_answer_or_link_reaches_disk_or_logs(runtime, requester, caplog, capfd):
    started = time.time() - 1
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
    message = f"CANARY-message-{secrets.token_hex(16)}"
    answer = f"CANARY-answer-{secrets.token_hex(16)}"
    made = create_request(runtime, NewRequest(message=message), requester, now=T0)
    request_landing(runtime, made.token, now=T0)
    answer_request(runtime, made.token, answer, ALICE, now=T0)
    [listed] = requests_of(runtime, requester.user_id, now=T0)
    push = owned_push(runtime, requester.user_id, listed.answer_push_id)
    link = open_link_token(runtime, push)
    assert reveal_push(runtime, link, requester, now=T0).payload == answer
    canaries = {"message": message, "answer": answer, "request link": made.token, "answer link": link}
    needles = {f"{what} {i}": blob for what, value in canaries.items() for i, blob in enumerate(encodings(value))}
    assert_absent(needles, files_under(runtime.settings.data_dir, started))
    captured = capfd.readouterr()
    logs = "\n".join(record.getMessage() for record in caplog.records) + captured.out + captured.err
    assert_absent(needles, {"logs": logs.encode("utf-8")})
    with runtime.engine.connect() as connection:
        stored = repr([tuple(r) for r in connection.execute(text("SELECT * FROM secret_request"))])
    assert message not in stored and made.token not in stored


def test_key_rotation_moves_a_requests_key_and_its_link_needs_the_old_key_until_it_ends(make_runtime):
    from pwpush_app.core.keys import rotate_keys

    from .test_key_rotation import KEY_A, KEY_B

    old = make_runtime(PWPUSH_MASTER_KEY=KEY_A)
    user = accounts.sign_up(old, "rotates@example.com", PASSWORD, now=T0)
    asker = SENDER.__class__(ip=SENDER.ip, user_id=user.id)
    made = create_request(old, NewRequest(message="Rotated message"), asker, now=T0)
    rotated = make_runtime(PWPUSH_MASTER_KEY=KEY_B, PWPUSH_MASTER_KEY_PREVIOUS=KEY_A)
    assert rotate_keys(rotated, now=T0).records_rewrapped >= 1
    answer_request(rotated, made.token, "after rotation", ALICE, now=T0)
    only_new = make_runtime(PWPUSH_MASTER_KEY=KEY_B)
    [listed] = requests_of(only_new, user.id, now=T0)
    assert listed.message == "Rotated message" and listed.state == "answered"


def test_deleting_the_account_deletes_its_requests(runtime, requester):
    made = create_request(runtime, NewRequest(message="gone with the account"), requester, now=T0)
    accounts.delete_account(runtime, requester.user_id, PASSWORD, requester, now=T0)
    assert count(runtime, "secret_request") == 0
    with pytest.raises(PushUnavailable):
        answer_request(runtime, made.token, "too late", ALICE, now=T0)
