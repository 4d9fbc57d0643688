"""The sender's side: manage page, audit log, "expire now", my pushes, the password generator."""

from __future__ import annotations

import re

import pytest
from ui_helpers import create_through_form, reveal_in, wait_until_ready

from pwpush_app.core.records import find_push

pytestmark = pytest.mark.browser


def test_expire_from_the_manage_page_and_read_the_audit_log(live_server, server_runtime, new_page):
    sender = new_page()
    links = create_through_form(sender, live_server.url, "audited-secret", name="Wi-Fi for Sam")
    recipient = new_page()
    recipient.set_extra_http_headers({"User-Agent": "RecipientBrowser/1.0"})
    assert reveal_in(recipient, links.secret) == "audited-secret"

    sender.goto(links.manage)
    sender.wait_for_selector("#audit-log")
    sender.wait_for_selector(".audit-row >> nth=2")
    assert sender.inner_text("h1") == "Wi-Fi for Sam"
    assert sender.inner_text("#push-state") == "Active"
    assert sender.inner_text("#views-line") == "1 view used of 5, 4 left"
    rows = [row.inner_text() for row in sender.locator(".audit-row").all()]
    assert "Created" in rows[0]
    assert "Viewed" in rows[1] and "127.0.0.1" in rows[1] and "RecipientBrowser/1.0" in rows[1]
    assert "Manage page opened" in rows[2]
    assert "audited-secret" not in sender.inner_text("main")  # the owner sees events, not the secret

    sender.click("#expire-now")
    sender.click("#confirm-expire")
    sender.wait_for_function("() => document.getElementById('push-state').textContent === 'Expired'")
    assert "you expired it" in sender.inner_text("#status-line")
    assert sender.locator("#expire-now").count() == 0
    sender.wait_for_function("() => [...document.querySelectorAll('.audit-row')].some(r => r.textContent.includes('Deleted by the owner'))")
    push = find_push(server_runtime, links.token)
    assert push.expired and push.expired_reason == "owner" and push.payload_sealed is None

    late = new_page()
    late.goto(links.secret)
    late.wait_for_selector("#unavailable")


def test_unknown_manage_link(live_server, new_page):
    page = new_page()
    page.goto(live_server.url + "/manage/NoSuchManageToken1234")
    page.wait_for_selector("#manage-unavailable")


def test_my_pushes_lists_what_this_browser_created_without_secret_links(live_server, new_page):
    sender = new_page()
    first = create_through_form(sender, live_server.url, "s1", name="first one")
    sender.click("#create-another")
    sender.wait_for_selector("#payload")
    assert sender.input_value("#payload") == ""
    second = create_through_form(sender, live_server.url, "s2", name="second one")
    sender.goto(live_server.url + "/my-pushes")
    sender.wait_for_selector(".my-push >> nth=1")
    names = [item.inner_text().splitlines()[0] for item in sender.locator(".my-push").all()]
    assert names[:2] == ["second one", "first one"]
    stored = sender.evaluate("localStorage.getItem('pwpush.my_pushes')")
    assert first.manage_token in stored and second.manage_token in stored
    assert first.token not in stored and second.token not in stored and "/p/" not in stored  # no secret links
    sender.click("text=second one")
    sender.wait_for_url(re.compile(re.escape(second.manage)))
    sender.wait_for_selector("#audit-log")

    # Forgetting happens in the browser (the list is never in the server's state).
    sender.goto(live_server.url + "/my-pushes")
    sender.locator(".my-push", has_text="first one").get_by_label("Forget this push in this browser").click()
    sender.locator(".my-push", has_text="first one").wait_for(state="detached")
    stored = sender.evaluate("localStorage.getItem('pwpush.my_pushes')")
    assert first.manage_token not in stored and second.manage_token in stored
    sender.get_by_text("Forget all in this browser").click()
    sender.wait_for_selector("text=has not created any pushes")
    assert sender.evaluate("localStorage.getItem('pwpush.my_pushes')") == "[]"

    stranger = new_page()  # another browser knows nothing of them
    stranger.goto(live_server.url + "/my-pushes")
    stranger.wait_for_selector("text=has not created any pushes")


def test_generator_makes_passwords_of_the_chosen_shape_and_remembers_options(live_server, new_page):
    page = new_page()
    page.goto(live_server.url + "/")
    page.wait_for_selector("#generate")
    page.click("#generate")
    page.wait_for_function("() => document.getElementById('payload').value.length > 0")
    default = page.input_value("#payload")
    assert re.fullmatch(r"[A-Z][a-z]{1,2}\d(-[A-Z][a-z]{1,2}\d){2}", default), default
    page.click("#toggle-secret")  # hide it from onlookers: masked like a password field
    page.wait_for_function("() => getComputedStyle(document.getElementById('payload')).webkitTextSecurity === 'disc'")
    page.click("#toggle-secret")

    page.click("#generator-options")
    page.click("#gen-syllables")
    page.get_by_role("option", name="5", exact=True).click()
    page.click("#gen-separator")
    page.get_by_role("option", name="Underscore _").click()
    page.get_by_role("checkbox", name="Numbers").click()
    page.get_by_role("checkbox", name="Title case").click()
    page.keyboard.press("Escape")
    page.click("#generate")
    page.wait_for_function("() => document.getElementById('payload').value.includes('_')")
    shaped = page.input_value("#payload")
    assert re.fullmatch(r"[a-z]{2,3}(_[a-z]{2,3}){4}", shaped), shaped

    page.reload()  # the options live in this browser's local storage
    page.wait_for_selector("#generate")
    wait_until_ready(page)
    page.click("#generate")
    page.wait_for_function("() => document.getElementById('payload').value.length > 0")
    assert re.fullmatch(r"[a-z]{2,3}(_[a-z]{2,3}){4}", page.input_value("#payload"))
