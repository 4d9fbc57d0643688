"""Password Pusher's extras in a real browser: the reveal page's blur."""

from __future__ import annotations

import pytest
from ui_helpers import push_directly, reveal_in, wait_for_secret

pytestmark = pytest.mark.browser


def _filter(page, selector: str = "#secret-box") -> str:
    return page.evaluate(f"() => getComputedStyle(document.querySelector('{selector}')).filter")


def _clear(page) -> bool:
    """The secret is shown unblurred (waiting out the short fade)."""
    page.wait_for_function("() => getComputedStyle(document.getElementById('secret-box')).filter === 'none'",
                           timeout=2000)
    return True


def _blurred(page) -> bool:
    page.wait_for_function("() => getComputedStyle(document.getElementById('secret-box')).filter.startsWith('blur(')",
                           timeout=2000)
    page.wait_for_timeout(300)  # the fade's end: still blurred, not on its way out
    return _filter(page).startswith("blur(")


def test_the_revealed_text_is_blurred_until_hovered_focused_or_clicked(live_server, server_runtime, new_page, chromium):
    links = push_directly(server_runtime, live_server.url, "blurred-canary-secret")
    page = new_page()
    assert reveal_in(page, links.secret) == "blurred-canary-secret"
    page.mouse.move(1, 1)
    assert _blurred(page)
    assert page.locator("#blur-hint").is_visible()
    assert page.get_attribute("#secret-box", "aria-describedby") == "blur-hint"
    # Hovering shows it; moving away blurs it again.
    page.hover("#secret-box")
    assert _clear(page)
    page.mouse.move(1, 1)
    assert _blurred(page)
    # Keyboard users: Tab reaches it and shows it.
    page.locator("body").focus()
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement?.id") == "secret-box":
            break
    else:
        raise AssertionError("Tab never reached the secret")
    assert _clear(page)
    page.keyboard.press("Tab")
    assert _blurred(page)
    # A click shows it for good.
    page.click("#secret-box")
    page.wait_for_selector("#blur-hint", state="detached")
    page.mouse.move(1, 1)
    page.evaluate("() => document.activeElement.blur()")
    page.wait_for_timeout(300)
    assert _clear(page)
    # Less motion asked for: no fading; and the copy button copies the real text regardless.
    calm = chromium.new_context(reduced_motion="reduce")
    try:
        quiet = calm.new_page()
        links = push_directly(server_runtime, live_server.url, "quiet-secret")
        assert reveal_in(quiet, links.secret) == "quiet-secret"
        assert quiet.evaluate("() => getComputedStyle(document.getElementById('secret-box')).transitionDuration") == "0s"
        quiet.mouse.move(1, 1)
        assert _filter(quiet).startswith("blur(")
        quiet.hover("#secret-box")
        assert _filter(quiet) == "none"  # at once: no fade
    finally:
        calm.close()


def test_a_qr_codes_text_is_not_blurred(live_server, server_runtime, new_page):
    # Password Pusher blurs text and file pushes (PWP__PW__ / PWP__FILES__ENABLE_BLUR), not QR codes.
    links = push_directly(server_runtime, live_server.url, "WIFI:S:office;P:hunter2;;", kind="qr")
    page = new_page()
    page.goto(links.secret)
    page.click("#reveal")
    page.click("#show-qr-text")
    wait_for_secret(page)
    assert _filter(page) == "none" and page.locator("#blur-hint").count() == 0
