"""File, URL and QR pushes through the pages, in a real browser against the production server.

The session's server runs with PWP__FILES__REQUIRE_LOGIN=false (as an admin may set it)
and a 4 MiB limit, so going over it is quick. The default (files need a login) is checked
without a server in test_page_logic.py.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text as sql
from ui_helpers import LAPTOP, ROOT, screenshot, wait_until_ready

pytestmark = pytest.mark.browser

LIMIT = 4 * 1024 * 1024


@pytest.fixture
def kinds_server(live_server):
    """The session's server: it runs with files allowed without login and a 4 MiB limit
    (tests/conftest.py); a second server would rebuild the page bundle under it."""
    assert live_server.env["PWPUSH_FILES_MAX_BYTES"] == str(LIMIT)
    return live_server


@pytest.fixture
def kinds_runtime(server_runtime):
    return server_runtime


def open_create(page, base_url: str, kind: str) -> None:
    page.goto(base_url + "/")
    wait_until_ready(page)
    page.click(f"#kind-{kind}")
    page.wait_for_function(f"() => document.querySelector('#kind-{kind}').getAttribute('aria-checked') === 'true'")


def create_and_get_link(page) -> str:
    page.click("#create")
    page.wait_for_function("() => document.getElementById('share-link') && document.getElementById('share-link').value.length > 0")
    return page.input_value("#share-link")


def press_reveal(page, link: str) -> None:
    page.goto(link)
    page.wait_for_selector("#reveal")
    page.click("#reveal")


# --- URL -------------------------------------------------------------------------------------


def test_url_push_redirects_after_the_reveal_only(kinds_server, new_page):
    # Another spelling of the same loopback server: a real navigation, not an in-app route.
    target = kinds_server.url.replace("localhost", "127.0.0.1") + "/robots.txt?from=" + secrets.token_hex(6)
    page = new_page()
    open_create(page, kinds_server.url, "url")
    assert page.locator("button.deletable_by_viewer").count() == 0, "URL pushes offer no deletion by the viewer"
    page.fill("#payload", target)
    page.fill("#expire_after_views", "1")
    screenshot(page, "create-url")
    link = create_and_get_link(page)

    recipient = new_page()
    recipient.goto(link)
    recipient.wait_for_selector("#reveal")
    assert target not in recipient.content()
    assert target not in httpx.get(link).text
    screenshot(recipient, "reveal-url-landing")
    recipient.click("#reveal")
    recipient.wait_for_url(target, timeout=15_000)
    assert "Disallow: /" in recipient.content()

    again = new_page()
    again.goto(link)
    again.wait_for_selector("#unavailable")


def test_url_push_refuses_a_javascript_url(kinds_server, new_page):
    page = new_page()
    open_create(page, kinds_server.url, "url")
    page.fill("#payload", "javascript:alert(1)")
    page.click("#create")
    page.wait_for_selector("#payload-error")
    assert "http" in page.inner_text("#payload-error")
    assert page.locator("#share-link").is_hidden()


# --- QR --------------------------------------------------------------------------------------


def test_qr_push_shows_an_svg_code_and_the_text_on_request(kinds_server, new_page):
    secret = "WIFI:T:WPA;S:office;P:" + secrets.token_urlsafe(12) + ";;"
    page = new_page()
    open_create(page, kinds_server.url, "qr")
    page.fill("#payload", secret)
    page.wait_for_function(f"() => document.getElementById('qr-count').textContent === '{len(secret)}'")
    assert "1,024" in page.inner_text("#qr-help")
    screenshot(page, "create-qr")
    link = create_and_get_link(page)

    recipient = new_page()
    press_reveal(recipient, link)
    recipient.wait_for_function(
        "() => (document.getElementById('secret-qr').getAttribute('src') || '').startsWith('data:image/svg+xml;base64,')"
    )
    source = recipient.get_attribute("#secret-qr", "src")
    svg = base64.b64decode(source.split(",", 1)[1]).decode()
    assert svg.startswith("<svg") and "<path" in svg
    assert secret not in svg
    # The image is drawn, with a size, and the text stays hidden until asked for.
    assert recipient.evaluate("document.getElementById('secret-qr').naturalWidth") > 0
    assert recipient.locator("#secret-box").is_hidden()
    screenshot(recipient, "reveal-qr")
    recipient.click("#show-qr-text")
    recipient.wait_for_selector("#secret-box", state="visible")
    assert recipient.input_value("#secret-box") == secret
    screenshot(recipient, "reveal-qr-text")


def test_qr_push_over_the_limit_is_refused(kinds_server, kinds_runtime, new_page):
    page = new_page()
    open_create(page, kinds_server.url, "qr")
    # The field stops at the limit; a script that forces more in gets the core's message.
    page.fill("#payload", "q" * 1100)
    assert len(page.input_value("#payload")) == 1024
    page.wait_for_function("() => document.getElementById('qr-count').textContent === '1,024'")
    before = _push_count(kinds_runtime)
    page.evaluate(
        """() => { const el = document.getElementById('payload'); el.removeAttribute('maxlength');
        const set = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value').set;
        set.call(el, 'q'.repeat(1025)); el.dispatchEvent(new Event('input', {bubbles: true})); }"""
    )
    page.click("#create")
    page.wait_for_selector("#payload-error")
    assert "1,024" in page.inner_text("#payload-error")
    assert _push_count(kinds_runtime) == before


# --- files -----------------------------------------------------------------------------------


def _push_count(runtime) -> int:
    with runtime.engine.connect() as db:
        return db.execute(sql("select count(*) from push")).scalar_one()


def _blob_files(data_dir: Path) -> list[Path]:
    root = data_dir / "files"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _choose_files(page, files: list[tuple[str, bytes]]) -> None:
    page.set_input_files(
        "input[type=file]",
        files=[{"name": name, "mimeType": "application/octet-stream", "buffer": data} for name, data in files],
    )
    page.wait_for_function(f"() => document.querySelectorAll('#chosen-files li').length === {len(files)}")


def _watch_progress(page) -> None:
    """Remember whether the progress bar showed up (a fast loopback upload shows it briefly)."""
    page.evaluate(
        """() => { window.__progressSeen = false; window.__progressValues = [];
        new MutationObserver(() => {
          const bar = document.getElementById('upload-progress');
          if (bar) { window.__progressSeen = true;
                     window.__progressValues.push(document.getElementById('upload-status')?.textContent || ''); }
        }).observe(document.body, {childList: true, subtree: true, characterData: true, attributes: true}); }"""
    )


def test_file_push_uploads_with_progress_and_downloads_the_same_bytes(kinds_server, new_page, tmp_path):
    started = time.time()
    canary = "CANARY-FILE-" + secrets.token_hex(12)
    message_canary = "CANARY-MSG-" + secrets.token_hex(12)
    first = (canary + "\n").encode() + os.urandom(1536 * 1024)
    second = os.urandom(700 * 1024) + canary.encode()
    page = new_page()
    open_create(page, kinds_server.url, "file")
    assert "4 MiB in total" in page.inner_text("#files-help")
    _choose_files(page, [("id_ed25519", first), ("notes final.txt", second)])
    page.fill("#payload", message_canary)
    page.fill("#expire_after_views", "1")
    screenshot(page, "create-files")
    _watch_progress(page)
    link = create_and_get_link(page)
    assert page.evaluate("window.__progressSeen"), "the upload progress bar was never shown"

    recipient = new_page()
    press_reveal(recipient, link)
    recipient.wait_for_function("() => document.querySelectorAll('#secret-files li').length === 2")
    assert recipient.input_value("#secret-box") == message_canary
    note = recipient.inner_text("#downloads-note")
    assert "each file can be downloaded once in the next 10 minutes" in note
    screenshot(recipient, "reveal-files")
    for name, data in (("id_ed25519", first), ("notes final.txt", second)):
        with recipient.expect_download() as info:
            recipient.click(f"a[aria-label='Download {name}']")
        download = info.value
        assert download.suggested_filename == name
        saved = tmp_path / name
        download.save_as(saved)
        assert hashlib.sha256(saved.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()
    # The last view's window: each file once.
    href = recipient.get_attribute("a[aria-label='Download id_ed25519']", "href")
    assert httpx.get(kinds_server.url + href).status_code == 410

    # The plaintext is nowhere on disk: data folder, Reflex's state and build folders,
    # its upload folder, the log, and any temporary file written during the test.
    needles = (canary.encode(), message_canary.encode())
    places = [kinds_server.data_dir, ROOT / ".states", ROOT / ".web", ROOT / "uploaded_files"]
    for place in places:
        for path in (p for p in place.rglob("*") if p.is_file()) if place.exists() else []:
            if path == kinds_server.log_path:
                continue
            content = path.read_bytes()
            assert not any(n in content for n in needles), path
    log = kinds_server.log_text()
    assert canary not in log and message_canary not in log
    # (Skipping the browser's own folders, which hold what the recipient downloaded, and
    # this test's tmp_path, where it saved them.)
    for folder, subfolders, names in os.walk(tempfile.gettempdir()):  # (os.walk skips what vanishes)
        subfolders[:] = [d for d in subfolders if not d.startswith(("playwright", "pytest-of-"))]
        for name in names:
            path = Path(folder) / name
            try:
                if path.is_file() and path.stat().st_mtime >= started and path.stat().st_size < 64 * 1024 * 1024:
                    assert not any(n in path.read_bytes() for n in needles), path
            except OSError:
                continue  # another process's file came and went


def _post_upload_directly(page, files: list[tuple[str, int]]) -> None:
    """What a script that skips the page's checks would do: post to Reflex's upload
    endpoint as this page's session, to the page's own upload handler."""
    from pwpush_app.ui.create_files import FileSendState

    status = page.evaluate(
        """async ([handler, files]) => {
          const form = new FormData();
          form.append('__reflex_event_args', JSON.stringify({fields: {payload: '', expire_after_views: '1'}}));
          for (const [name, size] of files) form.append('files', new Blob([new Uint8Array(size).fill(120)]), name);
          const response = await fetch('/_upload', {method: 'POST', body: form, headers: {
            'Reflex-Client-Token': sessionStorage.getItem('token'), 'Reflex-Event-Handler': handler}});
          return response.status; }""",
        [FileSendState.get_full_name() + ".send", [list(f) for f in files]],
    )
    # 202 when the handler read everything before refusing; 400 when it stopped reading.
    assert status in (202, 400)


def test_files_over_the_limit_are_refused_in_the_browser_and_on_the_server(kinds_server, kinds_runtime, new_page):
    page = new_page(LAPTOP)
    open_create(page, kinds_server.url, "file")
    # The browser's courtesy check: the total is over, the button is off.
    half = LIMIT // 2 + 1024
    _choose_files(page, [("a.bin", b"a" * half), ("b.bin", b"b" * half)])
    page.wait_for_selector("#files-too-big")
    assert "more than 4 MiB" in page.inner_text("#files-too-big")
    assert "Total: 4.01 MiB" in page.inner_text("#chosen-total")
    assert page.locator("#create").is_disabled()
    screenshot(page, "create-files-too-big")

    # The server's rule: a client that skips the check (a script posting to the upload
    # endpoint itself) gets the core's message beside the field, and nothing is kept.
    pushes_before, blobs_before = _push_count(kinds_runtime), _blob_files(kinds_server.data_dir)
    _post_upload_directly(page, [("big.bin", LIMIT + 1)])
    page.wait_for_selector("#files-error")
    assert page.inner_text("#files-error") == "The files are too large: at most 4 MiB per push in total."
    assert _push_count(kinds_runtime) == pushes_before
    assert _blob_files(kinds_server.data_dir) == blobs_before
    assert page.locator("#share-link").is_hidden()


def test_too_many_files_are_refused_by_the_server(kinds_server, kinds_runtime, new_page):
    page = new_page()
    open_create(page, kinds_server.url, "file")
    before, blobs_before = _push_count(kinds_runtime), _blob_files(kinds_server.data_dir)
    _post_upload_directly(page, [(f"f{i}.txt", 10) for i in range(11)])
    page.wait_for_selector("#files-error")
    assert page.inner_text("#files-error") == "Too many files: at most 10 per push."
    assert _push_count(kinds_runtime) == before
    assert _blob_files(kinds_server.data_dir) == blobs_before


def test_sending_without_files_says_so(kinds_server, kinds_runtime, new_page):
    page = new_page()
    open_create(page, kinds_server.url, "file")
    before = _push_count(kinds_runtime)
    page.click("#create")
    page.wait_for_selector("#files-error")
    assert page.inner_text("#files-error") == "Attach at least one file."
    assert _push_count(kinds_runtime) == before


def test_kind_pages_pass_axe(kinds_server, new_page):
    pytest.importorskip("axe_playwright_python")
    from test_accessibility import _serious_problems

    problems = {}
    page = new_page()
    for kind in ("url", "qr", "file"):
        open_create(page, kinds_server.url, kind)
        page.wait_for_selector("#payload")
        problems[f"create {kind}"] = _serious_problems(page)
    _choose_files(page, [("a.txt", b"axe check")])
    problems["create file chosen"] = _serious_problems(page)
    link = create_and_get_link(page)
    recipient = new_page()
    press_reveal(recipient, link)
    recipient.wait_for_function("() => document.querySelectorAll('#secret-files li').length === 1")
    problems["reveal file"] = _serious_problems(recipient)
    open_create(page, kinds_server.url, "qr")
    page.fill("#payload", "axe check")
    link = create_and_get_link(page)
    press_reveal(recipient, link)
    recipient.wait_for_function("() => (document.getElementById('secret-qr').getAttribute('src') || '').length > 0")
    recipient.click("#show-qr-text")
    problems["reveal qr"] = _serious_problems(recipient)
    assert {name: found for name, found in problems.items() if found} == {}
