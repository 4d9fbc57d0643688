"""Passkeys on SQLite and PostgreSQL, with a software authenticator (tests/soft_authenticator.py)
answering the server's options as a browser would: register several, name, rename and
remove them; sign in with one alone (user verification required) or as the second factor;
and the attacks that must fail: a replayed answer, a challenge used twice, another account's
passkey, a made-up credential, a cloned authenticator's counter, a foreign origin, a
challenge of another account or ceremony; failures lock like wrong passwords."""

from __future__ import annotations

import json
from datetime import timedelta

import cbor2
import pyotp
import pytest
from sqlalchemy import text

from pwpush_app.core import accounts, login_steps, passkeys, two_factor
from pwpush_app.core.accounts import AccountError, LoggedIn, LoginLocked
from pwpush_app.core.audit import Client
from pwpush_app.core.login_steps import SecondStep
from pwpush_app.core.throttle import RateLimited
from tests.soft_authenticator import SoftAuthenticator, b64u, unb64u

from .common import T0

PASSWORD = "correct horse battery"
IP = "192.0.2.1"
ORIGIN, HOST = "http://localhost:3000", "localhost:3000"


@pytest.fixture
def alice(runtime):
    return accounts.sign_up(runtime, "alice@example.com", PASSWORD, now=T0)


def _register(runtime, user, authenticator: SoftAuthenticator, name: str = "Laptop", now=T0):
    options = passkeys.registration_options(runtime, user.id, ORIGIN, HOST, now,
                                            session_token=_fresh(runtime, user, now))
    return passkeys.register(runtime, user.id, authenticator.create(options), name, now,
                             session_token=_fresh(runtime, user, now))


def _fresh(runtime, user, now=T0) -> str:
    """A session just opened by a full login: it may add a passkey (sudo mode)."""
    return accounts.open_session(runtime, user.id, False, now)


def _refused(code: str, call, *args, **kwargs):
    with pytest.raises(AccountError) as refusal:
        call(*args, **kwargs)
    assert refusal.value.code == code, refusal.value.code
    return refusal.value


def test_register_several_list_rename_and_remove_with_the_password(runtime, alice):
    laptop, phone = SoftAuthenticator(), SoftAuthenticator()
    _register(runtime, alice, laptop, "  Laptop  ")
    second = _register(runtime, alice, phone, "Phone", T0 + timedelta(minutes=1))
    listed = passkeys.list_passkeys(runtime, alice.id)
    assert [p.name for p in listed] == ["Laptop", "Phone"] and listed[0].last_used_at is None
    # The second registration's options exclude the first passkey (the browser will not register it twice).
    assert laptop.credentials[0].id.hex() in _excluded_hex(runtime, alice)
    passkeys.rename(runtime, alice.id, second.id, "Work phone")
    _refused("passkey_name", passkeys.rename, runtime, alice.id, second.id, "   ")
    _refused("passkey_name_long", passkeys.rename, runtime, alice.id, second.id, "x" * 65)
    assert [p.name for p in passkeys.list_passkeys(runtime, alice.id)] == ["Laptop", "Work phone"]
    _refused("current_password", passkeys.remove, runtime, alice.id, second.id, "wrong password!")
    passkeys.remove(runtime, alice.id, second.id, PASSWORD)
    assert [p.name for p in passkeys.list_passkeys(runtime, alice.id)] == ["Laptop"]
    _refused("passkey_gone", passkeys.remove, runtime, alice.id, second.id, PASSWORD)


def _excluded_hex(runtime, user) -> str:
    options = json.loads(passkeys.registration_options(runtime, user.id, ORIGIN, HOST, T0, session_token=_fresh(runtime, user)))
    assert options["authenticatorSelection"]["residentKey"] == "required"
    return " ".join(unb64u(c["id"]).hex() for c in options["excludeCredentials"])


def test_a_passkey_alone_signs_in_without_an_email_and_its_answer_is_good_once(runtime, alice):
    device = SoftAuthenticator()
    _register(runtime, alice, device)
    options = passkeys.login_options(runtime, ORIGIN, HOST, T0)
    assert '"userVerification": "required"' in options and "allowCredentials" in options
    answer = device.get(options)
    logged_in = passkeys.sign_in(runtime, answer, None, IP, remember=True, now=T0)
    assert isinstance(logged_in, LoggedIn) and logged_in.remember
    assert accounts.user_for_session(runtime, logged_in.session_token, now=T0).id == alice.id
    assert passkeys.list_passkeys(runtime, alice.id)[0].last_used_at == T0
    # The same answer again: its challenge is spent.
    _refused("passkey_expired", passkeys.sign_in, runtime, answer, None, IP, now=T0)
    # A challenge is good once even when the first answer to it was wrong.
    options = passkeys.login_options(runtime, ORIGIN, HOST, T0)
    bad = device.get(options)
    bad["response"]["signature"] = answer["response"]["signature"]
    _refused("passkey_failed", passkeys.sign_in, runtime, bad, None, IP, now=T0)
    _refused("passkey_expired", passkeys.sign_in, runtime, device.get(options), None, IP, now=T0)
    # A stale challenge is refused, and swept by the purge job.
    options = passkeys.login_options(runtime, ORIGIN, HOST, T0)
    later = T0 + timedelta(minutes=passkeys.CHALLENGE_MINUTES, seconds=1)
    assert passkeys.delete_stale_challenges(runtime, later) == 1
    _refused("passkey_expired", passkeys.sign_in, runtime, device.get(options), None, IP, now=later)


def test_alone_it_needs_user_verification_and_as_second_factor_presence_is_enough(make_runtime):
    runtime = make_runtime(PWP__REQUIRE_MFA="true")
    alice = accounts.sign_up(runtime, "alice@example.com", PASSWORD, now=T0)
    # No passkey yet: the password leads to enrolment.
    assert accounts.log_in(runtime, "alice@example.com", PASSWORD, IP, now=T0).stage == login_steps.ENROL
    device = SoftAuthenticator(user_verified=False)
    _register(runtime, alice, device)
    _refused("passkey_failed", passkeys.sign_in, runtime, device.get(passkeys.login_options(runtime, ORIGIN, HOST, T0)),
             None, IP, now=T0)
    # With a passkey, PWP__REQUIRE_MFA is satisfied: the password asks for it, not for enrolment.
    step = accounts.log_in(runtime, "alice@example.com", PASSWORD, IP, remember=True, now=T0)
    assert isinstance(step, SecondStep) and step.stage == login_steps.CODE
    assert accounts.user_for_session(runtime, step.token, now=T0) is None
    options = passkeys.step_options(runtime, step.token, ORIGIN, HOST, T0)
    assert '"userVerification": "preferred"' in options
    logged_in = passkeys.sign_in(runtime, device.get(options), step.token, IP, now=T0)
    assert logged_in.remember and accounts.user_for_session(runtime, logged_in.session_token, now=T0).id == alice.id
    # The step is spent.
    _refused("step_expired", passkeys.step_options, runtime, step.token, ORIGIN, HOST, T0)
    # With user verification, the passkey alone is a full sign-in under PWP__REQUIRE_MFA.
    device.user_verified = True
    assert isinstance(passkeys.sign_in(runtime, device.get(passkeys.login_options(runtime, ORIGIN, HOST, T0)),
                                       None, IP, now=T0), LoggedIn)


def test_beside_a_totp_code_the_step_takes_a_passkey_but_not_another_accounts(runtime, alice):
    enrolment = two_factor.begin_enrolment(runtime, alice.id, T0)
    two_factor.confirm_enrolment(runtime, alice.id, pyotp.TOTP(enrolment.secret).at(T0), T0)
    mine, bobs = SoftAuthenticator(), SoftAuthenticator()
    _register(runtime, alice, mine)
    bob = accounts.sign_up(runtime, "bob@example.com", PASSWORD, now=T0)
    _register(runtime, bob, bobs)
    step = accounts.log_in(runtime, "alice@example.com", PASSWORD, IP, now=T0)
    options = passkeys.step_options(runtime, step.token, ORIGIN, HOST, T0)
    # Bob's passkey answering Alice's step: refused, counted against Alice's address.
    _refused("passkey_failed", passkeys.sign_in, runtime, bobs.get(options), step.token, IP, now=T0)
    # A step's challenge needs its step: without the cookie, or with another step's, refused.
    options = passkeys.step_options(runtime, step.token, ORIGIN, HOST, T0)
    _refused("step_expired", passkeys.sign_in, runtime, mine.get(options), None, IP, now=T0)
    other = accounts.log_in(runtime, "alice@example.com", PASSWORD, IP, now=T0)
    options = passkeys.step_options(runtime, step.token, ORIGIN, HOST, T0)
    _refused("step_expired", passkeys.sign_in, runtime, mine.get(options), other.token, IP, now=T0)
    options = passkeys.step_options(runtime, step.token, ORIGIN, HOST, T0)
    logged_in = passkeys.sign_in(runtime, mine.get(options), step.token, IP, now=T0)
    assert logged_in.user.id == alice.id
    # The step is done: its code form is refused too.
    _refused("step_expired", two_factor.finish_login, runtime, step.token, "123456", IP, T0)


def test_made_up_cloned_and_foreign_answers_are_refused(runtime, alice):
    device = SoftAuthenticator()
    _register(runtime, alice, device)
    # A made-up credential: a key nobody registered.
    stranger = SoftAuthenticator()
    stranger.create(passkeys.registration_options(runtime, alice.id, ORIGIN, HOST, T0, session_token=_fresh(runtime, alice)))
    _refused("passkey_failed", passkeys.sign_in, runtime, stranger.get(passkeys.login_options(runtime, ORIGIN, HOST, T0)),
             None, IP, now=T0)
    # Garbage in every shape: refused alike, nothing opened.
    for junk in ("", "{", "[]", '{"response": 1}', {"response": {"clientDataJSON": "!!"}}, "x" * 100_000, None, 7):
        with pytest.raises(AccountError):
            passkeys.sign_in(runtime, junk, None, IP, now=T0)
    # An answer made on another site's page (a phishing page relaying our challenge).
    _refused("passkey_failed", passkeys.sign_in, runtime,
             device.get(passkeys.login_options(runtime, ORIGIN, HOST, T0), origin="https://evil.example"), None, IP, now=T0)
    _refused("passkey_failed", passkeys.sign_in, runtime,
             device.get(passkeys.login_options(runtime, ORIGIN, HOST, T0), rp_id="evil.example"), None, IP, now=T0)
    # A cloned authenticator: its counter lags behind the one last seen.
    assert passkeys.sign_in(runtime, device.get(passkeys.login_options(runtime, ORIGIN, HOST, T0)), None, IP, now=T0)
    device.credentials[0].count -= 2
    _refused("passkey_failed", passkeys.sign_in, runtime, device.get(passkeys.login_options(runtime, ORIGIN, HOST, T0)),
             None, IP, now=T0)
    # An authenticator that keeps no counter (always 0) is fine, its answers still good once.
    flat = SoftAuthenticator(counts=False)
    _register(runtime, alice, flat, "Key")
    for _ in range(2):
        assert passkeys.sign_in(runtime, flat.get(passkeys.login_options(runtime, ORIGIN, HOST, T0)), None, IP, now=T0)


def test_challenges_are_bound_to_their_account_and_ceremony(runtime, alice):
    bob = accounts.sign_up(runtime, "bob@example.com", PASSWORD, now=T0)
    device = SoftAuthenticator()
    alices_options = passkeys.registration_options(runtime, alice.id, ORIGIN, HOST, T0, session_token=_fresh(runtime, alice))
    # Bob answers Alice's registration challenge: refused (and it is spent).
    _refused("passkey_expired", passkeys.register, runtime, bob.id, device.create(alices_options), "Mine", T0,
             session_token=_fresh(runtime, bob))
    _refused("passkey_expired", passkeys.register, runtime, alice.id, device.create(alices_options), "Mine", T0,
             session_token=_fresh(runtime, alice))
    # A sign-in challenge does not register, nor a registration challenge sign in.
    options = json.loads(passkeys.registration_options(runtime, alice.id, ORIGIN, HOST, T0, session_token=_fresh(runtime, alice)))
    options["challenge"] = json.loads(passkeys.login_options(runtime, ORIGIN, HOST, T0))["challenge"]
    _refused("passkey_expired", passkeys.register, runtime, alice.id, device.create(json.dumps(options)), "X", T0,
             session_token=_fresh(runtime, alice))
    _register(runtime, alice, device)
    login = json.loads(passkeys.login_options(runtime, ORIGIN, HOST, T0))
    login["challenge"] = json.loads(passkeys.registration_options(runtime, alice.id, ORIGIN, HOST, T0, session_token=_fresh(runtime, alice)))["challenge"]
    _refused("passkey_expired", passkeys.sign_in, runtime, device.get(json.dumps(login)), None, IP, now=T0)
    assert [p.name for p in passkeys.list_passkeys(runtime, alice.id)] == ["Laptop"]
    assert passkeys.list_passkeys(runtime, bob.id) == []


def test_the_same_credential_id_is_refused_on_a_second_account(runtime, alice):
    bob = accounts.sign_up(runtime, "bob@example.com", PASSWORD, now=T0)
    device = SoftAuthenticator()
    _register(runtime, alice, device)
    # An authenticator that hands out Alice's credential id again (its bug, or a copy).
    answer = SoftAuthenticator().create(passkeys.registration_options(runtime, bob.id, ORIGIN, HOST, T0, session_token=_fresh(runtime, bob)))
    attestation = cbor2.loads(unb64u(answer["response"]["attestationObject"]))
    data = attestation["authData"]
    length = int.from_bytes(data[53:55], "big")
    alice_id = device.credentials[0].id
    attestation["authData"] = data[:53] + len(alice_id).to_bytes(2, "big") + alice_id + data[55 + length:]
    answer["response"]["attestationObject"] = b64u(cbor2.dumps(attestation))
    answer["id"] = answer["rawId"] = b64u(alice_id)
    _refused("passkey_taken", passkeys.register, runtime, bob.id, answer, "Copy", T0,
             session_token=_fresh(runtime, bob))
    assert passkeys.list_passkeys(runtime, bob.id) == []


def test_failures_lock_like_wrong_passwords_and_logins_off_closes_it(make_runtime):
    runtime = make_runtime(PWPUSH_LOGIN_MAX_FAILURES="3")
    alice = accounts.sign_up(runtime, "alice@example.com", PASSWORD, now=T0)
    device = SoftAuthenticator()
    _register(runtime, alice, device)
    device.credentials[0].count = 0
    assert passkeys.sign_in(runtime, device.get(passkeys.login_options(runtime, ORIGIN, HOST, T0)), None, IP, now=T0)
    for _ in range(2):  # the counter repeats: a clone
        device.credentials[0].count = 0
        _refused("passkey_failed", passkeys.sign_in, runtime,
                 device.get(passkeys.login_options(runtime, ORIGIN, HOST, T0)), None, IP, now=T0)
    device.credentials[0].count = 0
    with pytest.raises(LoginLocked):
        passkeys.sign_in(runtime, device.get(passkeys.login_options(runtime, ORIGIN, HOST, T0)), None, IP, now=T0)
    # Locked: the right passkey too is refused, and so is the password.
    device.credentials[0].count = 100
    with pytest.raises(LoginLocked):
        passkeys.sign_in(runtime, device.get(passkeys.login_options(runtime, ORIGIN, HOST, T0)), None, IP, now=T0)
    with pytest.raises(LoginLocked):
        accounts.log_in(runtime, "alice@example.com", PASSWORD, IP, now=T0)
    # Starting sign-ins counts against the address's login attempts like any login.
    limited = make_runtime(PWP__THROTTLING__MINUTE="3")
    for _ in range(3):
        passkeys.login_options(limited, ORIGIN, HOST, T0, ip="198.51.100.7")
    with pytest.raises(RateLimited):
        passkeys.login_options(limited, ORIGIN, HOST, T0, ip="198.51.100.7")
    closed = make_runtime(PWP__DISABLE_LOGINS="true")
    _refused("logins_disabled", passkeys.login_options, closed, ORIGIN, HOST, T0)
    _refused("logins_disabled", passkeys.sign_in, closed, {}, None, IP, now=T0)


def test_the_relying_party_comes_from_the_configured_base_url_or_a_checked_host(make_runtime):
    open_site = make_runtime()
    assert passkeys.relying_party(open_site.settings, "http://pp.example:8080", "pp.example:8080") == \
        ("pp.example", "http://pp.example:8080")
    # A page origin its own connection's Host does not match: the default base URL.
    assert passkeys.relying_party(open_site.settings, "https://evil.example", "pp.example") == \
        ("localhost", "http://localhost:3000")
    _refused("passkey_ip", passkeys.relying_party, open_site.settings, "http://192.0.2.7:3000", "192.0.2.7:3000")
    fixed = make_runtime(PWP__OVERRIDE_BASE_URL="https://secrets.example.com")
    assert passkeys.relying_party(fixed.settings, "http://pp.example", "pp.example") == \
        ("secrets.example.com", "https://secrets.example.com")
    listed = make_runtime(PWP__ALLOWED_HOSTS="pp.example")
    assert passkeys.relying_party(listed.settings, "http://other.example", "other.example")[0] == "localhost"


def test_deleting_the_account_deletes_its_passkeys_and_challenges(runtime, alice):
    _register(runtime, alice, SoftAuthenticator())
    passkeys.registration_options(runtime, alice.id, ORIGIN, HOST, T0, session_token=_fresh(runtime, alice))
    accounts.delete_account(runtime, alice.id, PASSWORD, Client(ip=IP, user_agent="", referrer=""), T0)
    with runtime.engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM passkey")).scalar() == 0
        assert connection.execute(text("SELECT COUNT(*) FROM passkey_challenge")).scalar() == 0


def test_an_administrators_reset_of_two_factor_removes_the_passkeys(runtime, alice):
    """Reset two-factor is for a lost device: a passkey on it must stop signing in too, even on
    an account whose only second factor is a passkey."""
    from pwpush_app.core import admin, admin_actions
    from pwpush_app.core.admin_actions import AdminRefused

    accounts.sign_up(runtime, "root@example.com", PASSWORD, now=T0)
    root = admin.set_admin(runtime, "root@example.com")
    lost = SoftAuthenticator()
    _register(runtime, alice, lost)
    answer = lost.get(passkeys.login_options(runtime, ORIGIN, HOST, T0))  # taken before the reset
    done = admin_actions.reset_two_factor(runtime, root.id, alice.id, Client(ip=IP, user_agent="", referrer=""), T0)
    assert done.detail == "1 passkey removed"
    assert passkeys.list_passkeys(runtime, alice.id) == []
    with runtime.engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM passkey_challenge WHERE user_id = :id"),
                                  {"id": alice.id}).scalar() == 0
    _refused("passkey_failed", passkeys.sign_in, runtime, answer, None, IP, now=T0)
    _refused("passkey_failed", passkeys.sign_in, runtime, lost.get(passkeys.login_options(runtime, ORIGIN, HOST, T0)),
             None, IP, now=T0)
    assert isinstance(accounts.log_in(runtime, "alice@example.com", PASSWORD, IP, now=T0), LoggedIn)
    with pytest.raises(AdminRefused, match="no two-factor sign-in and no passkey"):
        admin_actions.reset_two_factor(runtime, root.id, alice.id, Client(ip=IP, user_agent="", referrer=""), T0)
