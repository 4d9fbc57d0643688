"""Password Pusher's extras in a real browser: the reveal page's blur, editing a live push
(manage page and dashboard), and the print page for handing a link over on paper."""

from __future__ import annotations

import json
import re

import pytest
from ui_helpers import (
    EventChannel,
    create_through_form,
    push_directly,
    reveal_in,
    sign_up,
    wait_for_secret,
    wait_until_ready,
)

from pwpush_app.core.records import find_push, open_note
from pwpush_app.core.reveal import reveal_push

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


def test_edit_from_the_manage_page_changes_the_push_behind_the_same_link(live_server, server_runtime, new_page):
    sender = new_page()
    links = create_through_form(sender, live_server.url, "old-secret-canary", views=3, passphrase="old-pass-canary",
                                name="Router", note="ticket 42")
    assert reveal_in(new_page(), links.secret, "old-pass-canary") == "old-secret-canary"
    channel = EventChannel(sender)
    sender.goto(links.manage)
    sender.wait_for_selector("#edit-push")
    sender.wait_for_function("() => document.getElementById('manage-link').value.length > 0")
    assert sender.input_value("#manage-link") == links.secret
    sender.click("#edit-push")
    sender.wait_for_url(f"**/manage/{links.manage_token}/edit")
    sender.wait_for_selector("#edit-form")
    sender.wait_for_function("() => document.getElementById('edit-note').value === 'ticket 42'")
    assert sender.input_value("#edit-name") == "Router"
    assert sender.input_value("#edit-views") == "3"
    assert sender.input_value("#edit-payload") == "" and sender.input_value("#edit-passphrase") == ""
    assert "1 view used, 2 left. From 2 to 100 in all." in sender.inner_text("#edit-views-help")
    html = sender.content()
    assert "old-secret-canary" not in html and "old-pass-canary" not in html

    sender.fill("#edit-payload", "new-secret-canary")
    sender.fill("#edit-passphrase", "new-pass-canary")
    sender.fill("#edit-views", "6")
    sender.fill("#edit-name", "Router (new)")
    sender.fill("#edit-note", "ticket 43")
    sender.click("#edit-save")
    sender.wait_for_selector("#edit-notice")
    # The fields are emptied by events that follow the notice's update, a moment later.
    sender.wait_for_function("() => ['edit-payload', 'edit-passphrase'].every(id => document.getElementById(id).value === '')")
    assert "1 view used, 5 left" in sender.inner_text("#edit-views-help")

    push = find_push(server_runtime, links.token)
    assert (push.name, push.expire_after_views, push.views_remaining) == ("Router (new)", 6, 5)
    assert open_note(server_runtime, push) == "ticket 43"
    recipient = new_page()
    recipient.goto(links.secret)
    recipient.fill("#passphrase", "old-pass-canary")
    recipient.click("#reveal")
    recipient.wait_for_selector("text=That passphrase is not correct")
    assert reveal_in(recipient, links.secret, "new-pass-canary") == "new-secret-canary"
    # Nothing secret passed through the page's state.
    deltas = json.dumps([delta for frames in channel.frames for delta in channel.deltas(frames)])
    for secret in ("old-secret-canary", "new-secret-canary", "old-pass-canary", "new-pass-canary", links.token,
                   "ticket 42", "ticket 43"):
        assert secret not in deltas, secret

    sender.click("#edit-back")
    sender.wait_for_url(links.manage)
    sender.wait_for_function("() => [...document.querySelectorAll('.audit-row')].some(r => r.textContent.includes('Edited'))")


def test_edit_refusals_stand_beside_their_fields_and_change_nothing(live_server, server_runtime, new_page):
    links = push_directly(server_runtime, live_server.url, "refused-edit", expire_after_views=4, name="as is")
    from pwpush_app.core.audit import Client

    reveal_push(server_runtime, links.token, Client(ip="127.0.0.1"))
    reveal_push(server_runtime, links.token, Client(ip="127.0.0.1"))
    page = new_page()
    page.goto(links.manage + "/edit")
    page.wait_for_selector("#edit-form")
    page.fill("#edit-views", "2")
    page.fill("#edit-name", "changed?")
    page.click("#edit-save")
    page.wait_for_selector("#expire_after_views-error")
    assert page.inner_text("#expire_after_views-error") == "Views must be a whole number from 3 to 100: 2 already used."
    push = find_push(server_runtime, links.token)
    assert (push.name, push.expire_after_views, push.views_remaining) == ("as is", 4, 2)


def test_an_expired_push_offers_no_edit_and_no_print(live_server, server_runtime, new_page):
    links = push_directly(server_runtime, live_server.url, "short-lived", expire_after_views=1)
    page = new_page()
    assert reveal_in(page, links.secret) == "short-lived"
    page.goto(links.manage)
    page.wait_for_selector("#push-state")
    page.wait_for_function("() => document.getElementById('push-state').textContent === 'Expired'")
    assert page.locator("#edit-push").count() == 0 and page.locator("#print-push").count() == 0
    page.goto(links.manage + "/edit")
    page.wait_for_selector("#edit-expired")
    page.goto(links.manage + "/print")
    page.wait_for_selector("#print-unavailable")
    assert links.token not in page.content()


def test_the_dashboard_edits_its_own_pushes_only(live_server, server_runtime, new_page):
    from pwpush_app.ui.edit import EditState

    alice = new_page()
    sign_up(alice, live_server.url, "alice-edit@example.com")
    create_through_form(alice, live_server.url, "alice-secret", name="alice's")
    alice.goto(live_server.url + "/dashboard")
    alice.wait_for_selector(".dash-edit")
    alice.click(".dash-edit")
    alice.wait_for_url("**/dashboard/edit/**")
    push_id = alice.url.rstrip("/").rsplit("/", 1)[-1]
    alice.wait_for_selector("#edit-form")
    alice.fill("#edit-name", "alice's, renamed")
    alice.click("#edit-save")
    alice.wait_for_selector("#edit-notice")

    bob = new_page()
    sign_up(bob, live_server.url, "bob-edit@example.com")
    bob.goto(f"{live_server.url}/dashboard/edit/{push_id}")
    bob.wait_for_selector("#edit-unavailable")
    # A crafted save naming alice's push from bob's page of his own push changes nothing.
    create_through_form(bob, live_server.url, "bob-secret", name="bob's")
    channel = EventChannel(bob)  # before the page opens its websocket
    bob.goto(live_server.url + "/dashboard")
    bob.wait_for_selector(".dash-edit")
    bob.click(".dash-edit")
    bob.wait_for_selector("#edit-form")
    wait_until_ready(bob)
    channel.send_event(f"{EditState.get_full_name()}.save", {"form_data": {"name": "bob was here"}},
                       path=f"/dashboard/edit/{push_id}")
    bob.wait_for_selector("#edit-unavailable")
    from sqlmodel import select

    from pwpush_app.core.db import transaction
    from pwpush_app.core.models import Push

    with transaction(server_runtime.engine, write=False) as db:
        assert db.exec(select(Push.name).where(Push.id == push_id)).one() == "alice's, renamed"


def test_print_from_the_share_section_and_the_manage_page(live_server, server_runtime, new_page):
    sender = new_page()
    links = create_through_form(sender, live_server.url, "printed-secret-canary", views=2, passphrase="pp-canary")
    with sender.context.expect_page() as opened:
        sender.click("#share-print")
    sheet = opened.value
    sheet.wait_for_url(f"**/manage/{links.manage_token}/print")
    channel = EventChannel(sheet)
    sheet.reload()
    sheet.wait_for_selector(".print-sheet")
    sheet.wait_for_function("() => document.getElementById('print-link').textContent.length > 0")
    assert sheet.inner_text("#print-link") == links.secret
    assert sheet.get_attribute("#print-qr", "src").startswith("data:image/svg+xml;base64,")
    assert "until" in sheet.inner_text("#print-limits") and "2 more times" in sheet.inner_text("#print-limits")
    assert "You also need a passphrase" in sheet.inner_text("#print-passphrase")
    html = sheet.content()
    assert "printed-secret-canary" not in html and "pp-canary" not in html
    deltas = json.dumps([delta for frames in channel.frames for delta in channel.deltas(frames)])
    # The secret link never passes through state (the manage token is the page's own address,
    # which Reflex keeps as the route's argument on every /manage/... page).
    assert links.token not in deltas
    # On paper: the sheet alone, black on white, even in dark mode.
    sheet.emulate_media(media="print", color_scheme="dark")
    assert not sheet.locator("header").is_visible() and not sheet.locator("#print-now").is_visible()
    assert sheet.evaluate("() => getComputedStyle(document.querySelector('.print-sheet')).backgroundColor") == "rgb(255, 255, 255)"
    assert sheet.evaluate("() => getComputedStyle(document.getElementById('print-link')).color") == "rgb(0, 0, 0)"
    # Printing takes no view and logs nothing.
    push = find_push(server_runtime, links.token)
    assert push.views_remaining == 2

    manager = new_page()
    manager.goto(links.manage)
    manager.wait_for_selector("#print-push")
    with manager.context.expect_page() as opened:
        manager.click("#print-push")
    again = opened.value
    again.wait_for_function("() => (document.getElementById('print-link')?.textContent || '').length > 0")
    assert again.inner_text("#print-link") == links.secret
    assert re.search(r"/manage/[A-Za-z0-9_-]+/print$", again.url)
