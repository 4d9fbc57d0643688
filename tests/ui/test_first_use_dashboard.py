"""The dashboard as a first-time user meets it (issue 24, items 1, 2 and 8): Copy link copies
on the first click, Expire now asks first, the offer to move this browser's pushes appears
only for pushes not in the account yet, and the header fits on one line at 1280 px."""

from __future__ import annotations

import pytest
from ui_helpers import LAPTOP, PHONE_390, create_through_form, screenshots, sign_up, wait_until_ready

from pwpush_app.core import accounts
from pwpush_app.core.audit import Client
from pwpush_app.core.create import NewPush, create_push
from pwpush_app.core.records import find_push

pytestmark = pytest.mark.browser


def _owner(server_runtime, page) -> Client:
    user = accounts.user_for_session(server_runtime, page.context.cookies()[0]["value"])
    return Client(ip="127.0.0.1", user_id=user.id)


def _row(page, name: str):
    return page.locator(".dash-push", has_text=name)


def _clipboard(page) -> str:
    return page.evaluate("() => navigator.clipboard.readText()")


def test_copy_link_copies_on_the_first_click_with_a_toast(live_server, server_runtime, new_page):
    page = new_page()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_up(page, live_server.url, "copy-first@example.com")
    owner = _owner(server_runtime, page)
    older = create_push(server_runtime, NewPush(payload="older secret", name="Older push"), owner)
    newer = create_push(server_runtime, NewPush(payload="newer secret", name="Newer push"), owner)
    page.reload()
    wait_until_ready(page)
    _row(page, "Older push").wait_for()
    # Something else is on the clipboard, as it would be: the older push's link.
    page.evaluate("text => navigator.clipboard.writeText(text)", f"{live_server.url}/p/{older.url_token}")

    _row(page, "Newer push").locator(".dash-copy").click()
    page.get_by_text("Copied to the clipboard").wait_for()
    assert _clipboard(page) == f"{live_server.url}/p/{newer.url_token}"
    # One click: no second panel, no second Copy button, no link on the page.
    assert page.locator(".dash-copy-fallback").count() == 0
    assert newer.url_token not in page.content()

    # On a phone, the same single click.
    page.set_viewport_size(PHONE_390)
    _row(page, "Older push").locator(".dash-copy").click()
    page.wait_for_function("want => navigator.clipboard.readText().then(text => text === want)",
                           arg=f"{live_server.url}/p/{older.url_token}")


def test_copy_link_shows_the_link_to_copy_by_hand_when_the_browser_refuses(live_server, server_runtime, new_page):
    page = new_page()
    # No clipboard permission, and a clipboard that refuses as Safari's does outside a click.
    page.add_init_script("Object.defineProperty(navigator, 'clipboard', {value: {writeText: () => Promise.reject(new Error('no'))}})")
    sign_up(page, live_server.url, "copy-refused@example.com")
    pushed = create_push(server_runtime, NewPush(payload="s", name="Refused copy"), _owner(server_runtime, page))
    page.reload()
    wait_until_ready(page)
    _row(page, "Refused copy").locator(".dash-copy").click()
    fallback = _row(page, "Refused copy").locator(".dash-copy-fallback input")
    fallback.wait_for()
    assert fallback.input_value() == f"{live_server.url}/p/{pushed.url_token}"
    assert page.evaluate("() => document.activeElement.value") == fallback.input_value()  # focused and selected
    assert "copy the link here" in _row(page, "Refused copy").inner_text()


def test_expire_now_asks_first(live_server, server_runtime, new_page):
    page = new_page(PHONE_390)
    sign_up(page, live_server.url, "expire-asks@example.com")
    pushed = create_push(server_runtime, NewPush(payload="keep me", name="Door code"), _owner(server_runtime, page))
    page.reload()
    wait_until_ready(page)
    row = _row(page, "Door code")
    row.wait_for()
    row.locator(".dash-expire").click()
    dialog = page.get_by_role("alertdialog")
    dialog.wait_for()
    assert "Expire this push now?" in dialog.inner_text() and "Door code" in dialog.inner_text()
    screenshots(page, "first-use-dashboard-expire-confirm")
    dialog.get_by_role("button", name="Keep it").click()
    dialog.wait_for(state="detached")
    assert not find_push(server_runtime, pushed.url_token).expired

    row.locator(".dash-expire").click()
    page.click("#confirm-expire")
    page.wait_for_selector("#dash-empty")
    assert find_push(server_runtime, pushed.url_token).expired
    assert "Expired “Door code”" in page.inner_text("#dash-notice")


def test_the_move_offer_only_for_pushes_not_in_the_account(live_server, server_runtime, new_page):
    page = new_page()
    sign_up(page, live_server.url, "offer@example.com")
    create_through_form(page, live_server.url, "made while logged in", name="Mine already")
    page.goto(live_server.url + "/dashboard")
    wait_until_ready(page)
    _row(page, "Mine already").wait_for()
    page.wait_for_timeout(1000)  # the check runs once the page is on screen
    assert page.locator("#dash-claim").count() == 0

    # The same browser, logged out, makes one more: now there is one to move.
    page.click("#log-out")
    page.wait_for_url("**/login**")
    create_through_form(page, live_server.url, "made anonymously", name="From before")
    page.goto(live_server.url + "/login")
    wait_until_ready(page)
    page.fill("#email", "offer@example.com")
    page.fill("#password", "Canary-Pa55word-7f3e9b")
    page.click("#log-in")
    page.wait_for_url("**/dashboard**")
    page.wait_for_selector("#dash-claim")
    assert "A push made in this browser without logging in is not in your account yet." in page.inner_text("#dash-claim-text")
    page.click("#dash-claim")
    _row(page, "From before").wait_for()
    assert "1 push from this browser moved into your account." in page.inner_text("#dash-notice")
    page.reload()
    wait_until_ready(page)
    _row(page, "From before").wait_for()
    page.wait_for_timeout(1000)
    assert page.locator("#dash-claim").count() == 0


def test_the_logged_in_header_fits_one_line_at_1280(live_server, new_page):
    page = new_page(LAPTOP)
    sign_up(page, live_server.url, "a-rather-long-address.for-the-header@example.com")
    page.wait_for_selector("#nav-account")
    nav = page.locator("header nav")
    links = nav.locator("a, button")
    tops = {round(box["y"]) for box in (links.nth(i).bounding_box() for i in range(links.count())) if box}
    assert max(tops) - min(tops) < 12, tops  # one line
    assert nav.get_by_text("My pushes").count() == 0  # the dashboard is the account's list
    assert nav.get_by_text("Dashboard").count() == 1
    screenshots(page, "first-use-dashboard")
