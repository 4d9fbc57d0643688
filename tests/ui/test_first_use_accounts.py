"""Account forms as a first-time user meets them (issue 24, item 5): a locked login says so
and until when; a refused form keeps the email typed (never the password); the refusal
goes when typing again and is not brought back by a reload."""

from __future__ import annotations

import re

import pytest
from ui_helpers import PASSWORD, screenshots, sign_up, wait_until_ready

from pwpush_app.core import accounts

pytestmark = pytest.mark.browser


def _frames_sent(page) -> list[str]:
    sent: list[str] = []
    page.on("websocket", lambda socket: socket.on("framesent", lambda frame: sent.append(str(frame))))
    return sent


def test_a_locked_login_says_until_when_even_to_the_right_password(live_server, server_runtime, new_page):
    email = "locked-out@example.com"
    page = new_page()
    sign_up(page, live_server.url, email)
    page.click("#log-out")
    page.wait_for_url("**/login**")
    for _ in range(server_runtime.settings.login_max_failures):
        with pytest.raises(accounts.LoginFailed):
            accounts.log_in(server_runtime, email, "not the password", "127.0.0.1")
    page.goto(live_server.url + "/login")
    wait_until_ready(page)
    page.fill("#email", email)
    page.fill("#password", PASSWORD)  # the right one
    page.click("#log-in")
    error = page.locator("#form-error")
    error.wait_for()
    text = error.inner_text()
    assert "paused until" in text and "Wrong email or password" not in text
    # The end is written by the browser in the viewer's zone and format ("Dec 2, 2026, 02:33 AM UTC").
    assert re.search(r"until [A-Z][a-z]{2} \d{1,2}, \d{4}, \d{2}:\d{2} [AP]M UTC\. Try again then\.", text), text
    screenshots(page, "first-use-login-locked")


def test_a_refused_form_keeps_the_email_not_the_password_and_the_refusal_goes(live_server, new_page):
    page = new_page()
    sent = _frames_sent(page)
    page.goto(live_server.url + "/login")
    wait_until_ready(page)
    page.fill("#email", "typo@example.com")
    page.fill("#password", "canary-wrong-password-91")
    page.click("#log-in")
    error = page.locator("#form-error")
    error.wait_for()
    wait_until_ready(page)
    assert page.input_value("#email") == "typo@example.com"  # kept
    assert page.input_value("#password") == ""  # never kept
    assert "error=" not in page.url  # a reload won't bring the refusal back
    page.type("#password", "x")
    error.wait_for(state="hidden")
    page.reload()
    wait_until_ready(page)
    page.wait_for_timeout(500)
    assert page.locator("#form-error").count() == 0
    # The password typed never went over the page's websocket.
    assert not any("canary-wrong-password" in frame for frame in sent)

    # Sign-up too: a refused sign-up keeps the email.
    page.goto(live_server.url + "/signup")
    wait_until_ready(page)
    page.fill("#email", "new-person@example.com")
    page.fill("#password", "short")
    page.fill("#password_confirmation", "short")
    page.click("#sign-up")
    page.locator("#form-error").wait_for()
    assert page.input_value("#email") == "new-person@example.com"
    assert page.input_value("#password") == "" and page.input_value("#password_confirmation") == ""
    screenshots(page, "first-use-signup-refused")
