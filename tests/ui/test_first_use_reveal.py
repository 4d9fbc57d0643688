"""The recipient's and the owner's pages as a first-time user meets them (issue 24): the
passphrase (item 9), focus, the revealed secret's look, the audit log's browsers, owner
views, files' states and "download all" (items 6 and 10)."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from ui_helpers import create_through_form, push_directly, screenshots, wait_for_secret, wait_until_ready

from pwpush_app.core.audit import Client
from pwpush_app.core.create import NewPush
from pwpush_app.core.file_uploads import IncomingFile, create_file_push
from pwpush_app.core.records import find_managed

pytestmark = pytest.mark.browser

PASSPHRASE = "blue heron 42"
# What the page says after each wrong passphrase (5 per client by default).
EXPECTED = ["4 attempts left", "3 attempts left", "2 attempts left", "One attempt left: if the next one is wrong too",
            "That was the last attempt for now"]


def test_a_passphrase_is_announced_and_a_pasted_newline_does_not_count(live_server, new_page):
    sender = new_page()
    links = create_through_form(sender, live_server.url, "behind a passphrase", passphrase=PASSPHRASE + " ")
    assert "protected by a passphrase, which I'll send you separately" in sender.input_value("#share-message")
    # After Create, the focus is on the link: what comes next.
    assert sender.evaluate("() => document.activeElement.id") == "share-link"

    recipient = new_page()
    recipient.goto(links.secret)
    recipient.wait_for_selector("#passphrase")
    assert "ask the sender for it" in recipient.inner_text("#passphrase-help")
    for attempt, said in enumerate(EXPECTED[:4]):
        recipient.fill("#passphrase", f"wrong {attempt}")
        recipient.click("#reveal")
        recipient.locator("#reveal-message", has_text=said).wait_for()
    screenshots(recipient, "first-use-reveal-one-attempt-left")
    # Pasted from a chat, with a line break: still right.
    recipient.fill("#passphrase", "  " + PASSPHRASE + "\n")
    recipient.click("#reveal")
    assert wait_for_secret(recipient) == "behind a passphrase"
    # The focus went to the secret itself, not to the page's body (a screen reader reads it
    # next), which stays blurred (PWP__PW__ENABLE_BLUR, on by default) until the reader moves
    # the focus away and back, hovers or clicks.
    recipient.wait_for_function("() => document.activeElement && document.activeElement.id === 'secret-box'")
    recipient.mouse.move(1, 1)
    recipient.wait_for_function("() => getComputedStyle(document.getElementById('secret-box')).filter.startsWith('blur(')")
    recipient.keyboard.press("Shift+Tab")
    recipient.keyboard.press("Tab")
    assert recipient.evaluate("() => document.activeElement.id") == "secret-box"
    recipient.wait_for_function("() => getComputedStyle(document.getElementById('secret-box')).filter === 'none'")
    # It reads as text, not as a disabled field.
    color = recipient.evaluate("() => getComputedStyle(document.getElementById('secret-box')).color")
    body = recipient.evaluate("() => getComputedStyle(document.querySelector('h1')).color")
    assert color == body, (color, body)
    screenshots(recipient, "first-use-reveal-secret")


def test_the_owner_sees_a_locked_out_recipient_browsers_and_one_look_per_visit(live_server, server_runtime, new_page):
    links = push_directly(server_runtime, live_server.url, "guarded", passphrase=PASSPHRASE)
    recipient = new_page()
    recipient.goto(links.secret)
    recipient.wait_for_selector("#passphrase")
    for attempt, said in enumerate(EXPECTED):
        recipient.fill("#passphrase", f"guess {attempt}")
        recipient.click("#reveal")
        recipient.locator("#reveal-message", has_text=said).wait_for()
    owner = new_page()
    owner.goto(links.manage)
    lockout = owner.locator(".manage-lockout")
    lockout.wait_for()
    assert "typed 5 wrong passphrases" in lockout.inner_text() and "paused until" in lockout.inner_text()
    # The audit log names the browser; the raw user agent is a click away.
    owner.wait_for_selector("#audit-log .audit-row")
    cell = owner.locator("#audit-log .user-agent").last
    assert re.search(r"Chrome \d+ on Linux$", cell.locator("summary").inner_text()), cell.inner_text()
    assert not owner.locator("#audit-log .raw-user-agent").last.is_visible()
    cell.locator("summary").click()
    assert "Mozilla/5.0" in owner.locator("#audit-log .raw-user-agent").last.inner_text()
    screenshots(owner, "first-use-manage-lockout")
    # Reloads are the same look: one owner view, not one per reload.
    for _ in range(3):
        owner.reload()
        owner.wait_for_selector("#audit-log .audit-row")
    from tests.core.common import audit_kinds

    assert audit_kinds(server_runtime, find_managed(server_runtime, links.manage_token).id).count("owner_view") == 1


def _file_push(server_runtime, files, views: int) -> str:
    created = create_file_push(
        server_runtime, NewPush(kind="file", expire_after_views=views),
        [IncomingFile(name=name, content_type="application/octet-stream", chunks=[data]) for name, data in files],
        Client(ip="127.0.0.1", user_agent="tests"))
    return f"{created.url_token}"


def test_last_view_files_show_their_state_the_server_s_message_and_download_all(live_server, server_runtime, new_page):
    files = [("plan.pdf", b"%PDF plan " * 1000), ("keys.txt", b"keys\n")]
    token = _file_push(server_runtime, files, views=1)
    page = new_page()
    page.goto(f"{live_server.url}/p/{token}")
    page.click("#reveal")
    page.wait_for_selector("#secret-files li")
    rows = page.locator("#secret-files li")
    assert "9.8 KiB" in rows.nth(0).inner_text()  # each file's size
    with page.expect_download() as first:
        rows.nth(0).locator(".file-links-download").click()
    assert first.value.suggested_filename == "plan.pdf"
    rows.nth(0).get_by_text("Download started").wait_for()
    assert rows.nth(0).locator(".file-links-download").inner_text() == "Download again"
    first.value.path()  # let the download finish: it was the one download
    page.wait_for_timeout(500)
    rows.nth(0).locator(".file-links-download").click()
    rows.nth(0).get_by_text("This file was already downloaded").wait_for()  # the server's own words
    # Download all: the zip holds what is left.
    with page.expect_download() as zipped:
        page.get_by_text("Download all (zip)").click()
    with zipfile.ZipFile(io.BytesIO(open(zipped.value.path(), "rb").read())) as archive:
        assert {i.filename: archive.read(i) for i in archive.infolist()} == {"keys.txt": b"keys\n"}
    screenshots(page, "first-use-reveal-files")


def test_unknown_addresses_get_a_page_with_a_way_home(live_server, new_page):
    page = new_page()
    page.goto(live_server.url + "/no/such/page")
    page.wait_for_selector("#not-found")
    assert "Page not found" in page.inner_text("h1")
    screenshots(page, "first-use-not-found")
    page.click("#not-found-home")
    page.wait_for_selector("#payload")


def test_the_keyboard_reaches_the_secret_first_and_can_skip_the_header(live_server, new_page):
    page = new_page()
    page.goto(live_server.url + "/")
    wait_until_ready(page)
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'payload'")
    # Elsewhere, the first Tab stop skips the header.
    page.goto(live_server.url + "/my-pushes")
    wait_until_ready(page)
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Skip to the content"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
