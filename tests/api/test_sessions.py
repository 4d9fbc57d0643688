"""The session endpoints: HttpOnly SameSite cookies, same-site (Origin) check, no token in
any body, redirects with message codes, and what the cookie then allows."""

from __future__ import annotations

import pytest

from pwpush_app.core import accounts
from pwpush_app.settings import load_settings

from .conftest import asgi_client

ORIGIN = {"Origin": "http://localhost:3000"}
PASSWORD = "correct horse battery"
# The test runtimes serve the default site, http://localhost:3000: the cookie's plain name.
SESSION_COOKIE = load_settings({}).session_cookie
HTTPS_SITE = "https://secrets.example.com"


def _post(api, path, data, headers=ORIGIN, cookie=None, cookie_name=SESSION_COOKIE):
    extra = {"Cookie": f"{cookie_name}={cookie}"} if cookie else {}
    return api.post(path, data=data, headers={**headers, **extra}, follow_redirects=False)


def _set_cookie(response) -> str:
    return response.headers.get("set-cookie", "")


def _token_from(response, cookie_name=SESSION_COOKIE) -> str:
    header = _set_cookie(response)
    assert header.startswith(f"{cookie_name}="), header
    return header.split(";", 1)[0].split("=", 1)[1]


@pytest.fixture
def signed_up(api):
    response = _post(api, "/signup", {"email": "alice@example.com", "password": PASSWORD, "password_confirmation": PASSWORD})
    assert response.status_code == 303 and response.headers["location"] == "/dashboard"
    return response


def test_sign_up_sets_an_httponly_samesite_strict_cookie_and_no_token_in_the_body(api, runtime, signed_up):
    header = _set_cookie(signed_up).lower()
    assert "httponly" in header and "samesite=strict" in header and "path=/" in header
    assert "secure" not in header  # plain http here
    token = _token_from(signed_up)
    assert token not in signed_up.text
    assert accounts.user_for_session(runtime, token).email == "alice@example.com"


def test_log_in_and_remember_me(api, runtime, signed_up):
    response = _post(api, "/session", {"email": "ALICE@example.com", "password": PASSWORD})
    assert response.status_code == 303 and response.headers["location"] == "/dashboard"
    assert "max-age" not in _set_cookie(response).lower()  # a browser-session cookie
    token = _token_from(response)
    assert token not in response.text and PASSWORD not in response.text
    remembered = _post(api, "/session", {"email": "alice@example.com", "password": PASSWORD, "remember": "1"})
    assert "max-age=604800" in _set_cookie(remembered).lower()


def test_secure_flag_behind_a_trusted_https_proxy(make_runtime):
    runtime = make_runtime(PWP__TRUSTED_PROXIES="1")
    accounts.sign_up(runtime, "alice@example.com", PASSWORD)
    api = asgi_client(runtime)
    try:
        response = _post(api, "/session", {"email": "alice@example.com", "password": PASSWORD},
                         headers={**ORIGIN, "X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.9"})
        assert "secure" in _set_cookie(response).lower()
    finally:
        api.close()


def test_on_an_https_site_the_cookie_is_host_prefixed_secure_on_path_root_and_without_domain(make_runtime):
    """`__Host-`: a browser keeps it only as this host's own, so no sibling subdomain can plant it."""
    runtime = make_runtime(PWP__OVERRIDE_BASE_URL=HTTPS_SITE, PWP__TRUSTED_PROXIES="1")
    api = asgi_client(runtime)
    through_proxy = {"Origin": HTTPS_SITE, "X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.9"}
    try:
        response = _post(api, "/signup", {"email": "alice@example.com", "password": PASSWORD,
                                          "password_confirmation": PASSWORD}, headers=through_proxy)
        assert response.status_code == 303 and response.headers["location"] == "/dashboard"
        header = _set_cookie(response)
        assert header.startswith("__Host-pwpush_session="), header
        attributes = [part.strip().lower() for part in header.split(";")[1:]]
        assert "secure" in attributes and "path=/" in attributes and "httponly" in attributes
        assert not any(a.startswith("domain") for a in attributes)
        token = _token_from(response, "__Host-pwpush_session")
        assert accounts.user_for_session(runtime, token).email == "alice@example.com"

        logged_out = _post(api, "/session/logout", {}, headers=through_proxy, cookie=token,
                           cookie_name="__Host-pwpush_session")
        cleared = _set_cookie(logged_out)
        # Clearing needs the same prefix and Secure, or the browser ignores it.
        assert cleared.startswith("__Host-pwpush_session=") and "secure" in cleared.lower()
        assert accounts.user_for_session(runtime, token) is None
    finally:
        api.close()


def test_on_an_https_site_a_planted_plain_named_cookie_is_ignored(make_runtime):
    """A sibling subdomain can set `pwpush_session` for the parent domain (its own valid
    session, say): on an https site nothing reads that name."""
    runtime = make_runtime(PWP__OVERRIDE_BASE_URL=HTTPS_SITE, PWP__TRUSTED_PROXIES="1")
    accounts.sign_up(runtime, "mallory@example.com", PASSWORD)
    planted = accounts.log_in(runtime, "mallory@example.com", PASSWORD, "192.0.2.66").session_token
    api = asgi_client(runtime)
    through_proxy = {"Origin": HTTPS_SITE, "X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.9"}
    try:
        for name, logged_in in (("pwpush_session", False), ("__Host-pwpush_session", True)):
            response = _post(api, "/account/password", {"current_password": "wrong password 1",
                                                        "new_password": "x" * 12, "new_password_confirmation": "x" * 12},
                             headers=through_proxy, cookie=planted, cookie_name=name)
            # Not logged in: back to the login page. Logged in: the form judged the (wrong) password.
            assert response.headers["location"] == ("/account?error=current_password" if logged_in else "/login"), name
        assert accounts.user_for_session(runtime, planted) is not None
    finally:
        api.close()


def test_the_page_reads_only_the_cookie_name_of_the_sites_scheme(make_runtime, monkeypatch):
    # The pages read the Cookie header of each event's own connection (ui/session.py).
    from pwpush_app.ui import session as page_session

    https_runtime = make_runtime(PWP__OVERRIDE_BASE_URL=HTTPS_SITE)
    monkeypatch.setattr(page_session, "runtime", lambda: https_runtime)
    assert page_session.session_token_in("pwpush_session=planted") is None
    assert page_session.session_token_in("pwpush_session=planted; __Host-pwpush_session=mine") == "mine"

    http_runtime = make_runtime()
    monkeypatch.setattr(page_session, "runtime", lambda: http_runtime)
    assert page_session.session_token_in("pwpush_session=mine") == "mine"


def test_wrong_password_and_unknown_email_redirect_with_the_same_code(api, signed_up):
    wrong = _post(api, "/session", {"email": "alice@example.com", "password": "not the password"})
    unknown = _post(api, "/session", {"email": "nobody@example.com", "password": "not the password"})
    assert wrong.headers["location"] == unknown.headers["location"] == "/login?error=login_failed"
    assert "set-cookie" not in wrong.headers


@pytest.mark.parametrize("origin", [
    {"Origin": "https://evil.example"}, {"Origin": "null"}, {}, {"Referer": "https://evil.example/x"},
    {"Origin": "null", "Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example", "Sec-Fetch-Site": "same-origin"},
    {"Origin": "null", "Referer": "http://localhost:3000/login"},
])
def test_posts_from_other_sites_are_refused(api, runtime, signed_up, origin):
    response = _post(api, "/session", {"email": "alice@example.com", "password": PASSWORD}, headers=origin)
    assert response.status_code == 403 and "set-cookie" not in response.headers
    token = _token_from(signed_up)
    # A forged password change or account deletion changes nothing.
    for path, form in (("/account/password", {"current_password": PASSWORD, "new_password": "x" * 12, "new_password_confirmation": "x" * 12}),
                       ("/account/delete", {"password": PASSWORD}),
                       ("/session/logout", {})):
        assert _post(api, path, form, headers=origin, cookie=token).status_code == 403
    assert accounts.user_for_session(runtime, token) is not None


def test_a_refused_post_says_why_in_the_browsers_language(api, signed_up):
    form = {"email": "alice@example.com", "password": PASSWORD}
    english = _post(api, "/session", form, headers={"Origin": "https://evil.example"})
    german = _post(api, "/session", form, headers={"Origin": "https://evil.example", "Accept-Language": "de-DE,de"})
    assert english.json() == {"error": "This form must be sent from this site's own pages."}
    assert german.status_code == 403
    assert german.json() == {"error": "Dieses Formular muss von den Seiten dieser Website gesendet werden."}


def test_a_browser_hiding_origin_is_judged_by_sec_fetch_site(api, signed_up):
    # What Chromium sends for our own form under Referrer-Policy: no-referrer.
    response = _post(api, "/session", {"email": "alice@example.com", "password": PASSWORD},
                     headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 303 and response.headers["location"] == "/dashboard"


def test_referer_of_our_site_is_enough_without_origin(api, signed_up):
    response = _post(api, "/session", {"email": "alice@example.com", "password": PASSWORD},
                     headers={"Referer": "http://localhost:3000/login"})
    assert response.status_code == 303 and response.headers["location"] == "/dashboard"


def test_log_out_revokes_the_session_and_clears_the_cookie(api, runtime, signed_up):
    token = _token_from(signed_up)
    response = _post(api, "/session/logout", {}, cookie=token)
    assert response.status_code == 303 and response.headers["location"] == "/login?bye=1"
    assert 'max-age=0' in _set_cookie(response).lower() or "expires=" in _set_cookie(response).lower()
    assert accounts.user_for_session(runtime, token) is None


def test_change_password_revokes_other_sessions_and_gives_a_new_cookie(api, runtime, signed_up):
    old = _token_from(signed_up)
    other = _token_from(_post(api, "/session", {"email": "alice@example.com", "password": PASSWORD}))
    mismatch = _post(api, "/account/password", {"current_password": PASSWORD, "new_password": "new password 1",
                                                "new_password_confirmation": "new password 2"}, cookie=old)
    assert mismatch.headers["location"] == "/account?error=passwords_differ"
    response = _post(api, "/account/password", {"current_password": PASSWORD, "new_password": "new password 1",
                                                "new_password_confirmation": "new password 1"}, cookie=old)
    assert response.headers["location"] == "/account?changed=1"
    fresh = _token_from(response)
    assert accounts.user_for_session(runtime, old) is None and accounts.user_for_session(runtime, other) is None
    assert accounts.user_for_session(runtime, fresh).email == "alice@example.com"


def test_account_forms_without_a_session_go_to_login(api):
    response = _post(api, "/account/delete", {"password": PASSWORD})
    assert response.status_code == 303 and response.headers["location"] == "/login"


def test_delete_account_needs_the_password(api, runtime, signed_up):
    token = _token_from(signed_up)
    wrong = _post(api, "/account/delete", {"password": "not the password"}, cookie=token)
    assert wrong.headers["location"] == "/account?error=current_password"
    response = _post(api, "/account/delete", {"password": PASSWORD}, cookie=token)
    assert response.headers["location"] == "/login?deleted=1"
    assert accounts.user_for_session(runtime, token) is None
    assert _post(api, "/session", {"email": "alice@example.com", "password": PASSWORD}).headers["location"] == "/login?error=login_failed"


@pytest.mark.parametrize("form, code", [
    ({"email": "not-an-email", "password": PASSWORD, "password_confirmation": PASSWORD}, "email_invalid"),
    ({"email": "bob@example.com", "password": "short", "password_confirmation": "short"}, "password_short"),
    ({"email": "bob@example.com", "password": PASSWORD, "password_confirmation": "other"}, "passwords_differ"),
    ({"email": "alice@example.com", "password": PASSWORD, "password_confirmation": PASSWORD}, "email_taken"),
])
def test_sign_up_refusals_come_back_as_codes(api, signed_up, form, code):
    response = _post(api, "/signup", form)
    assert response.status_code == 303 and response.headers["location"] == f"/signup?error={code}"
    assert code in accounts.MESSAGES


def test_bad_bodies_are_refused_without_a_500(api):
    for body, content_type in ((b"x" * 20_000, "application/x-www-form-urlencoded"), (b'{"email": 1}', "application/json"),
                               (b"\xff\xfe=\xff", "application/x-www-form-urlencoded"), (b"", "text/plain")):
        response = api.post("/session", content=body, headers={**ORIGIN, "Content-Type": content_type}, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] in ("/login?error=form_invalid", "/login?error=login_failed")


def test_login_rate_limited_per_ip(make_runtime):
    runtime = make_runtime(PWP__THROTTLING__MINUTE="2")
    api = asgi_client(runtime)
    try:
        codes = [_post(api, "/session", {"email": "x@example.com", "password": "whatever12"}).headers["location"] for _ in range(3)]
        assert codes[-1] == "/login?error=rate_limited"
    finally:
        api.close()


def test_session_cookie_is_not_an_api_credential(api, signed_up):
    token = _token_from(signed_up)
    response = api.get("/api/v2/pushes/active", headers={"Cookie": f"{SESSION_COOKIE}={token}"})
    assert response.status_code == 401


def test_wrong_current_passwords_lock_the_account_like_wrong_logins(api, runtime, signed_up):
    # A stolen session guesses the password no faster than a stranger: the account locks after
    # `login_max_failures` wrong current passwords, and then the right one is refused too.
    token = _token_from(signed_up)
    form = {"new_password": "mallory's password", "new_password_confirmation": "mallory's password"}
    answers = [_post(api, "/account/password", {**form, "current_password": f"guess number {n}"}, cookie=token)
               .headers["location"] for n in range(runtime.settings.login_max_failures)]
    assert answers[:-1] == ["/account?error=current_password"] * (runtime.settings.login_max_failures - 1)
    assert answers[-1].startswith("/account?error=login_locked")
    for path, data in (("/account/password", {**form, "current_password": PASSWORD}),
                       ("/account/delete", {"password": PASSWORD})):
        assert _post(api, path, data, cookie=token).headers["location"].startswith("/account?error=login_locked")
    assert accounts.login_lock(runtime, "alice@example.com") is not None
    assert accounts.user_for_session(runtime, token) is not None  # nothing changed, nothing deleted
