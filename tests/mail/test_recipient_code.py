"""Verify the recipient before the reveal (issue 21, pglombardo/PasswordPusher#1370), in the
core on SQLite and PostgreSQL, with the codes going through the outbox to a real SMTP
server: the reveal happens only with the right code, checked in the view's transaction; a
missing or stale code changes nothing; wrong codes count like wrong passphrases (the
lock-outs, the sender's burn after N); sends are limited; the address and the code never
reach the database in the clear."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from pwpush_app.core.audit import Client
from pwpush_app.core.create import NewPush, create_push
from pwpush_app.core.errors import (
    CodeExpired,
    CodeRequired,
    CodeSendLimited,
    InvalidPush,
    NotAllowed,
    PushLocked,
    PushUnavailable,
    TooManyAttempts,
    WrongCode,
    WrongPassphrase,
)
from pwpush_app.core.outbox import send_due_mails
from pwpush_app.core.recipient_code import NotVerifying, send_code
from pwpush_app.core.recipients import create_group
from pwpush_app.core.reveal import expire_by_viewer, landing, reveal_push
from tests.core.common import ALICE, MALLORY, T0, audit_kinds, push_row, run_at_once
from tests.core.files_support import signed_in_sender
from tests.core.test_plaintext_canary import assert_absent, encodings, files_under

SECRET = "Verified-secret-canary-5e1f"
BOB = "bob.recipient@example.org"


def _verified_push(runtime, **fields):
    sender = signed_in_sender(runtime)
    created = create_push(runtime, NewPush(payload=SECRET, verify_email=BOB, **fields), sender, now=T0)
    return created, sender


def _code_in(smtp, address: str, number: int = 1) -> str:
    mails = [m for m in smtp.wait_for(number) if address in m.rcpt_tos]
    assert len(mails) >= number, f"no mail number {number} to {address}"
    mail = mails[number - 1]
    assert SECRET not in mail.data.decode()
    digits = re.search(r"\b(\d{3}) (\d{3})\b", mail.text)
    assert digits, mail.text
    return digits.group(1) + digits.group(2)


def _mail_code(runtime, smtp, token: str, number: int = 1, now=T0, client=ALICE) -> str:
    send_code(runtime, token, client, now=now)
    assert send_due_mails(runtime, "w").sent == 1
    return _code_in(smtp, BOB, number)


def test_the_reveal_waits_for_the_mailed_code_and_takes_the_view_only_with_it(mail_runtime, smtp):
    created, sender = _verified_push(mail_runtime, expire_after_views=2)
    token = created.url_token
    assert landing(mail_runtime, token, ALICE, now=T0).needs_code

    # No code: refused like a missing passphrase, and nothing changes (no view, no event).
    before = audit_kinds(mail_runtime, created.push.id)
    with pytest.raises(CodeRequired):
        reveal_push(mail_runtime, token, ALICE, now=T0)
    # Before any code was sent, a code is "no code waiting": nothing counted either.
    with pytest.raises(CodeExpired):
        reveal_push(mail_runtime, token, ALICE, now=T0, code="123456")
    assert audit_kinds(mail_runtime, created.push.id) == before
    assert push_row(mail_runtime, created.push.id)["views_remaining"] == 2

    assert send_code(mail_runtime, token, ALICE, now=T0) == "b•••@example.org"
    assert send_due_mails(mail_runtime, "w").sent == 1
    [mail] = smtp.received
    assert mail.rcpt_tos == [BOB]
    code = _code_in(smtp, BOB)
    assert "10 minutes" in mail.text and SECRET not in mail.html
    assert sender.user_id not in mail.data.decode()  # the sender is not named (its address holds its id)

    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    with pytest.raises(WrongCode) as refused:
        reveal_push(mail_runtime, token, ALICE, now=T0 + timedelta(minutes=1), code=wrong)
    assert "That code is not correct" in str(refused.value) and refused.value.attempts_left == 4
    assert push_row(mail_runtime, created.push.id)["views_remaining"] == 2

    revealed = reveal_push(mail_runtime, token, ALICE, now=T0 + timedelta(minutes=2), code=f" {code[:3]} {code[3:]} ")
    assert revealed.payload == SECRET and revealed.views_remaining == 1
    # Single use: the same code again is no code at all, and takes nothing.
    with pytest.raises(CodeExpired):
        reveal_push(mail_runtime, token, ALICE, now=T0 + timedelta(minutes=3), code=code)
    assert push_row(mail_runtime, created.push.id)["views_remaining"] == 1
    kinds = audit_kinds(mail_runtime, created.push.id)
    assert kinds[-4:] == ["code_sent", "wrong_code", "code_verified", "view"]


def test_a_code_works_ten_minutes_and_a_new_one_replaces_it(mail_runtime, smtp):
    created, _sender = _verified_push(mail_runtime)
    token = created.url_token
    first = _mail_code(mail_runtime, smtp, token)
    with pytest.raises(CodeExpired):
        reveal_push(mail_runtime, token, ALICE, now=T0 + timedelta(minutes=10, seconds=1), code=first)
    assert push_row(mail_runtime, created.push.id)["views_remaining"] == created.push.expire_after_views

    second = _mail_code(mail_runtime, smtp, token, 2, now=T0 + timedelta(minutes=11))
    if second != first:  # one in a million they match
        with pytest.raises(WrongCode):
            reveal_push(mail_runtime, token, ALICE, now=T0 + timedelta(minutes=12), code=first)
    assert reveal_push(mail_runtime, token, ALICE, now=T0 + timedelta(minutes=12), code=second).payload == SECRET


def test_sends_are_limited_so_the_page_cannot_flood_the_inbox(mail_runtime, smtp):
    created, _sender = _verified_push(mail_runtime)
    token = created.url_token
    send_code(mail_runtime, token, ALICE, now=T0)
    with pytest.raises(CodeSendLimited) as limited:
        send_code(mail_runtime, token, MALLORY, now=T0 + timedelta(seconds=30))
    assert 1 <= limited.value.retry_after_seconds <= 31
    for minute in range(1, 5):
        send_code(mail_runtime, token, ALICE, now=T0 + timedelta(minutes=minute))
    with pytest.raises(CodeSendLimited) as limited:  # five an hour
        send_code(mail_runtime, token, ALICE, now=T0 + timedelta(minutes=10))
    assert limited.value.retry_after_seconds > 45 * 60
    assert send_due_mails(mail_runtime, "w").sent == 5
    assert audit_kinds(mail_runtime, created.push.id).count("code_sent") == 5


def test_wrong_codes_burn_the_push_like_wrong_passphrases(mail_runtime, smtp):
    created, _sender = _verified_push(mail_runtime, burn_after_failed_passphrases=2)
    token = created.url_token
    code = _mail_code(mail_runtime, smtp, token)
    wrong = f"{(int(code) + 7) % 1_000_000:06d}"
    with pytest.raises(WrongCode) as first:
        reveal_push(mail_runtime, token, ALICE, now=T0, code=wrong)
    assert first.value.burns_left == 1 and "One more wrong guess deletes the secret" in str(first.value)
    with pytest.raises(WrongCode) as second:
        reveal_push(mail_runtime, token, MALLORY, now=T0, code="000000" if code != "000000" else "111111")
    assert second.value.burns_left == 0 and "now deleted" in str(second.value)
    row = push_row(mail_runtime, created.push.id)
    assert row["expired"] and row["expired_reason"] == "guesses" and row["payload_sealed"] is None
    with pytest.raises(PushUnavailable):
        reveal_push(mail_runtime, token, ALICE, now=T0, code=code)
    assert "passphrase_burn" in audit_kinds(mail_runtime, created.push.id)


def test_wrong_codes_and_wrong_passphrases_share_the_lock_outs(mail_runtime, smtp):
    created, _sender = _verified_push(mail_runtime, passphrase="open sesame")
    token = created.url_token
    code = _mail_code(mail_runtime, smtp, token)
    wrong = f"{(int(code) + 3) % 1_000_000:06d}"
    for _ in range(3):
        with pytest.raises(WrongPassphrase):
            reveal_push(mail_runtime, token, MALLORY, passphrase="guess", now=T0, code=code)
    for _ in range(2):
        with pytest.raises(WrongCode):
            reveal_push(mail_runtime, token, MALLORY, passphrase="open sesame", now=T0, code=wrong)
    with pytest.raises(TooManyAttempts):
        reveal_push(mail_runtime, token, MALLORY, passphrase="open sesame", now=T0, code=code)
    # The right passphrase and code from elsewhere still open it; the code was not used up.
    assert reveal_push(mail_runtime, token, ALICE, passphrase="open sesame", now=T0, code=code).payload == SECRET
    assert not isinstance(TooManyAttempts(1), PushLocked)


def test_the_owner_looks_without_a_code_and_a_push_without_one_has_none(mail_runtime, smtp):
    created, sender = _verified_push(mail_runtime)
    look = reveal_push(mail_runtime, created.url_token, sender, now=T0)
    assert look.payload == SECRET
    assert push_row(mail_runtime, created.push.id)["views_remaining"] == created.push.expire_after_views
    plain = create_push(mail_runtime, NewPush(payload="plain"), sender, now=T0)
    with pytest.raises(NotVerifying):
        send_code(mail_runtime, plain.url_token, ALICE, now=T0)
    assert not landing(mail_runtime, plain.url_token, ALICE, now=T0).needs_code


def test_a_sender_may_ask_only_where_codes_can_go(make_runtime, smtp):
    quiet = make_runtime()
    sender = signed_in_sender(quiet)
    with pytest.raises(InvalidPush) as refused:
        create_push(quiet, NewPush(payload="x", verify_email=BOB), sender, now=T0)
    assert "This site sends no mail" in refused.value.errors["verify_email"]

    fenced = make_runtime(**smtp.env(PWPUSH_ALLOWED_RECIPIENT_DOMAINS="example.com"))
    sender = signed_in_sender(fenced)
    for email, words, who in (("not an address", "Not an email address", sender),
                              (BOB, "outside the domains this site mails (example.com)", sender),
                              ("ok@example.com", "Only logged-in senders", Client(ip="192.0.2.9"))):
        with pytest.raises(InvalidPush) as refused:
            create_push(fenced, NewPush(payload="x", verify_email=email), who, now=T0)
        assert words in refused.value.errors["verify_email"]
    with pytest.raises(InvalidPush) as refused:
        create_group(fenced, NewPush(payload="x", recipients=["ok@example.com", "Desk"], verify_recipients=True), sender)
    assert "name every recipient by email address" in refused.value.errors["verify_recipients"]
    with runtime_connection(fenced) as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM push").scalar_one() == 0
    # Burn after N needs something to guess: a passphrase, or now a code.
    assert create_push(fenced, NewPush(payload="x", verify_email="ok@example.com", burn_after_failed_passphrases=3),
                       sender, now=T0).push.burn_after_failed_passphrases == 3


def runtime_connection(runtime):
    return runtime.engine.connect()


def test_each_recipient_of_a_group_verifies_their_own_address(mail_runtime, smtp):
    sender = signed_in_sender(mail_runtime)
    group = create_group(mail_runtime, NewPush(payload=SECRET, recipients=["bob@example.org", "carol@example.net"],
                                               verify_recipients=True), sender, now=T0)
    bob, carol = group.pushes
    send_code(mail_runtime, bob.url_token, ALICE, now=T0)
    send_code(mail_runtime, carol.url_token, ALICE, now=T0)
    # The two link mails and the two codes (sent while the pushes live: at T0).
    assert send_due_mails(mail_runtime, "w", clock=lambda: T0).sent == 4
    codes = {}
    for mail in smtp.received:
        found = re.search(r"\b(\d{3}) (\d{3})\b", mail.text) if "verification code" in mail.text else None
        if found:
            codes[mail.rcpt_tos[0]] = found.group(1) + found.group(2)
    assert sorted(codes) == ["bob@example.org", "carol@example.net"]
    if codes["bob@example.org"] != codes["carol@example.net"]:
        with pytest.raises(WrongCode):  # Bob's code is not Carol's
            reveal_push(mail_runtime, carol.url_token, ALICE, now=T0, code=codes["bob@example.org"])
    assert reveal_push(mail_runtime, bob.url_token, ALICE, now=T0, code=codes["bob@example.org"]).payload == SECRET
    assert reveal_push(mail_runtime, carol.url_token, ALICE, now=T0, code=codes["carol@example.net"]).payload == SECRET


@pytest.mark.sqlite_only
def test_the_address_and_the_code_never_reach_the_database_in_the_clear(mail_runtime, smtp):
    address = "canary.5d0c9e@example.org"
    sender = signed_in_sender(mail_runtime)
    created = create_push(mail_runtime, NewPush(payload=SECRET, verify_email=address, expire_after_views=2), sender, now=T0)
    send_code(mail_runtime, created.url_token, ALICE, now=T0)
    data = mail_runtime.settings.data_dir
    needles = {f"{name} {blob[:2]!r}": blob for name, value in (("address", address), ("secret", SECRET)) for blob in encodings(value)}
    assert_absent(needles, files_under(data))  # queued: the mail is sealed, its row names the address masked
    assert send_due_mails(mail_runtime, "w").sent == 1
    code = re.search(r"\b(\d{3}) (\d{3})\b", smtp.received[0].text)
    code = code.group(1) + code.group(2)
    reveal_push(mail_runtime, created.url_token, ALICE, now=T0, code=code)
    assert_absent(needles, files_under(data))
    # The code as text in no column (six digits in a row can occur in any file's random bytes,
    # so the columns are read rather than the file).
    with mail_runtime.engine.connect() as connection:
        dumped = "\n".join(str(tuple(row)) for table in ("push", "audit_event", "mail_outbox")
                           for row in connection.exec_driver_sql(f"SELECT * FROM {table}"))
    assert code not in dumped and address not in dumped


def test_one_code_opens_one_view_however_many_use_it_at_once(mail_runtime, smtp):
    created, _sender = _verified_push(mail_runtime, expire_after_views=5)
    code = _mail_code(mail_runtime, smtp, created.url_token)
    outcomes = []

    def attempt(_n):
        try:
            outcomes.append(reveal_push(mail_runtime, created.url_token, ALICE, now=T0, code=code).payload)
        except CodeExpired:
            outcomes.append("no code waiting")

    run_at_once(attempt, range(4))
    assert sorted(outcomes) == [SECRET] + ["no code waiting"] * 3
    assert push_row(mail_runtime, created.push.id)["views_remaining"] == 4
    assert audit_kinds(mail_runtime, created.push.id).count("code_verified") == 1


def test_a_recipients_delete_needs_the_reveal_that_used_the_code(mail_runtime, smtp):
    created, _sender = _verified_push(mail_runtime, expire_after_views=3)
    token = created.url_token
    for receipt in (None, "forged-receipt"):
        with pytest.raises(NotAllowed) as refused:
            expire_by_viewer(mail_runtime, token, MALLORY, receipt=receipt, now=T0)
        assert "reveal the secret with the emailed code first" in str(refused.value)
    assert not push_row(mail_runtime, created.push.id)["expired"]
    code = _mail_code(mail_runtime, smtp, token)
    revealed = reveal_push(mail_runtime, token, ALICE, now=T0, code=code)
    expire_by_viewer(mail_runtime, token, ALICE, receipt=revealed.delete_receipt, now=T0)
    assert push_row(mail_runtime, created.push.id)["expired_reason"] == "viewer"


def test_the_code_mail_reads_in_the_language_of_the_page_it_was_asked_on(mail_runtime, smtp):
    created, _sender = _verified_push(mail_runtime)
    send_code(mail_runtime, created.url_token, ALICE, now=T0, locale="fr")
    assert send_due_mails(mail_runtime, "w").sent == 1
    mail = [m for m in smtp.wait_for(1) if BOB in m.rcpt_tos][0]
    assert mail.message["Subject"].startswith("Votre code : ")
    assert "dans les 10 minutes" in mail.text and "within" not in mail.text
    assert '<html lang="fr" dir="ltr">' in mail.html
