"""The login cookie on the https site that deploy/nginx.conf serves, in a real browser: it is
`__Host-pwpush_session` (Secure, Path=/, host-only), and a plain-named `pwpush_session`
cookie planted for the site (what a sibling subdomain can do) logs nobody in."""

from __future__ import annotations

import os

import pytest

pytestmark = pytest.mark.browser

PASSWORD = "Cookie-Pa55word-31c9"


def browser(chromium):
    context = chromium.new_context(ignore_https_errors=True)  # nginx's test certificate is self-signed
    context.set_default_timeout(30_000)
    return context, context.new_page()


def test_the_https_login_cookie_is_host_prefixed_and_a_planted_plain_one_is_ignored(scaled, chromium):
    site = scaled.nginx.url
    email = f"cookie-{os.urandom(4).hex()}@example.com"
    contexts = []
    try:
        context, page = browser(chromium)
        contexts.append(context)
        page.goto(site + "/signup")
        page.wait_for_selector("#app-ready", state="attached")
        page.fill("#email", email)
        page.fill("#password", PASSWORD)
        page.fill("#password_confirmation", PASSWORD)
        page.click("#sign-up")
        page.wait_for_url("**/dashboard**")

        cookies = {c["name"]: c for c in context.cookies()}
        assert "pwpush_session" not in cookies
        session = cookies["__Host-pwpush_session"]
        assert session["secure"] and session["httpOnly"] and session["path"] == "/"
        assert session["domain"] == "127.0.0.1"  # host-only: no Domain attribute was sent

        def dashboard_with(name: str):
            other, other_page = browser(chromium)
            contexts.append(other)
            other.add_cookies([{"name": name, "value": session["value"], "url": site + "/",
                                "secure": True, "httpOnly": True, "sameSite": "Strict"}])
            other_page.goto(site + "/dashboard")
            other_page.wait_for_selector("#app-ready", state="attached")
            return other_page

        # The same valid session under the plain name (planted): no login, the dashboard sends
        # the visitor to the login page.
        planted = dashboard_with("pwpush_session")
        planted.wait_for_url("**/login**")
        # Control: under the right name, that token is a login.
        genuine = dashboard_with("__Host-pwpush_session")
        genuine.wait_for_selector("#nav-account")
        assert email in genuine.inner_text("#nav-account")
        assert "/dashboard" in genuine.url
    finally:
        for context in contexts:
            context.close()
