"""End-to-end pushes in the pages (issue 20), in Chromium against the production server.

- The create page's "Encrypt in my browser": the browser encrypts, the reference client
  decrypts what the server stored (browser -> Python); the reference client encrypts
  through the API, the reveal page decrypts (Python -> browser), with a passphrase asked
  for after the reveal and a wrong one refused in the browser.
- The key (the link's fragment), the passphrase and the text never leave the browsers:
  every websocket frame and request both pages send or receive, the server's log, its
  data folder and Reflex's state files are searched for them.
"""

from __future__ import annotations

import secrets

import httpx
import pytest
from ui_helpers import Wire, assert_nowhere, key_encodings, qr_texts, screenshots, sign_up, wait_until_ready

from pwpush_app import e2e_client
from pwpush_app.core.records import find_push

pytestmark = pytest.mark.browser


def _create_encrypted(page, base_url: str, secret: str, passphrase: str = "") -> str:
    page.goto(base_url + "/")
    wait_until_ready(page)
    page.fill("#payload", secret)
    page.click("#end_to_end")
    page.wait_for_function("() => document.getElementById('e2e-envelope')?.dataset.on === 'yes'")
    if passphrase:
        page.fill("#passphrase", passphrase)
    page.click("#create")
    page.wait_for_function("() => (document.getElementById('share-link')?.value || '').includes('#')")
    page.wait_for_function("() => (document.getElementById('share-qr')?.getAttribute('src') || '').startsWith('data:image/svg+xml')")
    return page.input_value("#share-link")


def test_browser_encrypts_python_decrypts_and_nothing_leaks(live_server, server_runtime, new_page):
    text = "canary-" + secrets.token_hex(12)
    passphrase = "pp-" + secrets.token_hex(6)
    sender = new_page()
    sender_wire = Wire(sender)
    link = _create_encrypted(sender, live_server.url, text, passphrase)
    token, key = link.split("/p/")[1].split("#")
    assert len(key) == 43
    # The QR code beside it is the whole link, key included: a phone that scans it can open the secret.
    assert qr_texts(sender.get_attribute("#share-qr", "src")) == [link]
    message = sender.input_value("#share-message")
    assert link in message
    assert sender.is_visible("#share-e2e") and not sender.is_visible("#share-print")
    push = find_push(server_runtime, token)
    assert push.end_to_end and push.views_remaining == 5

    # The reference client opens what the browser made (and takes a view, as any view).
    with httpx.Client(timeout=30) as http:
        assert e2e_client.get(http, link, passphrase) == text
    assert find_push(server_runtime, token).views_remaining == 4

    # The recipient's page: the key is read and taken out of the address bar before anything is sent.
    recipient = new_page()
    recipient_wire = Wire(recipient)
    recipient.goto(link)
    recipient.wait_for_selector("#reveal")
    assert "#" not in recipient.url
    assert recipient.is_visible("#e2e-note")
    recipient.click("#reveal")
    recipient.wait_for_selector("#e2e-passphrase")
    recipient.fill("#e2e-passphrase", "not it")
    recipient.click("#e2e-decrypt")
    recipient.wait_for_selector("text=Wrong passphrase")
    assert recipient.input_value("#secret-box") == ""
    recipient.fill("#e2e-passphrase", passphrase)
    recipient.click("#e2e-decrypt")
    recipient.wait_for_function("() => (document.getElementById('secret-box')?.value || '').length > 0")
    assert recipient.input_value("#secret-box") == text
    assert find_push(server_runtime, token).views_remaining == 3  # one view, however many tries

    assert_nowhere(live_server, [sender_wire, recipient_wire], [text, passphrase, *key_encodings(key)])


def test_python_encrypts_through_the_api_the_reveal_page_decrypts(live_server, server_runtime, new_page):
    text = "canary-" + secrets.token_hex(12) + "\nsecond line \N{SNOWMAN}"
    with httpx.Client(timeout=30) as http:
        link = e2e_client.push(http, live_server.url, text, expire_after_views=1, retrieval_step=False)
    key = link.split("#")[1]
    page = new_page()
    wire = Wire(page)
    page.goto(link)
    page.wait_for_function("() => (document.getElementById('secret-box')?.value || '').length > 0")
    assert page.input_value("#secret-box") == text
    assert "#" not in page.url
    assert find_push(server_runtime, link.split("/p/")[1].split("#")[0]).expired
    assert_nowhere(live_server, [wire], [text.split("\n")[0], *key_encodings(key)])


def test_a_link_without_its_key_says_so(live_server, server_runtime, new_page):
    with httpx.Client(timeout=30) as http:
        link = e2e_client.push(http, live_server.url, "canary-" + secrets.token_hex(8))
    page = new_page()
    page.goto(link.split("#")[0])
    # Said before the reveal, which is disabled: no view is spent (tests/ui/test_e2e_files_pages.py).
    page.wait_for_selector("text=missing its key")
    assert page.is_disabled("#reveal")
    assert find_push(server_runtime, link.split("/p/")[1].split("#")[0]).views_remaining == 5


def test_screenshots_of_the_switch_and_the_reveal(live_server, new_page):
    page = new_page()
    page.goto(live_server.url + "/")
    wait_until_ready(page)
    page.fill("#payload", "correct horse battery staple")
    page.click("#end_to_end")
    page.wait_for_function("() => document.getElementById('e2e-envelope')?.dataset.on === 'yes'")
    screenshots(page, "e2e-create-switch")
    page.emulate_media(color_scheme="light")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.fill("#passphrase", "a passphrase")
    page.click("#create")
    page.wait_for_function("() => (document.getElementById('share-qr')?.getAttribute('src') || '').startsWith('data:image/svg+xml')")
    screenshots(page, "e2e-share")
    link = page.input_value("#share-link")
    recipient = new_page()
    recipient.goto(link)
    recipient.wait_for_selector("#reveal")
    screenshots(recipient, "e2e-reveal-landing")
    recipient.click("#reveal")
    recipient.wait_for_selector("#e2e-passphrase")
    recipient.fill("#e2e-passphrase", "wrong")
    recipient.click("#e2e-decrypt")
    recipient.wait_for_selector("text=Wrong passphrase")
    screenshots(recipient, "e2e-reveal-passphrase")
    recipient.fill("#e2e-passphrase", "a passphrase")
    recipient.click("#e2e-decrypt")
    recipient.wait_for_function("() => (document.getElementById('secret-box')?.value || '').length > 0")
    screenshots(recipient, "e2e-reveal-open")


def test_the_dashboard_and_manage_page_say_they_cannot_give_its_link_again(live_server, server_runtime, new_page):
    page = new_page()
    sign_up(page, live_server.url, "e2e-owner@example.com")
    link = _create_encrypted(page, live_server.url, "canary-" + secrets.token_hex(8))
    manage = page.input_value("#share-manage")
    page.goto(live_server.url + "/dashboard")
    wait_until_ready(page)
    row = page.locator(".dash-push").first
    row.wait_for()
    row.locator(".dash-copy").click()
    page.locator("#dash-notice", has_text="end-to-end encrypted").wait_for()
    assert link.split("#")[1] not in page.content()
    page.goto(manage)
    page.locator("#manage-e2e").wait_for()
    page.locator("#audit-log").wait_for()
    assert page.input_value("#manage-link") == ""


def test_the_reference_clients_command_line(live_server, monkeypatch, capsys):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("from the command line"))
    assert e2e_client.main(["push", live_server.url, "--passphrase", "by phone", "--views", "3"]) == 0
    link = capsys.readouterr().out.strip()
    assert "#" in link
    assert e2e_client.main(["get", link, "--passphrase", "not it"]) == 1
    assert "Could not decrypt" in capsys.readouterr().err
    assert e2e_client.main(["get", link, "--passphrase", "by phone"]) == 0
    assert capsys.readouterr().out == "from the command line"
