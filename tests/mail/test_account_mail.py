"""Account emails (PWP__ENABLE_USER_ACCOUNT_EMAILS), through a real SMTP server: confirm the
address at sign-up, reset a forgotten password (one-time, one hour, same answer for any
address), unlock a locked account, hear of a new password or address."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import text

from pwpush_app.core import account_recovery, accounts, admin
from pwpush_app.core.accounts import AccountError, LoginFailed, LoginLocked
from pwpush_app.core.clock import utcnow
from pwpush_app.core.outbox import send_due_mails

PASSWORD = "Correct-Horse-Battery-1"
NEW_PASSWORD = "Another-Long-Passw0rd-2"
IP = "198.51.100.23"
LINK_RE = re.compile(r"http://localhost:3000/account/(confirm|reset|unlock|email)/([A-Za-z0-9_-]{16,64})")


@pytest.fixture
def runtime(make_runtime, smtp):
    return make_runtime(**smtp.env(PWP__ENABLE_USER_ACCOUNT_EMAILS="true"))


def delivered(runtime, smtp) -> list:
    # Tests move the clock up to a day ahead: mail queued "then" is due.
    send_due_mails(runtime, "tests", clock=lambda: utcnow() + timedelta(days=1))
    return smtp.received


def link_in(mail, action: str) -> str:
    found = [token for kind, token in LINK_RE.findall(mail.text) if kind == action]
    assert found, mail.text
    assert found[0] in mail.html
    return found[0]


def last_link(runtime, smtp, action: str) -> str:
    """The token in the newest delivered mail linking to `action` (mails queued together go in any order)."""
    for mail in reversed(delivered(runtime, smtp)):
        if any(kind == action for kind, _ in LINK_RE.findall(mail.text)):
            return link_in(mail, action)
    raise AssertionError(f"no {action} link delivered")


def confirmed_account(runtime, smtp, email="ann@example.com"):
    user = accounts.sign_up(runtime, email, PASSWORD)
    account_recovery.confirm_address(runtime, link_in(delivered(runtime, smtp)[-1], "confirm"))
    return user


def stored_text(runtime) -> str:
    """Every table's rows as text: what a copy of the database shows."""
    with runtime.engine.connect() as connection:
        rows = []
        for table in ("account_token", "mail_outbox", "pwpush_user"):
            rows += [repr(tuple(r)) for r in connection.execute(text(f"SELECT * FROM {table}"))]
    return "\n".join(rows)


def test_sign_up_asks_to_confirm_the_address_before_the_first_login(runtime, smtp):
    user = accounts.sign_up(runtime, "ann@example.com", PASSWORD)
    [mail] = delivered(runtime, smtp)
    assert mail.rcpt_tos == ["ann@example.com"] and "Confirm" in mail.message["Subject"]
    token = link_in(mail, "confirm")
    assert token not in stored_text(runtime)  # only its keyed hash is kept
    with pytest.raises(AccountError) as refused:
        accounts.log_in(runtime, "ann@example.com", PASSWORD, IP)
    assert refused.value.code == "email_unconfirmed"
    # A wrong password still says only "wrong email or password".
    with pytest.raises(LoginFailed):
        accounts.log_in(runtime, "ann@example.com", "Not-The-Password-1", IP)

    account_recovery.confirm_address(runtime, token)
    assert accounts.log_in(runtime, "ann@example.com", PASSWORD, IP).user.id == user.id
    with pytest.raises(AccountError) as again:
        account_recovery.confirm_address(runtime, token)
    assert again.value.code == "link_invalid"


def test_a_login_before_confirming_sends_the_link_again_at_most_every_ten_minutes(runtime, smtp):
    accounts.sign_up(runtime, "ann@example.com", PASSWORD)
    now = utcnow()
    for minutes in (1, 2, 11):
        with pytest.raises(AccountError):
            accounts.log_in(runtime, "ann@example.com", PASSWORD, IP, now=now + timedelta(minutes=minutes))
    mails = delivered(runtime, smtp)
    assert len(mails) == 2  # at sign-up, and 11 minutes later
    # The newer link works; the older one no longer does.
    with pytest.raises(AccountError):
        account_recovery.confirm_address(runtime, link_in(mails[0], "confirm"))
    account_recovery.confirm_address(runtime, link_in(mails[1], "confirm"))


def test_forgot_password_answers_the_same_for_any_address_and_mails_only_real_accounts(runtime, smtp):
    confirmed_account(runtime, smtp)
    before = len(smtp.received)
    assert account_recovery.request_password_reset(runtime, "ann@example.com", IP) is None
    assert account_recovery.request_password_reset(runtime, "nobody@example.com", IP) is None
    assert account_recovery.request_password_reset(runtime, "not even an address", IP) is None
    mails = delivered(runtime, smtp)[before:]
    assert [m.rcpt_tos for m in mails] == [["ann@example.com"]]
    assert "Reset your password" in mails[0].message["Subject"]
    assert "60 minutes" in mails[0].text


def test_a_reset_link_works_once_within_the_hour_and_ends_every_session(runtime, smtp):
    user = confirmed_account(runtime, smtp)
    session = accounts.log_in(runtime, "ann@example.com", PASSWORD, IP).session_token
    account_recovery.request_password_reset(runtime, "ann@example.com", IP)
    token = link_in(delivered(runtime, smtp)[-1], "reset")
    assert token not in stored_text(runtime)
    assert account_recovery.reset_link_works(runtime, token)
    # A password the rules refuse spends nothing.
    with pytest.raises(AccountError) as short:
        account_recovery.reset_password(runtime, token, "short", IP)
    assert short.value.code == "password_short"
    assert account_recovery.reset_link_works(runtime, token)

    account_recovery.reset_password(runtime, token, NEW_PASSWORD, IP)

    assert accounts.user_for_session(runtime, session) is None
    assert accounts.log_in(runtime, "ann@example.com", NEW_PASSWORD, IP).user.id == user.id
    with pytest.raises(LoginFailed):
        accounts.log_in(runtime, "ann@example.com", PASSWORD, IP)
    with pytest.raises(AccountError) as spent:
        account_recovery.reset_password(runtime, token, "Yet-Another-Passw0rd", IP)
    assert spent.value.code == "link_invalid"
    changed = delivered(runtime, smtp)[-1]
    assert "password was changed" in changed.message["Subject"] and NEW_PASSWORD not in changed.data.decode()


def test_a_reset_link_expires_after_one_hour(runtime, smtp):
    confirmed_account(runtime, smtp)
    now = utcnow()
    account_recovery.request_password_reset(runtime, "ann@example.com", IP, now=now)
    token = link_in(delivered(runtime, smtp)[-1], "reset")
    assert account_recovery.reset_link_works(runtime, token, now=now + timedelta(minutes=59))
    assert not account_recovery.reset_link_works(runtime, token, now=now + timedelta(minutes=61))
    with pytest.raises(AccountError) as late:
        account_recovery.reset_password(runtime, token, NEW_PASSWORD, IP, now=now + timedelta(minutes=61))
    assert late.value.code == "link_invalid"


def test_reset_requests_fill_no_inbox(runtime, smtp):
    confirmed_account(runtime, smtp)
    before = len(smtp.received)
    now = utcnow()
    for seconds in (0, 30, 300):
        account_recovery.request_password_reset(runtime, "ann@example.com", IP, now=now + timedelta(seconds=seconds))
    assert len(delivered(runtime, smtp)) == before + 1


def test_the_attempt_that_locks_an_account_mails_an_unlock_link(runtime, smtp):
    confirmed_account(runtime, smtp)
    for _ in range(runtime.settings.login_max_failures):
        with pytest.raises(LoginFailed):
            accounts.log_in(runtime, "ann@example.com", "Wrong-Password-000", IP)
    # An unknown address locks the same way, and nobody is mailed.
    for _ in range(runtime.settings.login_max_failures):
        with pytest.raises(LoginFailed):
            accounts.log_in(runtime, "ghost@example.com", "Wrong-Password-000", IP)
    with pytest.raises(LoginLocked):
        accounts.log_in(runtime, "ann@example.com", PASSWORD, IP)
    mails = delivered(runtime, smtp)
    unlock = [m for m in mails if "locked" in m.message["Subject"]]
    assert [m.rcpt_tos for m in unlock] == [["ann@example.com"]]

    account_recovery.unlock_account(runtime, link_in(unlock[0], "unlock"))
    assert accounts.log_in(runtime, "ann@example.com", PASSWORD, IP)
    with pytest.raises(AccountError):
        account_recovery.unlock_account(runtime, link_in(unlock[0], "unlock"))


def test_a_changed_password_is_told_by_mail(runtime, smtp):
    user = confirmed_account(runtime, smtp)
    accounts.change_password(runtime, user.id, PASSWORD, NEW_PASSWORD)
    mail = delivered(runtime, smtp)[-1]
    assert mail.rcpt_tos == ["ann@example.com"] and "password was changed" in mail.message["Subject"]
    assert "/forgot-password" in mail.text


def test_a_new_address_is_confirmed_from_it_and_the_old_one_is_told(runtime, smtp):
    user = confirmed_account(runtime, smtp)
    assert account_recovery.change_email(runtime, user.id, "ann@new.example", PASSWORD, IP) is False
    [ask] = [m for m in delivered(runtime, smtp) if "/account/email/" in m.text]
    assert ask.rcpt_tos == ["ann@new.example"]
    assert accounts.get_user(runtime, user.id).email == "ann@example.com"  # until confirmed

    assert account_recovery.confirm_new_email(runtime, link_in(ask, "email")) == "ann@new.example"
    assert accounts.get_user(runtime, user.id).email == "ann@new.example"
    told = delivered(runtime, smtp)[-1]
    assert told.rcpt_tos == ["ann@example.com"] and "ann@new.example" in told.text
    assert accounts.log_in(runtime, "ann@new.example", PASSWORD, IP)


def test_changing_the_address_needs_the_password_and_a_free_address(runtime, smtp):
    user = confirmed_account(runtime, smtp)
    confirmed_account(runtime, smtp, "bob@example.com")
    with pytest.raises(AccountError) as wrong:
        account_recovery.change_email(runtime, user.id, "ann@new.example", "Not-My-Password-1", IP)
    assert wrong.value.code == "current_password"
    with pytest.raises(AccountError) as taken:
        account_recovery.change_email(runtime, user.id, "bob@example.com", PASSWORD, IP)
    assert taken.value.code == "email_taken"


def test_without_account_emails_the_address_moves_at_once_and_recovery_says_no_mail(make_runtime):
    runtime = make_runtime()
    user = accounts.sign_up(runtime, "ann@example.com", PASSWORD)
    assert accounts.log_in(runtime, "ann@example.com", PASSWORD, IP)  # no confirmation needed
    assert account_recovery.change_email(runtime, user.id, "ann@new.example", PASSWORD, IP) is True
    assert accounts.get_user(runtime, user.id).email == "ann@new.example"
    with pytest.raises(AccountError) as refused:
        account_recovery.request_password_reset(runtime, "ann@new.example", IP)
    assert refused.value.code == "mail_unavailable"


def test_a_listed_admin_address_makes_an_administrator_only_once_its_owner_confirmed_it(make_runtime, smtp):
    """PWP__ADMIN_EMAILS: a stranger who signs up first with the listed address, or moves an
    account to it, is no administrator; the one who confirms the address by mail is."""
    runtime = make_runtime(**smtp.env(PWP__ENABLE_USER_ACCOUNT_EMAILS="true", PWP__ADMIN_EMAILS="boss@corp.example"))
    mover = confirmed_account(runtime, smtp, "mover@example.com")
    assert account_recovery.change_email(runtime, mover.id, "boss@corp.example", PASSWORD, IP) is False  # pending
    assert accounts.log_in(runtime, "mover@example.com", PASSWORD, IP).user.is_admin is False
    with pytest.raises(admin.NotAdmin):
        admin.require_admin(runtime, mover.id)

    squatter = accounts.sign_up(runtime, "boss@corp.example", PASSWORD)
    with pytest.raises(AccountError) as refused:
        accounts.log_in(runtime, "boss@corp.example", PASSWORD, IP)
    assert refused.value.code == "email_unconfirmed"
    with pytest.raises(admin.NotAdmin):  # not even stored as one, waiting for a confirmation
        admin.require_admin(runtime, squatter.id)

    # Whoever reads boss@corp.example's mail confirms it: from that login on, an administrator.
    account_recovery.confirm_address(runtime, last_link(runtime, smtp, "confirm"))
    assert accounts.log_in(runtime, "boss@corp.example", PASSWORD, IP).user.is_admin
    assert admin.require_admin(runtime, squatter.id).email == "boss@corp.example"


def test_an_address_moved_without_mail_must_be_confirmed_once_account_emails_come_on(make_runtime, smtp):
    """Without account emails an account moves to a new address at once, unproved: it counts
    as unconfirmed, so when account emails are turned on its owner confirms it first."""
    quiet = make_runtime()
    user, _token = accounts.issue_api_token(quiet, "ops@example.com")  # made by an operator: confirmed
    accounts.set_password(quiet, user, PASSWORD)
    assert account_recovery.change_email(quiet, user.id, "ops-new@example.com", PASSWORD, IP) is True
    assert accounts.get_user(quiet, user.id).email_confirmed_at is None
    loud = make_runtime(**smtp.env(PWP__ENABLE_USER_ACCOUNT_EMAILS="true",
                                   PWPUSH_MASTER_KEY=quiet.settings.environment["PWPUSH_MASTER_KEY"]))
    with pytest.raises(AccountError) as refused:
        accounts.log_in(loud, "ops-new@example.com", PASSWORD, IP)
    assert refused.value.code == "email_unconfirmed"


def test_a_new_passkey_or_api_token_is_told_by_mail(runtime, smtp):
    from pwpush_app.core import passkeys
    from tests.soft_authenticator import SoftAuthenticator
    user = confirmed_account(runtime, smtp)
    session = accounts.log_in(runtime, "ann@example.com", PASSWORD, IP).session_token
    options = passkeys.registration_options(runtime, user.id, "http://localhost:3000", "localhost:3000",
                                            session_token=session)
    passkeys.register(runtime, user.id, SoftAuthenticator().create(options), "Thief's key", session_token=session)
    mail = delivered(runtime, smtp)[-1]
    assert mail.rcpt_tos == ["ann@example.com"] and "passkey was added" in mail.message["Subject"]
    assert "Thief's key" in mail.text and "/account" in mail.text
    accounts.regenerate_api_token(runtime, user.id, session_token=session)
    mail = delivered(runtime, smtp)[-1]
    assert mail.rcpt_tos == ["ann@example.com"] and "API token was created" in mail.message["Subject"]
    assert "/api-token" in mail.text


# --- a new password or address ends every mailed link (security audit) ------------------------------

def test_a_password_reset_cancels_a_pending_move_of_the_account(runtime, smtp):
    """Someone with the phished password asks to move the account to their mailbox; the owner
    resets the password.  The move's link no longer works: the account keeps its address and
    the intruder has no way back in."""
    owner = confirmed_account(runtime, smtp, "ann@example.com")
    intruder_session = accounts.log_in(runtime, "ann@example.com", PASSWORD, IP).session_token
    assert account_recovery.change_email(runtime, owner.id, "mallory@evil.example", PASSWORD, IP) is False
    move_token = link_in([m for m in delivered(runtime, smtp) if m.rcpt_tos == ["mallory@evil.example"]][-1], "email")

    account_recovery.request_password_reset(runtime, "ann@example.com", IP)
    reset = [m for m in delivered(runtime, smtp) if m.rcpt_tos == ["ann@example.com"]][-1]
    account_recovery.reset_password(runtime, link_in(reset, "reset"), NEW_PASSWORD, IP)
    assert accounts.user_for_session(runtime, intruder_session) is None

    with pytest.raises(AccountError) as late:
        account_recovery.confirm_new_email(runtime, move_token)
    assert late.value.code == "link_invalid"
    assert accounts.get_user(runtime, owner.id).email == "ann@example.com"
    before = len(smtp.received)
    account_recovery.request_password_reset(runtime, "mallory@evil.example", IP)
    assert [m for m in delivered(runtime, smtp)[before:] if m.rcpt_tos == ["mallory@evil.example"]] == []
    for email, password in (("mallory@evil.example", PASSWORD), ("mallory@evil.example", NEW_PASSWORD),
                            ("ann@example.com", PASSWORD)):
        with pytest.raises(LoginFailed):
            accounts.log_in(runtime, email, password, IP)
    assert accounts.log_in(runtime, "ann@example.com", NEW_PASSWORD, IP).user.id == owner.id


def test_a_reset_link_mailed_before_a_password_change_no_longer_works(runtime, smtp):
    owner = confirmed_account(runtime, smtp)
    account_recovery.request_password_reset(runtime, "ann@example.com", IP)
    token = link_in(delivered(runtime, smtp)[-1], "reset")
    accounts.change_password(runtime, owner.id, PASSWORD, NEW_PASSWORD)
    assert not account_recovery.reset_link_works(runtime, token)
    with pytest.raises(AccountError) as spent:
        account_recovery.reset_password(runtime, token, "Third-Password-333", IP)
    assert spent.value.code == "link_invalid"
    assert accounts.log_in(runtime, "ann@example.com", NEW_PASSWORD, IP).user.id == owner.id


def test_a_reset_link_mailed_to_the_old_address_no_longer_works_once_the_account_moved(runtime, smtp):
    owner = confirmed_account(runtime, smtp)
    account_recovery.request_password_reset(runtime, "ann@example.com", IP)
    token = link_in(delivered(runtime, smtp)[-1], "reset")
    account_recovery.change_email(runtime, owner.id, "ann@new.example", PASSWORD, IP)
    account_recovery.confirm_new_email(runtime, last_link(runtime, smtp, "email"))
    with pytest.raises(AccountError) as spent:
        account_recovery.reset_password(runtime, token, NEW_PASSWORD, IP)
    assert spent.value.code == "link_invalid"
    assert accounts.log_in(runtime, "ann@new.example", PASSWORD, IP).user.id == owner.id


def test_a_move_without_mail_ends_the_links_mailed_before(make_runtime, smtp):
    """Account emails turned off for a while: the account moves at once, and a link mailed to
    its old address before does not act on it at its new one."""
    loud = make_runtime(**smtp.env(PWP__ENABLE_USER_ACCOUNT_EMAILS="true"))
    owner = confirmed_account(loud, smtp)
    account_recovery.request_password_reset(loud, "ann@example.com", IP)
    token = link_in(delivered(loud, smtp)[-1], "reset")
    quiet = make_runtime(PWPUSH_MASTER_KEY=loud.settings.environment["PWPUSH_MASTER_KEY"])
    assert account_recovery.change_email(quiet, owner.id, "ann@new.example", PASSWORD, IP) is True
    assert not account_recovery.reset_link_works(loud, token)


def test_the_current_address_is_told_at_once_when_a_move_is_asked_for(runtime, smtp):
    owner = confirmed_account(runtime, smtp, "ann@example.com")
    before = len(smtp.received)
    account_recovery.change_email(runtime, owner.id, "mallory@evil.example", PASSWORD, IP)
    mails = delivered(runtime, smtp)[before:]
    assert sorted(m.rcpt_tos for m in mails) == [["ann@example.com"], ["mallory@evil.example"]]
    [told] = [m for m in mails if m.rcpt_tos == ["ann@example.com"]]
    assert "mallory@evil.example" in told.message["Subject"]
    assert "mallory@evil.example" in told.text and "mallory@evil.example" in told.html
    assert "change your password now" in told.text
    move_token = link_in([m for m in mails if m.rcpt_tos == ["mallory@evil.example"]][0], "email")
    for body in (told.text, told.html):
        assert LINK_RE.search(body) is None and move_token not in body
    assert accounts.get_user(runtime, owner.id).email == "ann@example.com"
