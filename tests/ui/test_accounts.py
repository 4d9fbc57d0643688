"""Accounts in a real browser: sign up, create, the live dashboard, expire, log out; IDOR
attempts; the password never on disk or in the log; screenshots of the account pages."""

from __future__ import annotations

import httpx
import pytest
from ui_helpers import PASSWORD, create_through_form, log_in, reveal_in, screenshot, sign_up, wait_until_ready

from pwpush_app.core import accounts
from pwpush_app.core.audit import Client
from pwpush_app.core.create import NewPush, create_push
from pwpush_app.core.records import find_managed, find_push
from pwpush_app.settings import load_settings

pytestmark = pytest.mark.browser


def wait_for_value(page, selector: str, ok, timeout_s: float = 10) -> str:
    """Poll a field's value from Python (the CSP forbids the eval behind wait_for_function strings)."""
    for _ in range(int(timeout_s * 10)):
        value = page.input_value(selector)
        if ok(value):
            return value
        page.wait_for_timeout(100)
    raise AssertionError(f"{selector} never got the expected value; last: {value!r}")


def dashboard_row(page, name: str):
    return page.locator(".dash-push", has_text=name)


def test_sign_up_create_watch_a_view_live_and_expire_from_the_dashboard(live_server, server_runtime, new_page):
    sender = new_page()
    sign_up(sender, live_server.url, "flow@example.com")
    assert "flow@example.com" in sender.inner_text("header")
    assert sender.locator("#dash-empty").count() == 1

    links = create_through_form(sender, live_server.url, "dashboard-secret", name="VPN for Dana", views=3)
    assert find_push(server_runtime, links.token).owner_id is not None

    sender.goto(live_server.url + "/dashboard")
    wait_until_ready(sender)
    row = dashboard_row(sender, "VPN for Dana")
    row.wait_for()
    assert "0 views used, 3 left" in row.inner_text()
    assert "Text" in row.inner_text() and "left" in row.inner_text()

    recipient = new_page()
    assert reveal_in(recipient, links.secret) == "dashboard-secret"
    # No reload: the poll brings the view in.
    row.get_by_text("1 view used, 2 left").wait_for(timeout=10_000)
    row.locator(".dash-audit-toggle").click()
    sender.wait_for_selector(".dash-audit-row >> nth=1")
    audit_text = row.inner_text()
    assert "Created" in audit_text and "Viewed" in audit_text
    screenshot(sender, "dashboard")

    row.locator(".dash-expire").click()
    sender.wait_for_selector("#dash-empty")
    push = find_push(server_runtime, links.token)
    assert push.expired and push.expired_reason == "owner" and push.payload_sealed is None
    sender.get_by_text("Expired", exact=True).first.click()
    dashboard_row(sender, "VPN for Dana").wait_for()
    assert "you expired it" in dashboard_row(sender, "VPN for Dana").inner_text()

    sender.click("#log-out")
    sender.wait_for_url("**/login**")
    wait_until_ready(sender)
    assert "You are logged out." in sender.inner_text("main")
    sender.goto(live_server.url + "/dashboard")
    sender.wait_for_url("**/login**")
    assert sender.locator(".dash-push").count() == 0


def test_search_and_copy_link(live_server, server_runtime, new_page):
    page = new_page()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_up(page, live_server.url, "search@example.com")
    user = accounts.user_for_session(server_runtime, page.context.cookies()[0]["value"])
    owner = Client(ip="127.0.0.1", user_id=user.id)
    created = {name: create_push(server_runtime, NewPush(payload=f"secret of {name}", name=name), owner)
               for name in ("Wi-Fi guest", "Payroll login", "Wi-Fi office")}
    page.reload()
    wait_until_ready(page)
    page.locator(".dash-push").nth(2).wait_for()
    page.fill("#dash-search", "wi-fi")
    page.locator(".dash-push", has_text="Payroll login").wait_for(state="detached")
    names = page.locator(".dash-name").all_inner_texts()
    assert names == ["Wi-Fi office", "Wi-Fi guest"]  # newest first
    dashboard_row(page, "Wi-Fi office").locator(".dash-copy").click()
    link = f"{live_server.url}/p/{created['Wi-Fi office'].url_token}"
    wait_for_value(page, "#dash-link", lambda v: v == link)
    page.get_by_role("button", name="Copy to the clipboard").click()
    page.wait_for_timeout(300)
    assert page.evaluate("() => navigator.clipboard.readText()") == link


def test_claim_pushes_this_browser_created_anonymously(live_server, server_runtime, new_page):
    page = new_page()
    links = create_through_form(page, live_server.url, "made-before-login", name="Before I had an account")
    assert find_managed(server_runtime, links.manage_token).owner_id is None
    sign_up(page, live_server.url, "claimer@example.com")
    page.click("#dash-claim")
    dashboard_row(page, "Before I had an account").wait_for()
    assert find_managed(server_runtime, links.manage_token).owner_id is not None


def test_api_token_page_shows_the_token_once_and_it_works(live_server, new_page):
    page = new_page()
    sign_up(page, live_server.url, "tokens@example.com")
    page.goto(live_server.url + "/api-token")
    wait_until_ready(page)
    page.click("#regenerate-token")
    token = wait_for_value(page, "#api-token", lambda v: len(v) > 10)
    screenshot(page, "api-token")
    api = httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {token}"})
    assert api.post("/api/v2/pushes", json={"push": {"payload": "via the token page"}}).status_code == 201
    assert len(api.get("/api/v2/pushes/active").json()) == 1
    # Shown once: a reload shows no token.
    page.reload()
    wait_until_ready(page)
    page.wait_for_selector("#token-status")
    assert page.input_value("#api-token") == ""
    assert "created on" in page.inner_text("#token-status")
    assert token not in page.content()
    page.click("#regenerate-token")
    wait_for_value(page, "#api-token", lambda v: len(v) > 10 and v != token)
    assert api.get("/api/v2/pushes/active").status_code == 401
    page.click("#revoke-token")
    wait_for_value(page, "#api-token", lambda v: v == "")
    page.get_by_text("Your API token is revoked").wait_for()


def test_idor_attempts_are_refused(live_server, server_runtime, new_page):
    a_user = accounts.sign_up(server_runtime, "idor-a@example.com", PASSWORD)
    _b_user = accounts.sign_up(server_runtime, "idor-b@example.com", PASSWORD)
    _, a_token = accounts.issue_api_token(server_runtime, "idor-a@example.com")
    _, b_token = accounts.issue_api_token(server_runtime, "idor-b@example.com")
    a_push = create_push(server_runtime, NewPush(payload="a-secret", name="A's push", deletable_by_viewer=False),
                         Client(ip="127.0.0.1", user_id=a_user.id))
    as_b = httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {b_token}"})
    token = a_push.url_token
    # B holds A's secret link token: B still may not read A's audit log, expire it, or list it.
    assert as_b.get(f"/api/v2/pushes/{token}/audit").status_code == 403
    assert as_b.get(f"/p/{token}/audit.json").status_code == 403
    # Expire by a non-owner is 401 (Password Pusher's status), and expires nothing.
    assert as_b.delete(f"/api/v2/pushes/{token}").status_code == 401
    assert as_b.delete(f"/p/{token}.json").status_code == 401
    assert all(p["url_token"] != token for p in as_b.get("/api/v2/pushes/active").json())
    # Anonymous callers never see lists.
    assert httpx.get(f"{live_server.url}/api/v2/pushes/active").status_code == 401
    assert httpx.get(f"{live_server.url}/p/active.json").status_code == 401
    assert not find_push(server_runtime, token).expired

    # B's browser session: A's pushes are not on B's dashboard; guessed manage links find nothing.
    b_page = new_page()
    log_in(b_page, live_server.url, "idor-b@example.com")
    b_page.wait_for_selector("#dash-empty")
    assert "A's push" not in b_page.inner_text("main")
    for guess in ("AAAAAAAAAAAAAAAAAAAAAA", a_push.url_token, "../dashboard"):
        b_page.goto(f"{live_server.url}/manage/{guess}")
        b_page.wait_for_selector("#push-unavailable, #unavailable, h1", state="attached")
        assert "A's push" not in b_page.inner_text("body")
    # A's session cookie is the only thing that shows A's dashboard; B's cookie on A's API token mismatch fails.
    assert httpx.get(f"{live_server.url}/api/v2/pushes/active",
                     headers={"Authorization": f"Bearer {a_token}", "X-User-Email": "idor-b@example.com"}).status_code == 401
    assert not find_push(server_runtime, token).expired


def test_the_password_and_session_token_are_never_stored_or_logged(live_server, new_page):
    page = new_page()
    sign_up(page, live_server.url, "canary@example.com")
    page.click("#log-out")
    page.wait_for_url("**/login**")
    log_in(page, live_server.url, "canary@example.com")
    cookie_name = load_settings(live_server.env).session_cookie  # the server's own rule (plain http here)
    session_token = next(c["value"] for c in page.context.cookies() if c["name"] == cookie_name)
    cookie = next(c for c in page.context.cookies() if c["name"] == cookie_name)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert session_token not in page.evaluate("() => document.cookie")  # invisible to scripts
    found = []
    for path in live_server.data_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for needle in (PASSWORD, session_token):
                if needle.encode() in data or needle.encode("utf-16-le") in data:
                    found.append((path.name, needle[:6]))
    assert found == []
    assert PASSWORD not in live_server.log_text() and session_token not in live_server.log_text()


def test_screenshots_of_the_account_pages(live_server, new_page):
    page = new_page()
    page.goto(live_server.url + "/login")
    wait_until_ready(page)
    screenshot(page, "login")
    page.fill("#email", "nobody@example.com")
    page.fill("#password", "wrong password")
    page.click("#log-in")
    page.wait_for_selector("#form-error")
    assert page.inner_text("#form-error") == "Wrong email or password."
    screenshot(page, "login-refused")
    page.goto(live_server.url + "/signup")
    wait_until_ready(page)
    screenshot(page, "signup")
    sign_up(page, live_server.url, "pictures@example.com")
    page.goto(live_server.url + "/account")
    wait_until_ready(page)
    page.wait_for_selector("#change-password")
    screenshot(page, "account")


def test_account_pages_pass_axe(live_server, new_page):
    pytest.importorskip("axe_playwright_python")
    from test_accessibility import _serious_problems

    page = new_page()
    problems = {}
    for route in ("/login", "/signup"):
        page.goto(live_server.url + route)
        wait_until_ready(page)
        page.wait_for_selector("#email")
        problems[route] = _serious_problems(page)
    sign_up(page, live_server.url, "axe@example.com")
    create_through_form(page, live_server.url, "axe-secret", name="axe push")
    for route, selector in (("/dashboard", ".dash-push"), ("/account", "#change-password"), ("/api-token", "#regenerate-token")):
        page.goto(live_server.url + route)
        wait_until_ready(page)
        page.wait_for_selector(selector)
        problems[route] = _serious_problems(page)
    assert {route: found for route, found in problems.items() if found} == {}
