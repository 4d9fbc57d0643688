"""The two-factor form posts over HTTP: a right password gives only the step cookie, the code
post turns it into a session once, refusals come back as codes, and turning two-factor off
takes the password and a code.  Both engines."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pyotp
import pytest

from pwpush_app.core import accounts, two_factor

from .conftest import asgi_client
from .test_sessions import ORIGIN, PASSWORD, SESSION_COOKIE, _post

STEP_COOKIE = "pwpush_login_step"


def _cookies(response) -> dict[str, str]:
    """Set-Cookie headers by cookie name (the whole header)."""
    return {h.split("=", 1)[0]: h for h in response.headers.get_list("set-cookie")}


def _value(header: str) -> str:
    return header.split(";", 1)[0].split("=", 1)[1].strip('"')


@pytest.fixture
def enrolled(runtime):
    user = accounts.sign_up(runtime, "alice@example.com", PASSWORD)
    enrolment = two_factor.begin_enrolment(runtime, user.id)
    # The enrolment spends the current step's code: the tests' codes come from the next steps.
    now = datetime.now(timezone.utc)
    codes = two_factor.confirm_enrolment(runtime, user.id, pyotp.TOTP(enrolment.secret).at(now - timedelta(seconds=30)), now)
    return user, enrolment.secret, codes


def _step(api, remember: bool = False) -> str:
    api._async.cookies.clear()
    response = _post(api, "/session", {"email": "alice@example.com", "password": PASSWORD,
                                       **({"remember": "1"} if remember else {})})
    assert response.status_code == 303 and response.headers["location"] == "/login/code"
    cookies = _cookies(response)
    assert SESSION_COOKIE not in cookies  # no session before the code
    header = cookies[STEP_COOKIE].lower()
    assert "httponly" in header and "samesite=strict" in header and "path=/" in header and "max-age=600" in header
    return _value(cookies[STEP_COOKIE])


def _send_code(api, step: str | None, code: str, headers=ORIGIN):
    extra = {"Cookie": f"{STEP_COOKIE}={step}"} if step else {}
    return api.post("/session/code", data={"code": code}, headers={**headers, **extra}, follow_redirects=False)


def test_the_code_turns_the_step_into_a_session_once(api, runtime, enrolled):
    _user, secret, _codes = enrolled
    step = _step(api, remember=True)
    assert accounts.user_for_session(runtime, step) is None
    wrong = _send_code(api, step, "000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    assert wrong.status_code == 303 and wrong.headers["location"] == "/login/code?error=code_wrong"
    assert SESSION_COOKIE not in _cookies(wrong)
    right = _send_code(api, step, pyotp.TOTP(secret).now())
    assert right.status_code == 303 and right.headers["location"] == "/dashboard"
    cookies = _cookies(right)
    assert "max-age=604800" in cookies[SESSION_COOKIE].lower()  # "remember me" went through the step
    assert 'max-age=0' in cookies[STEP_COOKIE].lower() or "expires=" in cookies[STEP_COOKIE].lower()
    assert accounts.user_for_session(runtime, _value(cookies[SESSION_COOKIE])).email == "alice@example.com"
    again = _send_code(api, step, pyotp.TOTP(secret).now())
    assert again.headers["location"] == "/login?error=step_expired" and SESSION_COOKIE not in _cookies(again)


def test_the_code_post_refuses_other_sites_and_missing_steps(api, enrolled):
    _user, secret, _codes = enrolled
    step = _step(api)
    assert _send_code(api, step, pyotp.TOTP(secret).now(), headers={"Origin": "https://evil.example"}).status_code == 403
    api._async.cookies.clear()  # only the cookie each request names (the jar is the async client's)
    for token in (None, "made-up", "x" * 5000):
        response = _send_code(api, token, pyotp.TOTP(secret).now())
        assert response.headers["location"] == "/login?error=step_expired", (token and token[:10], dict(api.cookies), response.request.headers.get("cookie"))


def test_turning_it_off_over_http(api, runtime, enrolled):
    user, _secret, codes = enrolled
    session = accounts.open_session(runtime, user.id, False, datetime.now(timezone.utc))
    refused = _post(api, "/account/two-factor/off", {"password": "not my password", "code": codes[0]}, cookie=session)
    assert refused.headers["location"] == "/account?error=current_password"
    refused = _post(api, "/account/two-factor/off", {"password": PASSWORD, "code": "12"}, cookie=session)
    assert refused.headers["location"] == "/account?error=code_wrong"
    assert accounts.get_user(runtime, user.id).two_factor_on
    done = _post(api, "/account/two-factor/off", {"password": PASSWORD, "code": codes[0]}, cookie=session)
    assert done.headers["location"] == "/account?two_factor_off=1"
    assert not accounts.get_user(runtime, user.id).two_factor_on
    # A stranger is sent to log in.
    assert _post(api, "/account/two-factor/off", {"password": PASSWORD, "code": codes[1]}).headers["location"] == "/login"


def test_require_mfa_signs_up_into_enrolment_without_a_session(make_runtime):
    runtime = make_runtime(PWP__REQUIRE_MFA="true")
    api = asgi_client(runtime)
    try:
        response = _post(api, "/signup", {"email": "bea@example.com", "password": PASSWORD,
                                          "password_confirmation": PASSWORD})
        assert response.status_code == 303 and response.headers["location"] == "/login/enrol"
        cookies = _cookies(response)
        assert SESSION_COOKIE not in cookies and STEP_COOKIE in cookies
        # The code post does not skip enrolment.
        skipped = _send_code(api, _value(cookies[STEP_COOKIE]), "123456")
        assert skipped.headers["location"] == "/login/code?error=enrol_first" and SESSION_COOKIE not in _cookies(skipped)
    finally:
        api.close()


def test_on_an_https_site_the_step_cookie_is_host_prefixed_and_secure(make_runtime):
    site = "https://secrets.example.com"
    runtime = make_runtime(PWP__OVERRIDE_BASE_URL=site, PWP__REQUIRE_MFA="true")
    accounts.sign_up(runtime, "alice@example.com", PASSWORD)
    api = asgi_client(runtime)
    try:
        response = _post(api, "/session", {"email": "alice@example.com", "password": PASSWORD}, headers={"Origin": site})
        header = _cookies(response)[f"__Host-{STEP_COOKIE}"].lower()
        assert "secure" in header and "domain" not in header and "path=/" in header
    finally:
        api.close()
