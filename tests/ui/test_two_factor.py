"""Two-factor sign-in and /admin in Chromium, against the production server.

Codes are computed by pyotp from the key the page shows, as an authenticator app would.
- enrol on the account page, log out, log in with a code; a backup code works once; wrong
  codes lock the address like wrong passwords;
- PWP__REQUIRE_MFA: a new account is sent to enrol and reaches nothing else until it has;
- crafted websocket events from a half-signed-in browser reach nothing, and a non-admin's
  crafted /admin events get no list; a stranger at /admin is sent to log in;
- the TOTP secret is in no file of the data folder (database included) nor in the log.
"""

from __future__ import annotations

import importlib.util
import re
import time

import httpx
import pyotp
import pytest
from ui_helpers import PASSWORD, EventChannel, screenshots, sign_up, signed_up_on, wait_until_ready

from pwpush_app.core import accounts, admin, two_factor
from pwpush_app.core.runtime import open_runtime
from pwpush_app.settings import load_settings
from tests.core.test_plaintext_canary import assert_absent, encodings, files_under
from tests.servers import LiveServer, free_port

TIMEOUT_MS = 30_000
AXE = importlib.util.find_spec("axe_playwright_python") is not None
WIDE, NARROW = {"width": 1280, "height": 900}, {"width": 390, "height": 844}


def _serve(tmp_path_factory, name: str, **env: str):
    server = LiveServer(tmp_path_factory.mktemp(name) / "data", free_port(), env)
    server.start()
    return server, open_runtime(load_settings(server.env))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    server, runtime = _serve(tmp_path_factory, "two-factor", PWPUSH_LOGIN_MAX_FAILURES="3")
    yield server, runtime
    server.stop()


@pytest.fixture(scope="module")
def strict_site(tmp_path_factory):
    server, runtime = _serve(tmp_path_factory, "require-mfa", PWP__REQUIRE_MFA="true")
    yield server, runtime
    server.stop()


def shoot(page, name: str) -> None:
    """The page into test-artifacts/screenshots (ui_helpers.screenshots); and axe finds no
    serious problem on it at 390 px, light and dark."""
    from test_accessibility import _serious_problems

    screenshots(page, f"two-factor-{name}")
    problems = {}
    if AXE:
        page.set_viewport_size(NARROW)
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            page.wait_for_timeout(400)  # repainted in the new size and scheme
            problems[scheme] = _serious_problems(page)
    page.set_viewport_size(WIDE)
    page.emulate_media(color_scheme="light")
    assert {scheme: found for scheme, found in problems.items() if found} == {}


def wait_at(page, path: str) -> None:
    page.wait_for_url(re.compile(re.escape(path) + r"/?(\?.*)?$"))


def session_cookies(page) -> list[str]:
    return [c["name"] for c in page.context.cookies() if "session" in c["name"]]


def read_secret(page) -> str:
    page.wait_for_function("() => document.getElementById('totp-secret')?.value.length > 0")
    secret = page.input_value("#totp-secret").replace(" ", "")
    assert page.get_attribute("#totp-qr", "src").startswith("data:image/svg+xml")
    return secret


def read_backup_codes(page) -> list[str]:
    page.wait_for_function("() => document.getElementById('backup-codes')?.value.length > 0")
    return page.input_value("#backup-codes").split("\n")


def fresh_code(secret: str, after_step: int) -> str:
    """A code of a later time step than `after_step` (a code is good once): waits for it."""
    totp = pyotp.TOTP(secret)
    while totp.timecode(time.time()) <= after_step:
        time.sleep(0.5)
    return totp.now()


def log_in_to_code_page(page, url: str, email: str) -> None:
    page.goto(url + "/login")
    wait_until_ready(page)
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#log-in")
    wait_at(page, "/login/code")
    wait_until_ready(page)


def send_code(page, code: str) -> None:
    page.fill("#code", code)
    page.click("#send-code")


def log_out(page) -> None:
    page.click("#log-out")
    wait_at(page, "/login")
    wait_until_ready(page)


def test_enrol_then_codes_backup_codes_and_lock_out(site, new_page):
    server, runtime = site
    page = new_page()
    channel = signed_up_on(page, server.url, "ann@example.com", "/account")
    page.click("#set-up-two-factor")
    secret = read_secret(page)
    shoot(page, "enrol")
    # A wrong code is refused, and two-factor stays off.
    page.fill("#enrol-code", "000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    page.click("#turn-on")
    page.wait_for_selector("#two-factor-error:has-text('That code is not right')")
    assert not accounts.get_user(runtime, _id(runtime, "ann@example.com")).two_factor_on
    enrolled_at = pyotp.TOTP(secret).timecode(time.time())
    page.fill("#enrol-code", pyotp.TOTP(secret).now())
    page.click("#turn-on")
    codes = read_backup_codes(page)
    assert len(codes) == 10 and page.input_value("#totp-secret") == ""
    shoot(page, "backup-codes")
    page.click("#saved-codes")
    page.wait_for_selector("#two-factor-status:has-text('10 backup codes left')")
    shoot(page, "account-on")

    # Log out, log in: the password leads to the code form, with no session yet.
    log_out(page)
    log_in_to_code_page(page, server.url, "ann@example.com")
    assert session_cookies(page) == []
    shoot(page, "code")
    # Crafted events from the code step: enrolling anew (a secret of the sender's choosing) or
    # confirming one are refused, and open no session.
    from pwpush_app.ui.two_factor import TwoFactorState

    sealed_before = accounts.get_user(runtime, _id(runtime, "ann@example.com")).totp_secret_sealed
    for handler, payload in (("load_login_enrol", {}), ("start", {}),
                             ("confirm", {"form_data": {"code": pyotp.TOTP(secret).now()}})):
        channel.send_event(f"{TwoFactorState.get_full_name()}.{handler}", payload, path="/login/code")
        page.wait_for_timeout(500)
    assert accounts.get_user(runtime, _id(runtime, "ann@example.com")).totp_secret_sealed == sealed_before
    assert session_cookies(page) == []
    # The half-signed-in browser reaches nothing: the dashboard sends it to log in.
    page.goto(server.url + "/dashboard")
    wait_at(page, "/login")
    page.goto(server.url + "/login/code")
    wait_until_ready(page)
    send_code(page, fresh_code(secret, enrolled_at))
    wait_at(page, "/dashboard")
    assert session_cookies(page) == ["pwpush_session"]

    # A backup code works once.
    log_out(page)
    log_in_to_code_page(page, server.url, "ann@example.com")
    send_code(page, codes[0])
    wait_at(page, "/dashboard")
    log_out(page)
    log_in_to_code_page(page, server.url, "ann@example.com")
    send_code(page, codes[0])
    page.wait_for_selector("#form-error:has-text('That code is not right')")
    assert session_cookies(page) == []
    send_code(page, codes[1])
    wait_at(page, "/dashboard")
    assert two_factor.backup_codes_left(runtime, _id(runtime, "ann@example.com")) == 8

    # Wrong codes lock the address like wrong passwords (PWPUSH_LOGIN_MAX_FAILURES=3 here).
    log_out(page)
    log_in_to_code_page(page, server.url, "ann@example.com")
    for attempt in range(2):
        send_code(page, "123456" if pyotp.TOTP(secret).now() != "123456" else "654321")
        page.wait_for_selector("#form-error:has-text('That code is not right')")
    send_code(page, "123456" if pyotp.TOTP(secret).now() != "123456" else "654321")
    wait_at(page, "/login")
    page.wait_for_selector("#form-error:has-text('Too many wrong passwords or codes')")
    # The login page states this site's rule (read at run time, not compiled into the page).
    page.wait_for_selector("text=After 3 wrong passwords an account is locked for 60 minutes.")
    # Locked: the right password is refused too.
    page.fill("#email", "ann@example.com")
    page.fill("#password", PASSWORD)
    page.click("#log-in")
    page.wait_for_selector("#form-error:has-text('Too many wrong passwords or codes')")
    assert session_cookies(page) == []

    # The secret is in no file of the data folder (the database among them) nor in the log.
    needles = {f"secret {i}": e for i, e in enumerate(encodings(secret) + encodings(secret.lower()))}
    needles.update({f"backup {i}": c.encode() for i, c in enumerate(codes)})
    needles.update({f"backup bare {i}": c.replace("-", "").encode() for i, c in enumerate(codes)})
    assert_absent(needles, files_under(server.data_dir))


def _id(runtime, email: str) -> str:
    from pwpush_app.core.account_recovery import account_for_email

    return account_for_email(runtime, email).id


def test_require_mfa_enrols_before_anything_else(strict_site, new_page):
    server, runtime = strict_site
    page = new_page()
    channel = EventChannel(page)
    page.goto(server.url + "/signup")
    wait_until_ready(page)
    for field, value in (("#email", "bea@example.com"), ("#password", PASSWORD), ("#password_confirmation", PASSWORD)):
        page.fill(field, value)
    page.click("#sign-up")
    wait_at(page, "/login/enrol")
    wait_until_ready(page)
    read_secret(page)
    assert session_cookies(page) == []
    # Posting the code form without enrolling opens no session.
    page.goto(server.url + "/login/code")
    wait_at(page, "/login/enrol")
    wait_until_ready(page)
    read_secret(page)
    _crafted_events_reach_nothing(page, channel, runtime, "bea@example.com")
    # (The crafted account-page event sent this tab to log in: the step cookie brings it back.)
    page.goto(server.url + "/login/enrol")
    wait_until_ready(page)
    secret = read_secret(page)
    shoot(page, "enrol-at-login")
    page.fill("#enrol-code", pyotp.TOTP(secret).now())
    page.click("#turn-on")
    assert len(read_backup_codes(page)) == 10
    shoot(page, "backup-codes-at-login")
    page.click("#continue-login")
    wait_at(page, "/dashboard")
    assert session_cookies(page) == ["pwpush_session"]
    assert accounts.get_user(runtime, _id(runtime, "bea@example.com")).two_factor_on
    # Next login: the code.
    log_out(page)
    log_in_to_code_page(page, server.url, "bea@example.com")


def _crafted_events_reach_nothing(page, channel, runtime, email: str) -> None:
    """Half signed in (the step cookie, no session): events of other pages, sent over the
    live websocket by a script, do nothing an account could."""
    from pwpush_app.ui.admin import AdminState
    from pwpush_app.ui.notifications import NoticesState
    from pwpush_app.ui.tokens import TokenState
    from pwpush_app.ui.two_factor import TwoFactorState

    user_id = _id(runtime, email)
    before = len(channel.frames[-1])
    for name, payload in ((f"{TokenState.get_full_name()}.regenerate", {}),
                          (f"{NoticesState.get_full_name()}.add_webhook", {"form_data": {"webhook_url": "https://example.com/h"}}),
                          (f"{AdminState.get_full_name()}.search", {"form_data": {"search": ""}}),
                          (f"{TwoFactorState.get_full_name()}.start", {})):
        channel.send_event(name, payload, path="/login/enrol")
    page.wait_for_timeout(1500)
    user = accounts.get_user(runtime, user_id)
    assert user.api_token_digest is None and not user.two_factor_on
    from pwpush_app.core import webhooks

    assert webhooks.webhooks_of(runtime, user_id) == []
    sent = "".join(channel.frames[-1][before:])
    assert email not in sent
    # And the code step itself cannot be skipped: an empty code posts nothing useful.
    response = page.request.post(page.url.split("/login")[0] + "/session/code", form={"code": ""},
                                 headers={"Origin": page.url.split("/login")[0]}, max_redirects=0)
    assert response.status == 303 and "/dashboard" not in response.headers["location"]
    assert session_cookies(page) == []


def test_admin_page_for_admins_only(site, new_page):
    server, runtime = site
    # A stranger is sent to log in.
    stranger = new_page()
    stranger.goto(server.url + "/admin")
    wait_at(stranger, "/login")
    # The page itself is served to anyone (its data needs an admin): it holds no account.
    page_html = httpx.get(server.url + "/admin", follow_redirects=True)
    assert page_html.status_code == 200 and "example.com" not in page_html.text

    # A non-admin is told no, and a crafted search gets no list.
    page = new_page()
    channel = signed_up_on(page, server.url, "carl@example.com", "/admin")
    page.wait_for_selector("#admin-refused:has-text('Only administrators')")
    from pwpush_app.ui.admin import AdminState

    before = len(channel.frames[-1])
    channel.send_event(f"{AdminState.get_full_name()}.search", {"form_data": {"search": "example.com"}})
    page.wait_for_timeout(1000)
    assert "ann@example.com" not in "".join(channel.frames[-1][before:])
    assert page.locator(".admin-user").count() == 0

    # make-admin: root is an administrator from its next page on.
    assert page.locator("#nav-admin").count() == 0
    admin_page = new_page()
    sign_up(admin_page, server.url, "root@example.com")
    admin.set_admin(runtime, "root@example.com")
    admin_page.reload()
    wait_until_ready(admin_page)
    admin_page.click("#nav-admin")  # the header offers /admin to administrators
    wait_until_ready(admin_page)
    admin_page.wait_for_selector(".admin-user")
    text = admin_page.inner_text("main")
    assert "carl@example.com" in text and "root@example.com" in text
    shoot(admin_page, "admin-users")
    admin_page.fill("#search", "carl")
    admin_page.click("#search-users")
    admin_page.wait_for_function("() => document.querySelectorAll('.admin-user').length === 1")
    assert "carl@example.com" in admin_page.inner_text(".admin-user")
    assert admin_page.inner_text("#users-shown").startswith("1 account shown")
