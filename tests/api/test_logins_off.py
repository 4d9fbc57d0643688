"""PWP__DISABLE_LOGINS: nobody logs in or signs up (the core refuses, the doors answer 404),
while sessions already open and API tokens keep working.  Through the real server and a
browser: tests/ui/test_site_settings.py."""

from __future__ import annotations

import pytest

from pwpush_app.core import accounts
from pwpush_app.core.accounts import AccountError

from .conftest import asgi_client

ORIGIN = {"Origin": "http://localhost:3000"}
PASSWORD = "correct horse battery"


def test_the_core_refuses_logins_and_sign_ups(make_runtime):
    open_site = make_runtime()
    accounts.sign_up(open_site, "alice@example.com", PASSWORD)
    session = accounts.log_in(open_site, "alice@example.com", PASSWORD, "127.0.0.1").session_token
    _user, api_token = accounts.issue_api_token(open_site, "alice@example.com")

    closed = make_runtime(PWP__DISABLE_LOGINS="true")
    for attempt in (lambda: accounts.log_in(closed, "alice@example.com", PASSWORD, "127.0.0.1"),
                    lambda: accounts.sign_up(closed, "bob@example.com", PASSWORD)):
        with pytest.raises(AccountError) as refused:
            attempt()
        assert refused.value.code == "logins_disabled"
        assert str(refused.value) == "Logins are turned off on this site: share secrets without an account."
    assert not accounts.signups_open(closed) and not accounts.logins_open(closed)
    # What was open before stays open: the session until it logs out, and the API token.
    assert accounts.user_for_session(closed, session).email == "alice@example.com"
    assert accounts.user_for_api_token(closed, api_token).email == "alice@example.com"


def test_the_forms_posts_are_404_and_set_no_cookie_while_the_api_takes_tokens(make_runtime):
    runtime = make_runtime(PWP__DISABLE_LOGINS="true")
    _user, token = accounts.issue_api_token(runtime, "carol@example.com")
    client = asgi_client(runtime)
    try:
        for path in ("/session", "/signup", "/session/code"):
            answer = client.post(path, data={"email": "carol@example.com", "password": PASSWORD,
                                             "password_confirmation": PASSWORD}, headers=ORIGIN, follow_redirects=False)
            assert answer.status_code == 404 and "set-cookie" not in answer.headers, path
            assert answer.json() == {"error": "Not found", "message": accounts.MESSAGES["logins_disabled"]}
        # A French browser reads why in French; the shape and status stay.
        answer = client.post("/session", data={"email": "carol@example.com", "password": PASSWORD},
                             headers={**ORIGIN, "Accept-Language": "fr"}, follow_redirects=False)
        assert answer.status_code == 404 and set(answer.json()) == {"error", "message"}
        assert answer.json()["message"].startswith("Les connexions sont désactivées"), answer.json()
        created = client.post("/api/v2/pushes", json={"push": {"payload": "by token"}},
                              headers={"Authorization": f"Bearer {token}"})
        assert created.status_code == 201
        assert client.get("/api/v2/pushes/active", headers={"Authorization": f"Bearer {token}"}).json()[0]["url_token"] == \
            created.json()["url_token"]
        # Logging out still works.
        assert client.post("/session/logout", headers=ORIGIN, follow_redirects=False).status_code == 303
    finally:
        client.close()


def test_the_login_pages_are_404_where_the_api_is_built_for_such_a_site(make_runtime):
    import asyncio

    import httpx

    from pwpush_app.api.app import build_api

    runtime = make_runtime(PWP__DISABLE_LOGINS="true")
    app = build_api(lambda: runtime, settings=runtime.settings)

    async def get(path):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
            return await client.get(path)

    for path in ("/login", "/signup", "/login/code", "/login/enrol"):
        answer = asyncio.run(get(path))
        assert answer.status_code == 404 and "Logins are turned off" in answer.text
