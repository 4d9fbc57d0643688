"""Requests in the browser (issue 20): a logged-in user asks for a secret on /requests, the
person asked answers on /ask/<token> in another browser, the requester sees the answer
arrive and opens it; crafted websocket events can neither answer twice nor touch another
account's request."""

from __future__ import annotations

import json
import os

import pytest
from sqlalchemy import text
from ui_helpers import ROOT, EventChannel, screenshots, sign_up, signed_up_on, wait_for_secret, wait_until_ready

from pwpush_app.core import accounts
from pwpush_app.core.requests import requests_of

pytestmark = pytest.mark.browser
LIVE_FILES_MAX_BYTES = 4 * 1024 * 1024  # the live server's limit (tests/conftest.py)


def _ask(page, message: str) -> str:
    """Fill and send the request form; the link it shows."""
    page.fill("#message", message)
    page.click("#ask")
    page.wait_for_function("() => document.getElementById('request-link')?.value.includes('/ask/')")
    return page.input_value("#request-link")


def _user_id(server_runtime, page) -> str:
    return accounts.user_for_session(server_runtime, page.context.cookies()[0]["value"]).id


def _answers_of(server_runtime, user_id: str) -> int:
    with server_runtime.engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM push WHERE owner_id = :u AND name = 'Answer to your request'"),
                                  {"u": user_id}).scalar_one()


def test_ask_answer_elsewhere_and_open_the_answer(live_server, server_runtime, new_page):
    requester = new_page()
    channel = EventChannel(requester)
    sign_up(requester, live_server.url, "asks-in-browser@example.com")
    requester.goto(live_server.url + "/requests")
    wait_until_ready(requester)
    requester.locator("#no-requests").wait_for()
    screenshots(requester, "requests-empty")
    link = _ask(requester, "Please send me the VPN password")
    assert link.startswith(live_server.url + "/ask/")
    row = requester.locator(".request-row").first
    row.locator(".request-state", has_text="Waiting for an answer").wait_for()
    screenshots(requester, "requests-link")

    answerer = new_page()
    answerer.goto(link)
    wait_until_ready(answerer)
    answerer.wait_for_function("() => document.getElementById('ask-message')?.value === 'Please send me the VPN password'")
    screenshots(answerer, "ask-answer")
    answerer.fill("#payload", "Vpn-Answer-canary-4411")
    answerer.click("#send-answer")
    answerer.locator("#answer-sent").wait_for()
    assert "Vpn-Answer-canary-4411" not in answerer.content()
    screenshots(answerer, "ask-sent")
    answerer.goto(link)  # used: it reads like an unknown link
    answerer.locator("#unavailable").wait_for()

    row.locator(".request-state", has_text="Answered").wait_for()  # the list polls: no reload needed
    screenshots(requester, "requests-answered")
    row.locator(".open-answer").click()
    requester.wait_for_url("**/p/**")
    requester.click("#reveal")
    assert wait_for_secret(requester) == "Vpn-Answer-canary-4411"
    # Neither the request link nor the answer ever sat in the page's state.
    deltas = json.dumps([delta for frames in channel.frames for delta in channel.deltas(frames)])
    assert link.rsplit("/", 1)[-1] not in deltas and "Vpn-Answer-canary-4411" not in deltas
    requester.goto(live_server.url + "/dashboard")
    requester.locator(".dash-push", has_text="Answer to your request").wait_for()
    requester.locator("#dash-requests", has_text="0 requests waiting for an answer, 1 answered.").wait_for()
    screenshots(requester, "dashboard-with-requests")
    # The name this app gave the answer reads in the requester's language.
    requester.goto(live_server.url + "/dashboard?locale=fr")
    requester.locator(".dash-push .dash-name", has_text="Réponse à votre demande").wait_for()


def test_crafted_events_answer_once_and_touch_only_ones_own_requests(live_server, server_runtime, new_page):
    from pwpush_app.ui.ask import AskState
    from pwpush_app.ui.requests import RequestsState

    requester = new_page()
    sign_up(requester, live_server.url, "asks-twice@example.com")
    requester.goto(live_server.url + "/requests")
    wait_until_ready(requester)
    link = _ask(requester, "Message-canary-crafted-5150")
    owner_id = _user_id(server_runtime, requester)
    [request] = requests_of(server_runtime, owner_id)

    # Two tabs hold the form; one sends, then the other (and a crafted repeat of the first).
    first, second = new_page(), new_page()
    first_channel = EventChannel(first)
    for page in (first, second):
        page.goto(link)
        wait_until_ready(page)
        page.locator("#payload").wait_for()
    first.fill("#payload", "first answer")
    first.click("#send-answer")
    first.locator("#answer-sent").wait_for()
    first_channel.send_event(f"{AskState.get_full_name()}.send", {"form_data": {"payload": "crafted again"}})
    second.fill("#payload", "second answer")
    second.click("#send-answer")
    second.locator("#unavailable").wait_for()
    first.wait_for_timeout(500)
    assert _answers_of(server_runtime, owner_id) == 1

    # Another account names this request in crafted events: nothing of it comes back.
    stranger = new_page()
    channel = signed_up_on(stranger, live_server.url, "not-the-asker@example.com", "/requests")
    for handler in ("copy_link", "show_message", "open_answer"):
        channel.send_event(f"{RequestsState.get_full_name()}.{handler}", {"request_id": request.id})
        stranger.get_by_text("That request is not one of yours.").wait_for()
    frames = json.dumps(channel.frames)
    assert "Message-canary-crafted-5150" not in frames and link.rsplit("/", 1)[-1] not in frames
    assert "/p/" not in stranger.url


def test_answer_with_files_and_the_requester_downloads_them(live_server, server_runtime, new_page, tmp_path):
    from pwpush_app.ui.ask import FILES_CHOSEN, AskState

    requester = new_page()
    sign_up(requester, live_server.url, "asks-for-files@example.com")
    requester.goto(live_server.url + "/requests")
    wait_until_ready(requester)
    requester.locator("#notify_by_email").click()  # no mail for this one
    assert requester.get_attribute("#notify_by_email", "data-state") == "unchecked"
    link = _ask(requester, "Please send me the deploy key")
    made_by = _user_id(server_runtime, requester)
    [made] = requests_of(server_runtime, made_by)
    assert made.notify_by_email is False
    requester.locator(".request-row", has_text="no mail").wait_for()

    canary = "File-answer-canary-" + os.urandom(8).hex()
    key = (canary + "\n").encode() + os.urandom(300 * 1024)
    notes = b"Rotate it after use.\n"
    answerer = new_page()
    channel = EventChannel(answerer)
    answerer.goto(link)
    wait_until_ready(answerer)
    answerer.wait_for_function("() => document.getElementById('ask-message')?.value === 'Please send me the deploy key'")
    file_input = answerer.locator("#answer-files input[type=file]")
    # Over the limit in total (the live server's 4 MiB): the page says so and won't send.
    half = LIVE_FILES_MAX_BYTES // 2 + 1
    file_input.set_input_files([{"name": f"{n}.bin", "mimeType": "application/octet-stream", "buffer": os.urandom(half)}
                                for n in ("one", "two")])
    answerer.locator("#files-too-big").wait_for()
    assert answerer.locator("#send-answer").is_disabled()
    for name in ("one.bin", "two.bin"):
        answerer.get_by_role("button", name=f"Remove {name}").click()
    answerer.locator("#chosen-files").wait_for(state="detached")
    file_input.set_input_files([{"name": "deploy_key", "mimeType": "application/octet-stream", "buffer": key},
                                {"name": "notes.txt", "mimeType": "text/plain", "buffer": notes}])
    answerer.wait_for_function("() => document.querySelectorAll('#chosen-files li').length === 2")
    answerer.fill("#payload", "The key and a note")
    screenshots(answerer, "ask-with-files")
    # The text path (Enter in a passphrase field submits the form) won't answer without the chosen files.
    channel.send_event(f"{AskState.get_full_name()}.send", {"form_data": {"payload": "text alone", FILES_CHOSEN: "2"}})
    answerer.locator("#files-error", has_text="Send it").wait_for()
    assert requests_of(server_runtime, made_by)[0].state == "open"
    answerer.click("#send-answer")
    answerer.locator("#answer-sent").wait_for()
    assert canary not in answerer.content()
    answerer.goto(link)  # one answer
    answerer.locator("#unavailable").wait_for()

    row = requester.locator(".request-row").first
    row.locator(".request-state", has_text="Answered").wait_for()
    row.get_by_text("with files").wait_for()
    screenshots(requester, "requests-answered-with-files")
    row.locator(".open-answer").click()
    requester.wait_for_url("**/p/**")
    requester.click("#reveal")
    requester.wait_for_function("() => document.querySelectorAll('#secret-files li').length === 2")
    assert requester.input_value("#secret-box") == "The key and a note"
    screenshots(requester, "request-file-answer")
    for name, data in (("deploy_key", key), ("notes.txt", notes)):
        with requester.expect_download() as info:
            requester.click(f"a[aria-label='Download {name}']")
        saved = tmp_path / name
        info.value.save_as(saved)
        assert info.value.suggested_filename == name and saved.read_bytes() == data

    # The plaintext is nowhere in the server's data folder (database, blobs, log) or Reflex's state.
    places = [live_server.data_dir, ROOT / ".states", ROOT / "uploaded_files"]
    for path in (p for place in places if place.exists() for p in place.rglob("*") if p.is_file()):
        assert canary.encode() not in path.read_bytes(), path


def test_where_every_secret_needs_a_passphrase_files_go_with_it_and_enter_never_drops_them(strict_site, new_page):
    """PWPUSH_REQUIRE_PASSPHRASE: the answer page asks for one, also with files; Enter in that
    (only) field would submit the form as text, so with files chosen the page refuses instead."""
    requester = new_page()
    sign_up(requester, strict_site.url, "strict-asker@example.com")
    requester.goto(strict_site.url + "/requests")
    wait_until_ready(requester)
    link = _ask(requester, "The signing key, please")

    answerer = new_page()
    answerer.goto(link)
    wait_until_ready(answerer)
    answerer.locator("#answer-files input[type=file]").set_input_files(
        [{"name": "signing.key", "mimeType": "application/octet-stream", "buffer": b"Strict-file-canary-77"}])
    answerer.wait_for_function("() => document.querySelectorAll('#chosen-files li').length === 1")
    answerer.fill("#passphrase", "open sesame")
    answerer.press("#passphrase", "Enter")
    answerer.locator("#files-error", has_text="Send it").wait_for()
    row = requester.locator(".request-row").first
    row.locator(".request-state", has_text="Waiting for an answer").wait_for()
    answerer.fill("#passphrase", "")
    answerer.click("#send-answer")
    answerer.locator("#passphrase-error", has_text="passphrase").wait_for()  # refused: nothing kept
    screenshots(answerer, "ask-files-passphrase-refused")
    answerer.fill("#passphrase", "open sesame")
    answerer.click("#send-answer")
    answerer.locator("#answer-sent").wait_for()

    row.locator(".request-state", has_text="Answered").wait_for()
    row.locator(".open-answer").click()
    requester.wait_for_url("**/p/**")
    requester.fill("#passphrase", "open sesame")
    requester.click("#reveal")
    requester.wait_for_function("() => document.querySelectorAll('#secret-files li').length === 1")
    assert "signing.key" in requester.inner_text("#secret-files")
