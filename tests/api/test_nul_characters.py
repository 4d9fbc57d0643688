"""A NUL character (U+0000) in anything a client sends: never a 500, and a refusal stores nothing.

PostgreSQL refuses NUL in a text value (psycopg: "PostgreSQL text fields cannot contain NUL
(0x00) bytes"); SQLite takes it.  So every text a client controls is sent here with a NUL in
it, on both engines: each JSON field of the create, edit, notify, request and answer routes,
query parameters, path parameters (tokens, ids), the session forms and the legacy headers.
The fuzz tests (test_fuzz.py) run on SQLite only.

One runtime per route (a fresh PostgreSQL database costs a third of a second); each test
sends every field of its route and fails naming each field that got a 5xx, or that was
refused but stored something."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from pwpush_app.api.errors import NUL_REFUSED, nul_refused
from pwpush_app.core import accounts, admin
from pwpush_app.core.accounts import issue_api_token

from .conftest import create
from .test_sessions import ORIGIN, PASSWORD, SESSION_COOKIE

NUL = "\x00"
BAD = f"a{NUL}b"
# Where a stored row would show; a refusal must leave every count as it was.
TABLES = ("pwpush_user", "session", "push", "push_recipient", "secret_request", "mail_outbox", "account_token",
          "login_step", "passkey")


def _counts(runtime) -> dict[str, int]:
    with runtime.engine.connect() as connection:
        return {t: connection.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in TABLES}


def _send_each(runtime, cases: dict, send) -> None:
    """`send(name)` for each case; fail naming every case that answered 5xx, or 4xx with a row stored."""
    wrong = {}
    for name in cases:
        before = _counts(runtime)
        try:
            response = send(name)
        except Exception as error:  # the in-process transport re-raises what became a 500
            wrong[name] = f"500 {type(error).__name__}: {str(error).splitlines()[0][:120]}"
            continue
        after = _counts(runtime)
        if response.status_code >= 500:
            wrong[name] = f"{response.status_code} {response.text[:200]}"
        elif response.status_code >= 400 and after != before:
            wrong[name] = f"{response.status_code} but stored {[t for t in TABLES if after[t] != before[t]]}"
    assert not wrong, "\n".join(f"{name!r}: {answer}" for name, answer in wrong.items())


# --- JSON fields ------------------------------------------------------------------------------

PUSH_TEXT_FIELDS = {
    "payload": BAD, "kind": BAD, "name": BAD, "note": BAD, "passphrase": BAD, "verify_email": BAD,
    "notify_emails_to": f"al{NUL}ice@example.com", "notify_emails_to (list)": [f"al{NUL}ice@example.com"],
    "notify_emails_to_locale": f"e{NUL}n", "allowed_ips": f"203.0.113.1{NUL}", "allowed_ips (list)": [BAD],
    "recipients": f"Alice,B{NUL}ob", "recipients (list)": ["Alice", f"b{NUL}ob@example.com"],
    "expire_after_views": f"2{NUL}", "expire_after_duration": f"1{NUL}", "expire_after_days": f"1{NUL}",
    "expire_after_minutes": f"60{NUL}", "burn_after_failed_passphrases": f"3{NUL}",
    "deletable_by_viewer": f"true{NUL}", "retrieval_step": f"true{NUL}", "verify_recipients": f"true{NUL}",
    "end_to_end": f"true{NUL}", f"pay{NUL}load (a key)": "x",
}


def _push_fields(name: str, value) -> dict:
    key = name.split(" (")[0]
    fields = {"payload": "s3cret-payload", key: value}
    if key in ("verify_email", "verify_recipients"):
        fields["recipients"] = ["alice@example.com"]
    return fields


def test_create_fields(api, runtime, alice):
    _send_each(runtime, PUSH_TEXT_FIELDS, lambda name: api.post(
        "/api/v2/pushes", json={"push": _push_fields(name, PUSH_TEXT_FIELDS[name])}, headers=alice))


def test_create_forms_legacy_routes_and_files(api, runtime, alice):
    cases = {
        "form push[payload]": ("/api/v2/pushes", {"data": {"push[payload]": BAD, "push[name]": BAD}}),
        "form push[n\\0ame]": ("/api/v2/pushes", {"data": {"push[payload]": "x", f"push[n{NUL}ame]": "x"}}),
        "query push[note]": ("/api/v2/pushes?push[note]=a%00b", {"json": {"push": {"payload": "x"}}}),
        "/p.json name": ("/p.json", {"json": {"password": {"payload": "x", "name": BAD}}}),
        "/r.json payload": ("/r.json", {"json": {"url": {"payload": f"https://example.com/{NUL}"}}}),
        "/f.json file name": ("/f.json", {"files": {"file_push[files][]": (f"a{NUL}b.txt", b"data", "text/plain")},
                                          "data": {"file_push[payload]": "x"}}),
        "/f.json content type": ("/f.json", {"files": {"file_push[files][]": ("a.txt", b"data", f"text/pl{NUL}ain")}}),
        "/f.json note": ("/f.json", {"files": {"file_push[files][]": ("a.txt", b"data", "text/plain")},
                                     "data": {"file_push[note]": BAD}}),
    }
    _send_each(runtime, cases, lambda name: api.post(cases[name][0], headers=alice, **cases[name][1]))


EDIT_FIELDS = {name: value for name, value in PUSH_TEXT_FIELDS.items()
               if name.split(" (")[0] in ("payload", "name", "note", "passphrase", "expire_after_views",
                                          "expire_after_duration", "expire_after_days", "expire_after_minutes",
                                          "deletable_by_viewer", "retrieval_step")}


def test_edit_and_notify_fields(api, runtime, alice):
    token = create(api, alice, name="edited")["url_token"]
    cases = {**{f"edit {name}": ("PATCH", f"/api/v2/pushes/{token}", {"push": {name: value}})
                for name, value in EDIT_FIELDS.items()},
             "notify_emails_to": ("POST", f"/api/v2/pushes/{token}/notify_emails",
                                  {"notify_emails_to": f"al{NUL}ice@example.com"}),
             "notify_emails_to_locale": ("POST", f"/api/v2/pushes/{token}/notify_emails",
                                         {"notify_emails_to": "alice@example.com", "notify_emails_to_locale": BAD})}
    _send_each(runtime, cases, lambda name: api.request(cases[name][0], cases[name][1], json=cases[name][2],
                                                        headers=alice))


def test_request_and_answer_fields(api, runtime, alice):
    asked = api.post("/api/v2/requests", json={"request": {"message": "the VPN password"}}, headers=alice).json()
    cases = {
        **{f"request {name}": ("/api/v2/requests", {"request": {"message": "m", name: value}})
           for name, value in (("message", BAD), ("expire_after_minutes", f"60{NUL}"), ("answer_views", f"1{NUL}"),
                               ("answer_minutes", f"60{NUL}"), ("notify_by_email", f"true{NUL}"))},
        "answer passphrase": (f"/api/v2/ask/{asked['url_token']}", {"answer": {"payload": "x", "passphrase": BAD}}),
        "answer payload": (f"/api/v2/ask/{asked['url_token']}", {"answer": {"payload": BAD}}),
    }
    _send_each(runtime, cases, lambda name: api.post(cases[name][0], json=cases[name][1], headers=alice))


# --- path and query parameters ---------------------------------------------------------------

def _admin(runtime) -> dict:
    _user, token = issue_api_token(runtime, "root@example.com")
    admin.set_admin(runtime, "root@example.com")
    return {"Authorization": f"Bearer {token}"}


PATHS = [
    ("GET", "/api/v2/pushes/{bad}"), ("GET", "/api/v2/pushes/{bad}/preview"), ("GET", "/api/v2/pushes/{bad}/audit"),
    ("POST", "/api/v2/pushes/{bad}/verification_code"), ("DELETE", "/api/v2/pushes/{bad}"),
    ("PATCH", "/api/v2/pushes/{bad}"), ("POST", "/api/v2/pushes/{bad}/notify_emails"),
    ("GET", "/p/{bad}.json"), ("GET", "/p/{bad}/preview.json"), ("GET", "/p/{bad}/audit.json"),
    ("DELETE", "/f/{bad}.json"), ("GET", "/r/{bad}.json"),
    ("GET", "/api/v2/requests/{bad}"), ("GET", "/api/v2/ask/{bad}"), ("POST", "/api/v2/ask/{bad}"),
    ("GET", "/d/{bad}/all.zip"), ("GET", "/d/{bad}/0"), ("GET", "/d/grant/{bad}"),
    ("GET", "/account/confirm/{bad}"), ("GET", "/account/unlock/{bad}"), ("GET", "/account/email/{bad}"),
    ("GET", "/account/reset/{bad}"),
    ("POST", "/api/v2/admin/users/{bad}/lock"), ("POST", "/api/v2/admin/users/{bad}/unlock"),
    ("POST", "/api/v2/admin/users/{bad}/reset_2fa"), ("POST", "/api/v2/admin/users/{bad}/promote"),
    ("POST", "/api/v2/admin/users/{bad}/demote"), ("POST", "/api/v2/admin/users/{bad}/sign_out"),
    ("DELETE", "/api/v2/admin/users/{bad}"), ("DELETE", "/api/v2/admin/pushes/{bad}"),
]


def test_path_parameters(api, runtime):
    root = _admin(runtime)
    cases = {f"{method} {path}": (method, path.replace("{bad}", "a%00b")) for method, path in PATHS}
    _send_each(runtime, cases, lambda name: api.request(cases[name][0], cases[name][1], headers=root,
                                                        json={"push": {"name": "x"}} if cases[name][0] in ("PATCH", "POST") else None))


def test_query_parameters(api, runtime, alice):
    root = _admin(runtime)
    token = create(api, alice, passphrase="right one")["url_token"]
    cases = {
        "page": ("/api/v2/pushes/active", "page", alice), "audit page": (f"/api/v2/pushes/{token}/audit", "page", alice),
        "passphrase": (f"/api/v2/pushes/{token}", "passphrase", None),
        "verification_code": (f"/api/v2/pushes/{token}", "verification_code", None),
        "admin users search": ("/api/v2/admin/users", "search", root),
        "admin pushes search": ("/api/v2/admin/pushes", "search", root),
        "admin pushes state": ("/api/v2/admin/pushes", "state", root),
        "admin pushes kind": ("/api/v2/admin/pushes", "kind", root),
        "admin pushes page": ("/api/v2/admin/pushes", "page", root),
        "locale": ("/api/v2/pushes/nothing-here-at-all", "locale", None),
    }
    _send_each(runtime, cases, lambda name: api.get(cases[name][0], params={cases[name][1]: BAD},
                                                    headers=cases[name][2] or {}))


def test_headers_where_the_client_can_send_them(api, runtime):
    _admin(runtime)
    cases = {"X-User-Email": {"X-User-Email": f"root{NUL}@example.com", "X-User-Token": "t" * 43},
             "X-User-Token": {"X-User-Email": "root@example.com", "X-User-Token": BAD},
             "Authorization": {"Authorization": f"Bearer {BAD}"}, "X-Passphrase": {"X-Passphrase": BAD},
             "Accept-Language": {"Accept-Language": f"d{NUL}e"}}
    try:
        api.get("/api/v2/version", headers={"X-Probe": BAD})
    except Exception:  # httpx refuses NUL in a header: no client sends one
        pytest.skip("httpx refuses a NUL in a header value")
    _send_each(runtime, cases, lambda name: api.get("/api/v2/pushes/active", headers=cases[name]))


# --- the session forms ----------------------------------------------------------------------

def _post(api, path, data, cookie=None):
    extra = {"Cookie": f"{SESSION_COOKIE}={cookie}"} if cookie else {}
    return api.post(path, data=data, headers={**ORIGIN, **extra}, follow_redirects=False)


EMAIL = f"al{NUL}ice@example.com"


def _form_cases(email_on: bool) -> dict:
    return {
        "/session email": ("/session", {"email": EMAIL, "password": PASSWORD}, False),
        "/session password": ("/session", {"email": "alice@example.com", "password": PASSWORD + NUL}, False),
        "/signup email": ("/signup", {"email": EMAIL, "password": PASSWORD, "password_confirmation": PASSWORD}, False),
        "/signup password": ("/signup", {"email": "carol@example.com", "password": PASSWORD + NUL,
                                         "password_confirmation": PASSWORD + NUL}, False),
        "/session/code": ("/session/code", {"code": BAD}, False),
        "/session/passkey": ("/session/passkey", {"credential": BAD}, False),
        "/account/forgot-password": ("/account/forgot-password", {"email": EMAIL}, False),
        "/account/confirm-again": ("/account/confirm-again", {"email": EMAIL}, False),
        "/account/reset-password": ("/account/reset-password", {"new_password": BAD + PASSWORD,
                                                                "new_password_confirmation": BAD + PASSWORD}, False),
        "/account/password": ("/account/password", {"current_password": BAD, "new_password": BAD + PASSWORD,
                                                    "new_password_confirmation": BAD + PASSWORD}, True),
        "/account/two-factor/off": ("/account/two-factor/off", {"password": BAD, "code": BAD}, True),
        "/account/passkeys/remove": ("/account/passkeys/remove", {"passkey": BAD, "password": PASSWORD}, True),
        "/account/email": ("/account/email", {"new_email": EMAIL, "current_password": PASSWORD}, True),
        "/account/email password": ("/account/email", {"new_email": "new@example.com", "current_password": BAD}, True),
        "/account/delete": ("/account/delete", {"password": BAD}, True),
    }


@pytest.mark.parametrize("account_emails", ["false", "true"])
def test_session_forms(make_api, account_emails):
    api, runtime = make_api(PWP__ENABLE_USER_ACCOUNT_EMAILS=account_emails, PWP__MAIL__SMTP_ADDRESS="localhost")
    accounts.sign_up(runtime, "alice@example.com", PASSWORD)
    with runtime.engine.begin() as connection:  # confirmed, so that her session opens
        connection.execute(text("UPDATE pwpush_user SET email_confirmed_at = created_at"))
    session = accounts.log_in(runtime, "alice@example.com", PASSWORD, "192.0.2.1").session_token
    cases = _form_cases(account_emails == "true")
    _send_each(runtime, cases, lambda name: _post(api, cases[name][0], cases[name][1],
                                                  cookie=session if cases[name][2] else None))
    assert accounts.user_for_session(runtime, session).email == "alice@example.com"


# --- the backstop ----------------------------------------------------------------------------

def test_a_nul_that_reaches_postgresql_anyway_is_a_clear_400():
    """The API's last resort: psycopg's DataError for a NUL is the client's text, not the server's fault."""
    import psycopg
    from sqlalchemy.exc import DataError

    error = DataError("SELECT", {}, psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes"))
    assert nul_refused(error) and not nul_refused(DataError("SELECT", {}, psycopg.DataError("value too long")))
    assert not nul_refused(ValueError("PostgreSQL text fields cannot contain NUL (0x00) bytes"))
    assert NUL_REFUSED == "Text with a NUL character (U+0000) is not accepted."


@pytest.mark.parametrize("path", ["/api/v2/anything", "/session"])
def test_the_backstop_answers_a_nul_refused_by_postgresql_with_a_400(runtime, path):
    """A route the core forgot: its DataError is answered 400 with the reason, JSON on the API, text elsewhere."""
    import httpx
    import psycopg
    from fastapi import FastAPI
    from sqlalchemy.exc import DataError

    from pwpush_app.api.errors import install_error_handlers

    app = FastAPI()
    install_error_handlers(app, lambda: runtime)

    @app.get(path)
    def forgotten():
        raise DataError("SELECT", {}, psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes"))

    transport = httpx.ASGITransport(app=app)

    async def ask():
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.get(path)

    import asyncio
    response = asyncio.run(ask())
    assert response.status_code == 400
    assert NUL_REFUSED in response.text
