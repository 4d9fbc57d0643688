"""The passkey form posts over HTTP (both engines), answered by a software authenticator
(tests/soft_authenticator.py): a passkey alone opens a session (the cookie, "remember me"),
once; as the second factor it ends the login step; other sites' posts, replays, made-up
credentials and PWP__DISABLE_LOGINS are refused with no cookie; removing one takes the
password and only touches the account's own."""

from __future__ import annotations

import json

import pyotp

from pwpush_app.core import accounts, passkeys, two_factor
from pwpush_app.core.clock import utcnow
from tests.soft_authenticator import SoftAuthenticator

from .conftest import asgi_client
from .test_sessions import ORIGIN, PASSWORD, SESSION_COOKIE, _post
from .test_two_factor_sessions import STEP_COOKIE, _cookies, _value

SITE, HOST = "http://localhost:3000", "localhost:3000"


def _fresh(runtime, user) -> str:
    """A session just opened by a full login: it may add a passkey (sudo mode)."""
    return accounts.open_session(runtime, user.id, False, utcnow())


def _with_passkey(runtime, email: str = "alice@example.com"):
    user = accounts.sign_up(runtime, email, PASSWORD)
    device = SoftAuthenticator(origin=SITE)
    fresh = _fresh(runtime, user)
    passkeys.register(runtime, user.id, device.create(passkeys.registration_options(runtime, user.id, SITE, HOST,
                                                                                    session_token=fresh)),
                      "Laptop", session_token=fresh)
    return user, device


def _sign_in(api, answer: dict, step: str | None = None, headers=ORIGIN, remember: bool = False):
    extra = {"Cookie": f"{STEP_COOKIE}={step}"} if step else {}
    path = "/session/passkey?from=step" if step else "/session/passkey"
    return api.post(path, data={"credential": json.dumps(answer), **({"remember": "1"} if remember else {})},
                    headers={**headers, **extra}, follow_redirects=False)


def test_a_passkey_alone_opens_a_session_once(api, runtime):
    user, device = _with_passkey(runtime)
    answer = device.get(passkeys.login_options(runtime, SITE, HOST))
    assert _sign_in(api, answer, headers={"Origin": "https://evil.example"}).status_code == 403
    api._async.cookies.clear()
    answer = device.get(passkeys.login_options(runtime, SITE, HOST))
    right = _sign_in(api, answer, remember=True)
    assert right.status_code == 303 and right.headers["location"] == "/dashboard"
    cookie = _cookies(right)[SESSION_COOKIE]
    assert "httponly" in cookie.lower() and "max-age=604800" in cookie.lower()
    assert accounts.user_for_session(runtime, _value(cookie)).id == user.id
    api._async.cookies.clear()
    again = _sign_in(api, answer)
    assert again.headers["location"] == "/login?error=passkey_expired" and SESSION_COOKIE not in _cookies(again)
    # A made-up credential, and junk: back to the form, no cookie.
    stranger = SoftAuthenticator(origin=SITE)
    stranger.create(passkeys.registration_options(runtime, user.id, SITE, HOST, session_token=_fresh(runtime, user)))
    made_up = _sign_in(api, stranger.get(passkeys.login_options(runtime, SITE, HOST)))
    assert made_up.headers["location"] == "/login?error=passkey_failed" and "set-cookie" not in made_up.headers
    junk = _post(api, "/session/passkey", {"credential": "{not json"})
    assert junk.headers["location"] == "/login?error=passkey_failed" and "set-cookie" not in junk.headers


def test_as_the_second_factor_it_ends_the_step(api, runtime):
    user, device = _with_passkey(runtime)
    enrolment = two_factor.begin_enrolment(runtime, user.id)
    two_factor.confirm_enrolment(runtime, user.id, pyotp.TOTP(enrolment.secret).now())
    api._async.cookies.clear()
    step = _value(_cookies(_post(api, "/session", {"email": "alice@example.com", "password": PASSWORD}))[STEP_COOKIE])
    answer = device.get(passkeys.step_options(runtime, step, SITE, HOST))
    api._async.cookies.clear()
    done = _sign_in(api, answer, step)
    assert done.headers["location"] == "/dashboard"
    cookies = _cookies(done)
    assert accounts.user_for_session(runtime, _value(cookies[SESSION_COOKIE])).id == user.id
    assert "max-age=0" in cookies[STEP_COOKIE].lower() or "expires=" in cookies[STEP_COOKIE].lower()
    api._async.cookies.clear()
    # Replayed: its challenge is spent (the code page then finds no step and sends to /login).
    replayed = _sign_in(api, answer, step)
    assert replayed.headers["location"] == "/login/code?error=passkey_expired" and "set-cookie" not in replayed.headers


def test_logins_off_and_removing_takes_the_password(make_runtime):
    closed = make_runtime(PWP__DISABLE_LOGINS="true")
    client = asgi_client(closed)
    try:
        answer = client.post("/session/passkey", data={"credential": "{}"}, headers=ORIGIN, follow_redirects=False)
        assert answer.status_code == 404 and "set-cookie" not in answer.headers
    finally:
        client.close()
    runtime = make_runtime()
    alice, _device = _with_passkey(runtime)
    bob, _bobs = _with_passkey(runtime, "bob@example.com")
    [alices] = passkeys.list_passkeys(runtime, alice.id)
    [bobs] = passkeys.list_passkeys(runtime, bob.id)
    session = accounts.log_in(runtime, "alice@example.com", PASSWORD, "192.0.2.1").session_token
    client = asgi_client(runtime)
    try:
        def remove(passkey_id: str, password: str):
            return _post(client, "/account/passkeys/remove", {"passkey": passkey_id, "password": password}, cookie=session)

        assert remove(alices.id, "wrong password!").headers["location"] == "/account?error=current_password"
        assert remove(bobs.id, PASSWORD).headers["location"] == "/account?error=passkey_gone"
        assert passkeys.list_passkeys(runtime, bob.id) != []
        assert remove(alices.id, PASSWORD).headers["location"] == "/account?passkey_removed=1"
        assert passkeys.list_passkeys(runtime, alice.id) == []
        stranger = _post(client, "/account/passkeys/remove", {"passkey": bobs.id, "password": PASSWORD})
        assert stranger.headers["location"] == "/login"
    finally:
        client.close()
