"""Sudo mode (accounts.require_recent_login): what signs in without the password and outlives a
password change, a passkey or an API token, is added only by a session whose login proved the
account's credentials in the last RECENT_LOGIN_MINUTES; a stolen session cookie alone adds
neither, however busy the session was since.  The operator's create-token command needs none."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import text

from pwpush_app.core import accounts, passkeys, two_factor
from pwpush_app.core.accounts import AccountError
from pwpush_app.core.session_checks import RECENT_LOGIN_MINUTES
from tests.soft_authenticator import SoftAuthenticator

from .common import T0

PASSWORD = "Correct-Horse-Battery-1"
IP = "192.0.2.1"
ORIGIN, HOST = "http://localhost:3000", "localhost:3000"
STALE = T0 + timedelta(minutes=RECENT_LOGIN_MINUTES + 1)


@pytest.fixture
def ann(runtime):
    return accounts.sign_up(runtime, "ann@example.com", PASSWORD, now=T0)


def _count(runtime, table: str) -> int:
    with runtime.engine.connect() as connection:
        return connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar()


def _refused(code: str, call, *args, **kwargs) -> AccountError:
    with pytest.raises(AccountError) as refusal:
        call(*args, **kwargs)
    assert refusal.value.code == code, refusal.value.code
    return refusal.value


def _add_passkey(runtime, user, session, now, device=None):
    device = device or SoftAuthenticator()
    options = passkeys.registration_options(runtime, user.id, ORIGIN, HOST, now, session_token=session)
    return passkeys.register(runtime, user.id, device.create(options), "Key", now, session_token=session)


def test_a_login_older_than_the_limit_adds_no_passkey_and_no_token_and_stores_nothing(runtime, ann):
    session = accounts.log_in(runtime, "ann@example.com", PASSWORD, IP, now=T0).session_token
    # Used every few minutes since: activity is not a login.
    for minutes in range(4, RECENT_LOGIN_MINUTES + 1, 4):
        assert accounts.user_for_session(runtime, session, T0 + timedelta(minutes=minutes)).id == ann.id
    refusal = _refused("login_again_passkey", passkeys.registration_options, runtime, ann.id, ORIGIN, HOST, STALE,
                       session_token=session)
    assert "log in again" in str(refusal)
    assert _count(runtime, "passkey_challenge") == 0
    _refused("login_again_token", accounts.regenerate_api_token, runtime, ann.id, STALE, session_token=session)
    assert accounts.get_user(runtime, ann.id).api_token_digest is None
    # Options asked for in time, answered after the limit: refused too, nothing kept.
    almost = T0 + timedelta(minutes=RECENT_LOGIN_MINUTES - 1)
    device = SoftAuthenticator()
    answer = device.create(passkeys.registration_options(runtime, ann.id, ORIGIN, HOST, almost, session_token=session))
    _refused("login_again_passkey", passkeys.register, runtime, ann.id, answer, "Key", STALE, session_token=session)
    assert passkeys.list_passkeys(runtime, ann.id) == []
    # The session itself still works: only these two actions ask for a new login.
    assert accounts.user_for_session(runtime, session, STALE).id == ann.id


def test_a_fresh_login_adds_them(runtime, ann):
    session = accounts.log_in(runtime, "ann@example.com", PASSWORD, IP, now=T0).session_token
    almost = T0 + timedelta(minutes=RECENT_LOGIN_MINUTES - 1)
    assert _add_passkey(runtime, ann, session, almost).name == "Key"
    token = accounts.regenerate_api_token(runtime, ann.id, almost, session_token=session)
    assert accounts.user_for_api_token(runtime, token).id == ann.id
    # Logged in again after the limit: allowed again.
    again = accounts.log_in(runtime, "ann@example.com", PASSWORD, IP, now=STALE).session_token
    assert accounts.regenerate_api_token(runtime, ann.id, STALE, session_token=again)
    # A passkey sign-in is a full login too.
    device = SoftAuthenticator()
    _add_passkey(runtime, ann, again, STALE, device)
    by_passkey = passkeys.sign_in(runtime, device.get(passkeys.login_options(runtime, ORIGIN, HOST, STALE)), None, IP,
                                  now=STALE).session_token
    assert accounts.regenerate_api_token(runtime, ann.id, STALE, session_token=by_passkey)


def test_no_session_another_accounts_or_an_ended_one_is_refused(runtime, ann):
    bob = accounts.sign_up(runtime, "bob@example.com", PASSWORD, now=T0)
    bobs = accounts.log_in(runtime, "bob@example.com", PASSWORD, IP, now=T0).session_token
    for session in (None, "", "x" * 1000, "made-up", bobs):
        _refused("login_again_token", accounts.regenerate_api_token, runtime, ann.id, T0, session_token=session)
        _refused("login_again_passkey", passkeys.registration_options, runtime, ann.id, ORIGIN, HOST, T0,
                 session_token=session)
    accounts.log_out(runtime, bobs)
    _refused("login_again_token", accounts.regenerate_api_token, runtime, bob.id, T0, session_token=bobs)
    assert accounts.get_user(runtime, ann.id).api_token_digest is None
    assert accounts.get_user(runtime, bob.id).api_token_digest is None


def test_a_password_change_proves_the_account_only_without_a_second_factor(runtime, ann):
    after_change = accounts.change_password(runtime, ann.id, PASSWORD, "A-Brand-New-Password-2", now=T0)
    assert accounts.regenerate_api_token(runtime, ann.id, T0, session_token=after_change)
    enrolment = two_factor.begin_enrolment(runtime, ann.id, T0)
    two_factor.confirm_enrolment(runtime, ann.id, pyotp.TOTP(enrolment.secret).at(T0), T0)
    # Password only, no code: the new session may not add what skips the code.
    after_change = accounts.change_password(runtime, ann.id, "A-Brand-New-Password-2", PASSWORD, now=T0)
    _refused("login_again_passkey", passkeys.registration_options, runtime, ann.id, ORIGIN, HOST, T0,
             session_token=after_change)
    _refused("login_again_token", accounts.regenerate_api_token, runtime, ann.id, T0, session_token=after_change)


def test_the_create_token_command_needs_no_session(runtime, ann):
    user, token = accounts.issue_api_token(runtime, "ann@example.com", now=STALE)
    assert user.id == ann.id and accounts.user_for_api_token(runtime, token).id == ann.id


def test_the_auditors_session_thief_gets_no_passkey_and_no_token(runtime, ann):
    """The audit's F4: the owner logs in with password and code; a thief holding only the session
    cookie (taken later, or a browser left unlocked) tries to add a passkey and an API token."""
    enrolment = two_factor.begin_enrolment(runtime, ann.id, T0)
    two_factor.confirm_enrolment(runtime, ann.id, pyotp.TOTP(enrolment.secret).at(T0), T0)
    step = accounts.log_in(runtime, "ann@example.com", PASSWORD, IP, now=T0)
    later = T0 + timedelta(seconds=31)
    stolen = two_factor.finish_login(runtime, step.token, pyotp.TOTP(enrolment.secret).at(later), IP, now=later).session_token

    thief_time = later + timedelta(minutes=RECENT_LOGIN_MINUTES + 1)
    victim = accounts.user_for_session(runtime, stolen, thief_time)
    _refused("login_again_passkey", passkeys.registration_options, runtime, victim.id, ORIGIN, HOST, thief_time,
             session_token=stolen)
    _refused("login_again_token", accounts.regenerate_api_token, runtime, victim.id, thief_time, session_token=stolen)
    assert passkeys.list_passkeys(runtime, ann.id) == [] and _count(runtime, "passkey_challenge") == 0

    # The owner changes the password: the stolen session ends, and the thief has nothing left.
    accounts.change_password(runtime, ann.id, PASSWORD, "A-Brand-New-Password-2", now=thief_time)
    assert accounts.user_for_session(runtime, stolen, thief_time) is None
    assert passkeys.list_passkeys(runtime, ann.id) == [] and accounts.get_user(runtime, ann.id).api_token_digest is None
