"""The HTTP door of account emails: sign-up waits for the confirmation, the mailed links
(confirm, unlock, reset, new address) and their forms, the reset token kept in an
HttpOnly cookie for /account only; and the admin's reset-password command."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from pwpush_app.core import accounts
from pwpush_app.core.outbox import send_due_mails
from tests.api.conftest import asgi_client
from tests.servers import ROOT, make_env

ORIGIN = {"Origin": "http://localhost:3000"}
PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new passphrase"
LINK_RE = re.compile(r"http://localhost:3000(/account/(confirm|reset|unlock|email)/[A-Za-z0-9_-]+)")


@pytest.fixture
def runtime(make_runtime, smtp):
    return make_runtime(**smtp.env(PWP__ENABLE_USER_ACCOUNT_EMAILS="true"))


@pytest.fixture
def api(runtime):
    client = asgi_client(runtime)
    yield client
    client.close()


def post(api, path, data, cookies=""):
    headers = {**ORIGIN, **({"Cookie": cookies} if cookies else {})}
    return api.post(path, data=data, headers=headers, follow_redirects=False)


def last_link(runtime, smtp, action: str) -> str:
    """The link in the newest mail linking to `action` (mails queued together go in any order)."""
    send_due_mails(runtime, "tests")
    for mail in reversed(smtp.received):
        links = [path for path, kind in LINK_RE.findall(mail.text) if kind == action]
        if links:
            return links[0]
    raise AssertionError(f"no {action} link in {len(smtp.received)} mails")


def sign_up_and_confirm(api, runtime, smtp, email="ann@example.com"):
    answer = post(api, "/signup", {"email": email, "password": PASSWORD, "password_confirmation": PASSWORD})
    assert answer.status_code == 303 and answer.headers["location"] == "/login?confirm_sent=1"
    assert "set-cookie" not in answer.headers  # not logged in yet
    refused = post(api, "/session", {"email": email, "password": PASSWORD})
    assert refused.headers["location"] == "/login?error=email_unconfirmed"
    confirmed = api.get(last_link(runtime, smtp, "confirm"), follow_redirects=False)
    assert confirmed.status_code == 303 and confirmed.headers["location"] == "/login?confirmed=1"
    logged_in = post(api, "/session", {"email": email, "password": PASSWORD})
    assert logged_in.headers["location"] == "/dashboard"
    return logged_in.headers["set-cookie"].split(";", 1)[0]


def test_sign_up_then_confirm_then_log_in(api, runtime, smtp):
    sign_up_and_confirm(api, runtime, smtp)
    # A used or made-up link says so, and changes nothing.
    for path in ("/account/confirm/AAAAAAAAAAAAAAAAAAAAAA", "/account/unlock/x", "/account/email/AAAAAAAAAAAAAAAAAAAAAA"):
        answer = api.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/login?error=link_invalid"


def test_forgot_and_reset_through_the_forms(api, runtime, smtp):
    session = sign_up_and_confirm(api, runtime, smtp)
    for email in ("ann@example.com", "nobody@example.com"):
        answer = post(api, "/account/forgot-password", {"email": email})
        assert answer.status_code == 303 and answer.headers["location"] == "/login?reset_sent=1"
    link = last_link(runtime, smtp, "reset")
    token = link.rsplit("/", 1)[1]

    opened = api.get(link, follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == "/reset-password"
    cookie = opened.headers["set-cookie"]
    assert cookie.startswith(f"pwpush_reset={token};")
    lowered = cookie.lower()
    assert "httponly" in lowered and "samesite=strict" in lowered and "path=/account" in lowered
    assert token not in opened.text and "/reset-password?" not in opened.headers["location"]

    differ = post(api, "/account/reset-password", {"new_password": NEW_PASSWORD, "new_password_confirmation": "nope"},
                  f"pwpush_reset={token}")
    assert differ.headers["location"] == "/reset-password?error=passwords_differ"
    done = post(api, "/account/reset-password", {"new_password": NEW_PASSWORD, "new_password_confirmation": NEW_PASSWORD},
                f"pwpush_reset={token}")
    assert done.status_code == 303 and done.headers["location"] == "/login?reset=1"
    assert "pwpush_reset=" in done.headers["set-cookie"] and "max-age=0" in done.headers["set-cookie"].lower()
    assert NEW_PASSWORD not in done.text

    # The old session ended; the new password works; the link is spent.
    assert accounts.user_for_session(runtime, session.split("=", 1)[1]) is None
    assert post(api, "/session", {"email": "ann@example.com", "password": NEW_PASSWORD}).headers["location"] == "/dashboard"
    again = post(api, "/account/reset-password", {"new_password": PASSWORD, "new_password_confirmation": PASSWORD},
                 f"pwpush_reset={token}")
    assert again.headers["location"] == "/forgot-password?error=link_invalid"
    assert api.get(link, follow_redirects=False).headers["location"] == "/forgot-password?error=link_invalid"


def test_the_reset_form_refuses_other_sites_and_missing_cookies(api, runtime, smtp):
    sign_up_and_confirm(api, runtime, smtp)
    cross_site = api.post("/account/forgot-password", data={"email": "ann@example.com"},
                          headers={"Origin": "https://evil.example"}, follow_redirects=False)
    assert cross_site.status_code == 403
    no_cookie = post(api, "/account/reset-password", {"new_password": NEW_PASSWORD, "new_password_confirmation": NEW_PASSWORD})
    assert no_cookie.headers["location"] == "/forgot-password?error=link_invalid"


def test_changing_the_address_through_the_account_form(api, runtime, smtp):
    session = sign_up_and_confirm(api, runtime, smtp)
    pending = post(api, "/account/email", {"new_email": "ann@new.example", "current_password": PASSWORD}, session)
    assert pending.headers["location"] == "/account?email_pending=1"
    wrong = post(api, "/account/email", {"new_email": "ann@new.example", "current_password": "wrong one!"}, session)
    assert wrong.headers["location"] == "/account?error=current_password"
    stranger = asgi_client(runtime)  # no cookies
    try:
        assert post(stranger, "/account/email", {"new_email": "x@y.example", "current_password": PASSWORD}
                    ).headers["location"] == "/login"
    finally:
        stranger.close()
    moved = api.get(last_link(runtime, smtp, "email"), follow_redirects=False)
    assert moved.headers["location"] == "/login?email_changed=1"
    send_due_mails(runtime, "tests")
    assert smtp.received[-1].rcpt_tos == ["ann@example.com"]


def test_resend_confirmation_answers_the_same_for_anyone(api, runtime, smtp):
    post(api, "/signup", {"email": "ann@example.com", "password": PASSWORD, "password_confirmation": PASSWORD})
    for email in ("ann@example.com", "nobody@example.com"):
        assert post(api, "/account/confirm-again", {"email": email}).headers["location"] == "/login?confirm_sent=1"


# The commands run the core's account and outbox code, tested on both engines: one engine is
# enough for the command line itself (each run is a fresh interpreter, seconds apiece).
@pytest.mark.sqlite_only
def test_the_admin_resets_a_password_without_mail(make_runtime, tmp_path, db_url):
    runtime = make_runtime()
    accounts.sign_up(runtime, "ann@example.com", PASSWORD)
    env = make_env(tmp_path / "data", REFLEX_DB_URL=db_url, PWPUSH_MASTER_KEY=runtime.settings.master_key)
    command = [sys.executable, "-m", "pwpush_app", "reset-password"]

    def run_all(runs: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str, int]]:
        """`reset-password EMAIL` with STDIN, for each name: all at once (an interpreter takes seconds)."""
        started = {name: (subprocess.Popen([*command, email], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                           stderr=subprocess.PIPE, cwd=ROOT, env=env, text=True), stdin)
                   for name, (email, stdin) in runs.items()}
        answers = {}
        for name, (process, stdin) in started.items():
            out, err = process.communicate(stdin + "\n", timeout=120)
            answers[name] = (out, err, process.returncode)
        return answers

    # Only the first of these changes anything.
    answers = run_all({"reset": ("ann@example.com", NEW_PASSWORD), "short": ("ann@example.com", "short"),
                       "unknown": ("ghost@example.com", NEW_PASSWORD)})
    out, err, code = answers["reset"]
    assert code == 0, err
    assert NEW_PASSWORD not in out + err
    assert accounts.log_in(runtime, "ann@example.com", NEW_PASSWORD, "192.0.2.1")
    _, err, code = answers["short"]
    assert code == 2 and "at least 10 characters" in err
    _, err, code = answers["unknown"]
    assert code == 2 and "No account" in err
    generated = subprocess.run([*command, "--generate", "ann@example.com"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert generated.returncode == 0
    assert accounts.log_in(runtime, "ann@example.com", generated.stdout.strip(), "192.0.2.1")


@pytest.mark.sqlite_only
def test_send_test_mail_says_whether_the_server_took_it(tmp_path, db_url, smtp_server):
    from tests.mail_servers import closed_port

    server = smtp_server()
    env = make_env(tmp_path / "data", REFLEX_DB_URL=db_url, **server.env())
    command = [sys.executable, "-m", "pwpush_app", "send-test-mail", "admin@example.org"]
    ok = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "Sent to admin@example.org" in ok.stderr and server.received[-1].rcpt_tos == ["admin@example.org"]
    # One after the other: the two share one outbox.
    down = subprocess.run(command, cwd=ROOT, env={**env, "PWP__MAIL__SMTP_PORT": str(closed_port())},
                          capture_output=True, text=True)
    assert down.returncode == 1 and "connection was refused" in down.stderr
