"""The create form as a first-time user meets it (issue 24): secrets up to the 1 MiB limit
(item 4), refusals that don't outlive their cause (item 5), the message to paste says a
passphrase is needed (item 9), focus and Tab order (item 10)."""

from __future__ import annotations

import pytest
from ui_helpers import SCREENSHOTS, reveal_in, screenshots, wait_until_ready

pytestmark = pytest.mark.browser

MIB = 1024 * 1024


def _count_pushes(server_runtime) -> int:
    from sqlalchemy import text

    with server_runtime.engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM push")).scalar_one()


def _frames_sent(page) -> list[str]:
    """Every websocket frame the page sends from now on (Reflex's events)."""
    sent: list[str] = []
    page.on("websocket", lambda socket: socket.on("framesent", lambda frame: sent.append(str(frame))))
    return sent


def _fill_big(page, text: str) -> None:
    """Put a long text in the secret field as a paste would (one input event)."""
    page.eval_on_selector("#payload", "(el, text) => { el.focus(); }", text)
    page.evaluate("text => document.execCommand('insertText', false, text)", text)


@pytest.mark.parametrize("size", [1_000_000, MIB])
def test_secrets_up_to_the_limit_are_sent_and_revealed_whole(live_server, new_page, size):
    secret = ("0123456789abcdef" * (size // 16 + 1))[:size - 1] + "Z"
    page = new_page()
    sent = _frames_sent(page)
    page.goto(live_server.url + "/")
    wait_until_ready(page)
    _fill_big(page, secret)
    counter = page.locator("#payload-count")
    assert counter.get_attribute("data-over") == "no"
    assert "of 1 MiB" in counter.inner_text()
    page.click("#create")
    page.wait_for_function("() => document.getElementById('share-link').value.length > 0", timeout=60_000)
    link = page.input_value("#share-link")
    # The secret went up as an upload, not in a websocket frame (too big for one).
    assert sent and max(len(frame) for frame in sent) < 100_000
    recipient = new_page()
    assert reveal_in(recipient, link) == secret


def test_past_the_limit_a_clear_error_and_nothing_stored(live_server, server_runtime, new_page):
    page = new_page()
    page.goto(live_server.url + "/")
    wait_until_ready(page)
    before = _count_pushes(server_runtime)
    _fill_big(page, "x" * (MIB + 1))
    counter = page.locator("#payload-count")
    page.wait_for_function("() => document.getElementById('payload-count').dataset.over === 'yes'")
    assert "Too long: shorten it, or send it as a file." in counter.inner_text()
    page.click("#create")
    error = page.locator("#payload-error")
    error.wait_for(timeout=60_000)
    assert error.inner_text() == ("The secret is too long: at most 1 MiB (1,048,576 bytes of UTF-8). "
                                  "Shorten it, or send it as a file.")
    assert _count_pushes(server_runtime) == before
    page.screenshot(path=str(SCREENSHOTS / "first-use-create-too-long-1280-light.png"))  # the viewport: 1 MiB of text is slow to lay out whole
    # Typing makes the refusal stale: it goes.
    page.press("#payload", "Backspace")
    error.wait_for(state="detached")
    page.click("#create")
    page.wait_for_function("() => document.getElementById('share-link').value.length > 0", timeout=60_000)


def test_a_refusal_goes_when_the_field_changes_and_on_reload(live_server, new_page):
    page = new_page()
    sent = _frames_sent(page)
    page.goto(live_server.url + "/")
    wait_until_ready(page)
    page.click("#create")
    error = page.locator("#payload-error")
    error.wait_for()
    assert error.inner_text() == "Enter the secret to share."
    screenshots(page, "first-use-create-refused")
    page.reload()
    wait_until_ready(page)
    page.wait_for_timeout(500)
    assert error.count() == 0  # not carried over a reload
    page.click("#create")
    error.wait_for()
    page.type("#payload", "canary-typed-7d1e")
    error.wait_for(state="detached")
    # Typing told the server only which field changed, never what was typed.
    page.wait_for_timeout(300)
    assert sent and not any("canary-typed" in frame for frame in sent)


def test_chosen_files_show_their_size_and_can_be_removed(live_server, new_page):
    page = new_page()
    page.goto(live_server.url + "/")
    wait_until_ready(page)
    page.click("#kind-file")
    page.wait_for_selector("input[type=file]", state="attached")
    page.set_input_files("input[type=file]", files=[
        {"name": "a.txt", "mimeType": "text/plain", "buffer": b"a" * 2048},
        {"name": "b.bin", "mimeType": "application/octet-stream", "buffer": b"b" * 10},
    ])
    items = page.locator("#chosen-files li")
    items.nth(1).wait_for()
    assert "2 KiB" in items.nth(0).inner_text() and "10 bytes" in items.nth(1).inner_text()
    assert page.inner_text("#chosen-total") == "Total: 3 KiB"
    screenshots(page, "first-use-create-files")
    page.get_by_role("button", name="Remove a.txt").click()
    page.wait_for_function("() => document.querySelectorAll('#chosen-files li').length === 1")
    assert page.inner_text("#chosen-total") == "Total: 10 bytes"
    # What is listed is what is sent.
    page.click("#create")
    page.wait_for_function("() => document.getElementById('share-link').value.length > 0", timeout=60_000)
    recipient = new_page()
    recipient.goto(page.input_value("#share-link"))
    recipient.click("#reveal")
    recipient.wait_for_selector("#secret-files li")
    assert recipient.locator("#secret-files li").count() == 1
    assert "b.bin" in recipient.inner_text("#secret-files")
