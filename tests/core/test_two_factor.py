"""Two-factor sign-in and administrators, on SQLite and PostgreSQL: enrolment confirmed by a
code, the login step that opens no session, codes good once, backup codes good once, wrong
codes locking like wrong passwords, turning it off, PWP__REQUIRE_MFA, make-admin and
the admin rule.  Codes are computed by pyotp from the secret, as an authenticator app does."""

from __future__ import annotations

import base64
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import text

from pwpush_app.core import accounts, admin, login_steps, two_factor
from pwpush_app.core.accounts import AccountError, LoggedIn, LoginLocked
from pwpush_app.core.login_steps import SecondStep

from .common import T0, run_at_once

PASSWORD = "correct horse battery"
IP = "192.0.2.1"


@pytest.fixture
def alice(runtime):
    return accounts.sign_up(runtime, "alice@example.com", PASSWORD, now=T0)


def _code(secret: str, at=T0) -> str:
    return pyotp.TOTP(secret).at(at)


def _enrol(runtime, user, now=T0) -> tuple[str, list[str]]:
    enrolment = two_factor.begin_enrolment(runtime, user.id, now)
    return enrolment.secret, two_factor.confirm_enrolment(runtime, user.id, _code(enrolment.secret, now), now)


def _rows(runtime, sql: str, **params) -> list[dict]:
    with runtime.engine.connect() as connection:
        return [dict(r) for r in connection.execute(text(sql), params).mappings()]


def test_enrolment_is_on_only_after_a_code_from_its_secret(runtime, alice):
    enrolment = two_factor.begin_enrolment(runtime, alice.id, T0)
    assert enrolment.uri.startswith("otpauth://totp/") and "alice%40example.com" in enrolment.uri
    assert f"secret={enrolment.secret}" in enrolment.uri and enrolment.secret not in repr(enrolment)
    # Not on yet: a password still logs straight in.
    assert isinstance(accounts.log_in(runtime, "alice@example.com", PASSWORD, IP, now=T0), LoggedIn)
    with pytest.raises(AccountError) as refusal:
        two_factor.confirm_enrolment(runtime, alice.id, "000000" if _code(enrolment.secret) != "000000" else "111111", T0)
    assert refusal.value.code == "code_wrong"
    codes = two_factor.confirm_enrolment(runtime, alice.id, _code(enrolment.secret), T0)
    assert len(codes) == 10 and len(set(codes)) == 10 and all(len(c) == 11 and c[5] == "-" for c in codes)
    assert accounts.get_user(runtime, alice.id).two_factor_on
    with pytest.raises(AccountError) as refusal:
        two_factor.begin_enrolment(runtime, alice.id, T0)
    assert refusal.value.code == "two_factor_on"


def test_the_secret_and_backup_codes_are_not_stored_in_plaintext(runtime, alice):
    secret, codes = _enrol(runtime, alice)
    [row] = _rows(runtime, "SELECT * FROM pwpush_user WHERE id = :id", id=alice.id)
    dump = repr(row).encode() + b"".join(v for v in row.values() if isinstance(v, (bytes, memoryview)))
    for form in (secret, secret.lower(), base64.b32decode(secret).hex()):
        assert form.encode() not in dump
    stored = _rows(runtime, "SELECT code_hash FROM backup_code WHERE user_id = :id", id=alice.id)
    assert len(stored) == 10 and all(r["code_hash"].startswith("$argon2id$") for r in stored)
    assert not any(c.replace("-", "") in repr(stored) for c in codes)


def test_a_password_gives_only_a_step_and_the_code_opens_the_session(runtime, alice):
    secret, _codes = _enrol(runtime, alice)
    step = accounts.log_in(runtime, "alice@example.com", PASSWORD, IP, remember=True, now=T0)
    assert isinstance(step, SecondStep) and step.stage == login_steps.CODE
    # The step's token is no session.
    assert accounts.user_for_session(runtime, step.token, now=T0) is None
    later = T0 + timedelta(seconds=60)
    logged_in = two_factor.finish_login(runtime, step.token, _code(secret, later), IP, later)
    assert accounts.user_for_session(runtime, logged_in.session_token, now=later).id == alice.id
    # The step is spent: it opens nothing again.
    with pytest.raises(AccountError) as refusal:
        two_factor.finish_login(runtime, step.token, _code(secret, later + timedelta(seconds=30)), IP, later)
    assert refusal.value.code == "step_expired"


def test_a_code_is_accepted_once_and_not_before_its_successor(runtime, alice):
    secret, _codes = _enrol(runtime, alice)
    later = T0 + timedelta(minutes=5)
    step = accounts.log_in(runtime, "alice@example.com", PASSWORD, IP, now=later)
    two_factor.finish_login(runtime, step.token, _code(secret, later), IP, later)
    again = accounts.log_in(runtime, "alice@example.com", PASSWORD, IP, now=later)
    with pytest.raises(AccountError) as refusal:
        two_factor.finish_login(runtime, again.token, _code(secret, later), IP, later)
    assert refusal.value.code == "code_used"
    # The previous step's code (still inside the drift window) is refused too.
    with pytest.raises(AccountError):
        two_factor.finish_login(runtime, again.token, _code(secret, later - timedelta(seconds=30)), IP, later)
    nxt = later + timedelta(seconds=30)
    assert two_factor.finish_login(runtime, again.token, _code(secret, nxt), IP, nxt).user.id == alice.id


def test_the_same_code_racing_in_two_logins_opens_one_session(runtime, alice):
    secret, _codes = _enrol(runtime, alice)
    later = T0 + timedelta(minutes=5)
    steps = [accounts.log_in(runtime, "alice@example.com", PASSWORD, IP, now=later) for _ in range(4)]
    outcomes = []
    run_at_once(lambda s: outcomes.append(_try(lambda: two_factor.finish_login(runtime, s.token, _code(secret, later), IP, later))), steps)
    assert sorted(o if isinstance(o, str) else "session" for o in outcomes) == ["code_used"] * 3 + ["session"]


def _try(action):
    try:
        return action()
    except AccountError as refusal:
        return refusal.code


def test_a_backup_code_works_once(runtime, alice):
    secret, codes = _enrol(runtime, alice)
    step = accounts.log_in(runtime, "alice@example.com", PASSWORD, IP, now=T0)
    # Typed in capitals without the dash: still that code.
    two_factor.finish_login(runtime, step.token, codes[3].replace("-", " ").upper(), IP, T0)
    assert two_factor.backup_codes_left(runtime, alice.id) == 9
    step = accounts.log_in(runtime, "alice@example.com", PASSWORD, IP, now=T0)
    with pytest.raises(AccountError) as refusal:
        two_factor.finish_login(runtime, step.token, codes[3], IP, T0)
    assert refusal.value.code == "code_wrong"
    assert two_factor.finish_login(runtime, step.token, codes[4], IP, T0).user.id == alice.id


def test_wrong_codes_lock_out_like_wrong_passwords_and_a_new_password_step_resets_nothing(make_runtime):
    runtime = make_runtime(PWPUSH_LOGIN_MAX_FAILURES="4")
    user = accounts.sign_up(runtime, "alice@example.com", PASSWORD, now=T0)
    secret, _codes = _enrol(runtime, user)
    wrong = "000000" if _code(secret) != "000000" else "111111"
    for attempt in range(3):
        # A right password between wrong codes clears nothing.
        step = accounts.log_in(runtime, "alice@example.com", PASSWORD, IP, now=T0)
        with pytest.raises(AccountError) as refusal:
            two_factor.finish_login(runtime, step.token, wrong, IP, T0)
        assert refusal.value.code == "code_wrong"
    step = accounts.log_in(runtime, "alice@example.com", PASSWORD, IP, now=T0)
    with pytest.raises(LoginLocked):
        two_factor.finish_login(runtime, step.token, wrong, IP, T0)
    # Locked: the right code and the right password are refused alike.
    with pytest.raises(LoginLocked):
        two_factor.finish_login(runtime, step.token, _code(secret), IP, T0)
    with pytest.raises(LoginLocked):
        accounts.log_in(runtime, "alice@example.com", PASSWORD, IP, now=T0)
    after = T0 + timedelta(minutes=61)
    step = accounts.log_in(runtime, "alice@example.com", PASSWORD, IP, now=after)
    assert two_factor.finish_login(runtime, step.token, _code(secret, after), IP, after).user.id == user.id


def test_a_step_goes_stale(runtime, alice):
    secret, _codes = _enrol(runtime, alice)
    step = accounts.log_in(runtime, "alice@example.com", PASSWORD, IP, now=T0)
    late = T0 + timedelta(minutes=login_steps.STEP_MINUTES + 1)
    with pytest.raises(AccountError) as refusal:
        two_factor.finish_login(runtime, step.token, _code(secret, late), IP, late)
    assert refusal.value.code == "step_expired"
    assert login_steps.delete_stale_steps(runtime, late) == 1
    for made_up in (None, "", "x" * 300, {"a": 1}):
        assert two_factor.step_stage(runtime, made_up) is None


def test_turning_it_off_takes_the_password_and_a_code(runtime, alice):
    secret, codes = _enrol(runtime, alice)
    later = T0 + timedelta(minutes=2)
    with pytest.raises(AccountError) as refusal:
        two_factor.turn_off(runtime, alice.id, "wrong password!", _code(secret, later), IP, later)
    assert refusal.value.code == "current_password"
    with pytest.raises(AccountError) as refusal:
        two_factor.turn_off(runtime, alice.id, PASSWORD, "123", IP, later)
    assert refusal.value.code == "code_wrong"
    assert accounts.get_user(runtime, alice.id).two_factor_on
    two_factor.turn_off(runtime, alice.id, PASSWORD, codes[0], IP, later)
    user = accounts.get_user(runtime, alice.id)
    assert not user.two_factor_on and user.totp_secret_sealed is None
    assert _rows(runtime, "SELECT id FROM backup_code") == []
    assert isinstance(accounts.log_in(runtime, "alice@example.com", PASSWORD, IP, now=later), LoggedIn)


def test_require_mfa_sends_an_account_without_it_to_enrol_first(make_runtime):
    runtime = make_runtime(PWP__REQUIRE_MFA="true")
    user = accounts.sign_up(runtime, "bob@example.com", PASSWORD, now=T0)
    step = accounts.log_in(runtime, "bob@example.com", PASSWORD, IP, now=T0)
    assert isinstance(step, SecondStep) and step.stage == login_steps.ENROL
    # No code opens an enrolment step: it must enrol first.
    with pytest.raises(AccountError) as refusal:
        two_factor.finish_login(runtime, step.token, "123456", IP, T0)
    assert refusal.value.code == "enrol_first"
    enrolment = two_factor.begin_enrolment_at_login(runtime, step.token, T0)
    codes = two_factor.confirm_enrolment_at_login(runtime, step.token, _code(enrolment.secret), T0)
    assert len(codes) == 10
    assert two_factor.finish_login(runtime, step.token, "", IP, T0).user.id == user.id
    # Next time, the code; and it cannot be turned off here.
    assert accounts.log_in(runtime, "bob@example.com", PASSWORD, IP, now=T0).stage == login_steps.CODE
    with pytest.raises(AccountError) as refusal:
        two_factor.turn_off(runtime, user.id, PASSWORD, codes[0], IP, T0)
    assert refusal.value.code == "mfa_required"
    # A code step cannot be used to enrol again (a new secret for someone who has one).
    code_step = accounts.log_in(runtime, "bob@example.com", PASSWORD, IP, now=T0)
    with pytest.raises(AccountError):
        two_factor.begin_enrolment_at_login(runtime, code_step.token, T0)


def test_api_tokens_are_unaffected(runtime, alice):
    _enrol(runtime, alice)
    token = accounts.regenerate_api_token(runtime, alice.id, T0, session_token=accounts.open_session(runtime, alice.id, False, T0))
    assert accounts.user_for_api_token(runtime, token).id == alice.id


def test_the_admin_rule_refuses_everyone_else(runtime):
    # PWP__ADMIN_EMAILS (promotion at login, once the address is confirmed by mail):
    # tests/mail/test_account_mail.py.
    root = accounts.sign_up(runtime, "root@example.com", PASSWORD, now=T0)
    carol = accounts.sign_up(runtime, "carol@example.com", PASSWORD, now=T0)
    with pytest.raises(admin.NotAdmin):
        admin.require_admin(runtime, root.id)
    admin.set_admin(runtime, "Root@Example.com")
    assert admin.require_admin(runtime, root.id).email == "root@example.com"
    accounts.log_in(runtime, "carol@example.com", PASSWORD, IP, now=T0)
    for who in (carol.id, None, "", "no-such-user"):
        with pytest.raises(admin.NotAdmin):
            admin.list_users(runtime, who)
    rows = admin.list_users(runtime, root.id)
    assert [r.email for r in rows] == ["carol@example.com", "root@example.com"] or \
        sorted(r.email for r in rows) == ["carol@example.com", "root@example.com"]
    assert [r.email for r in admin.list_users(runtime, root.id, "CAR")] == ["carol@example.com"]
    assert admin.list_users(runtime, root.id, "%") == []  # a wildcard is a character like any other


def test_make_admin_and_remove(runtime, alice):
    assert admin.set_admin(runtime, " Alice@Example.com ").is_admin
    assert admin.require_admin(runtime, alice.id)
    accounts.sign_up(runtime, "other@example.com", PASSWORD, now=T0)
    admin.set_admin(runtime, "other@example.com")  # never the last administrator: core/admin.py
    admin.set_admin(runtime, "alice@example.com", admin=False)
    with pytest.raises(admin.NotAdmin):
        admin.require_admin(runtime, alice.id)
    with pytest.raises(AccountError, match="sign up with it first"):
        admin.set_admin(runtime, "nobody@example.com")


def test_the_users_list_shows_two_factor_and_lock_out(make_runtime):
    runtime = make_runtime(PWPUSH_LOGIN_MAX_FAILURES="2")
    root = accounts.sign_up(runtime, "root@example.com", PASSWORD, now=T0)
    dave = accounts.sign_up(runtime, "dave@example.com", PASSWORD, now=T0)
    admin.set_admin(runtime, "root@example.com")
    _enrol(runtime, root)
    for _ in range(2):
        with pytest.raises(AccountError):
            accounts.log_in(runtime, "dave@example.com", "wrong password", IP, now=T0)
    rows = {r.email: r for r in admin.list_users(runtime, root.id, now=T0)}
    assert (rows["root@example.com"].two_factor_on, rows["root@example.com"].locked) == (True, False)
    assert (rows["dave@example.com"].two_factor_on, rows["dave@example.com"].locked) == (False, True)
    assert rows["dave@example.com"].id == dave.id


def test_rotate_keys_moves_the_secret_to_the_new_master_key(make_runtime):
    from pwpush_app.core.keys import rotate_keys
    from pwpush_app.master_key import generate_master_key_text

    key_a, key_b = generate_master_key_text(), generate_master_key_text()
    old = make_runtime(PWPUSH_MASTER_KEY=key_a)
    user = accounts.sign_up(old, "alice@example.com", PASSWORD, now=T0)
    secret, _codes = _enrol(old, user)
    report = rotate_keys(make_runtime(PWPUSH_MASTER_KEY=key_b, PWPUSH_MASTER_KEY_PREVIOUS=key_a), now=T0)
    assert report.records_rewrapped == 1
    # The old key gone, the secret still opens: a code from the app logs in.
    only_new = make_runtime(PWPUSH_MASTER_KEY=key_b)
    later = T0 + timedelta(minutes=1)
    step = accounts.log_in(only_new, "alice@example.com", PASSWORD, IP, now=later)
    assert two_factor.finish_login(only_new, step.token, _code(secret, later), IP, later).user.id == user.id


def test_the_make_admin_command(runtime, alice):
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "PWPUSH_DATA_DIR": str(runtime.settings.data_dir), "REFLEX_DB_URL": runtime.settings.db_url,
           "PWPUSH_MASTER_KEY": runtime.settings.master_key or ""}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "pwpush_app", "make-admin", *args], env=env, capture_output=True,
                              text=True, timeout=60, cwd=Path(__file__).resolve().parents[2])

    made = run("Alice@Example.com")
    assert made.returncode == 0 and "alice@example.com is an administrator" in made.stderr
    assert admin.require_admin(runtime, alice.id)
    last = run("--remove", "alice@example.com")
    assert last.returncode == 1 and "alice@example.com is the last administrator" in last.stderr
    assert "Nothing was changed" in last.stderr and admin.require_admin(runtime, alice.id)
    accounts.sign_up(runtime, "other@example.com", PASSWORD, now=T0)
    assert run("other@example.com").returncode == 0
    removed = run("--remove", "alice@example.com")
    assert removed.returncode == 0 and "no longer an administrator" in removed.stderr
    with pytest.raises(admin.NotAdmin):
        admin.require_admin(runtime, alice.id)
    unknown = run("nobody@example.com")
    assert unknown.returncode == 2 and "sign up with it first" in unknown.stderr and "Nothing was changed" in unknown.stderr


def test_no_secret_or_code_reaches_a_log_even_at_debug(runtime, alice, caplog, capfd):
    import logging

    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
    secret, codes = _enrol(runtime, alice)
    later = T0 + timedelta(minutes=1)
    step = accounts.log_in(runtime, "alice@example.com", PASSWORD, IP, now=later)
    two_factor.finish_login(runtime, step.token, codes[2], IP, later)
    step = accounts.log_in(runtime, "alice@example.com", PASSWORD, IP, now=later)
    two_factor.finish_login(runtime, step.token, _code(secret, later), IP, later)
    captured = capfd.readouterr()
    logged = caplog.text + captured.out + captured.err
    assert "pwpush_user" in logged or caplog.records  # the logs did run at DEBUG
    # (A 6-digit code, spent at once, could match digits of any hex id by chance: not scanned.)
    for needle in (secret, secret.lower(), step.token, *codes, *(c.replace("-", "") for c in codes)):
        assert needle not in logged
