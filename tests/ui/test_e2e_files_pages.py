"""End-to-end file pushes and a link without its key, in Chromium against the production server
(issue 20; the session's server: files without login, a 4 MiB limit).

- The create page's file tab with "Encrypt in my browser": the browser encrypts each file, its
  name included, and the message; the reference client downloads and decrypts them (browser ->
  Python).  The client encrypts files through the API; the reveal page decrypts them, asking
  the passphrase, and saves each under its real name (Python -> browser).
- The key, the passphrase, the file names and a canary inside the files never leave the
  browsers: every websocket frame and request, the server's log, its data folder and Reflex's
  state files are searched.
- Opened without its key (a link cut at '#', or a reload), Reveal is disabled and the reveal on
  load held before any view is spent.
"""

from __future__ import annotations

import hashlib
import os
import secrets

import httpx
import pytest
from ui_helpers import Wire, assert_nowhere, key_encodings, qr_texts, screenshots, wait_until_ready

from pwpush_app import e2e_client
from pwpush_app.core.records import find_push

pytestmark = pytest.mark.browser


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _open_file_tab(page, base_url: str) -> None:
    page.goto(base_url + "/")
    wait_until_ready(page)
    page.click("#kind-file")
    page.wait_for_function("() => document.querySelector('#kind-file').getAttribute('aria-checked') === 'true'")


def _choose_files(page, files: list[tuple[str, bytes]]) -> None:
    page.set_input_files("input[type=file]", files=[{"name": n, "mimeType": "text/plain", "buffer": d} for n, d in files])
    page.wait_for_function(f"() => document.querySelectorAll('#chosen-files li').length === {len(files)}")


def _switch_on(page) -> None:
    page.click("#end_to_end")
    page.wait_for_function("() => document.getElementById('e2e-envelope')?.dataset.filesOn === 'yes'")


def test_browser_encrypts_files_python_decrypts_and_nothing_leaks(live_server, server_runtime, new_page, tmp_path):
    canary = "canary-" + secrets.token_hex(12)
    name = f"payroll {canary}.txt"
    first = (canary + "\n").encode() * 3 + os.urandom(1024 * 1024 + 999)  # two records of content
    second = f"second {canary}".encode()
    message = "message " + canary
    passphrase = "pp-" + secrets.token_hex(6)
    sender = new_page()
    wire = Wire(sender)
    _open_file_tab(sender, live_server.url)
    _choose_files(sender, [(name, first), ("b.txt", second)])
    sender.fill("#payload", message)
    _switch_on(sender)
    sender.fill("#passphrase", passphrase)
    sender.click("#create")
    sender.wait_for_function("() => (document.getElementById('share-link')?.value || '').includes('#')")
    # The QR code of the whole link, drawn in the browser (the server never has the key).
    sender.wait_for_function("() => (document.getElementById('share-qr')?.getAttribute('src') || '').startsWith('data:image/svg+xml')")
    link = sender.input_value("#share-link")
    assert link in sender.input_value("#share-message")
    assert qr_texts(sender.get_attribute("#share-qr", "src")) == [link]
    token, key = link.split("/p/")[1].split("#")
    push = find_push(server_runtime, token)
    assert push.end_to_end and push.kind == "file"

    with httpx.Client(timeout=30) as http:
        written, said = e2e_client.get_files(http, link, tmp_path, passphrase)
    assert said == message
    assert [(p.name, _sha(p.read_bytes())) for p in written] == [(name, _sha(first)), ("b.txt", _sha(second))]
    assert_nowhere(live_server, [wire], [canary, passphrase, *key_encodings(key)])


def test_python_encrypts_files_the_reveal_page_decrypts_them(live_server, server_runtime, new_page, tmp_path):
    canary = "canary-" + secrets.token_hex(12)
    data = canary.encode() + os.urandom(2 * 1024 * 1024)
    source = tmp_path / f"keys {canary}.bin"
    source.write_bytes(data)
    with httpx.Client(timeout=30) as http:
        link = e2e_client.push_files(http, live_server.url, [source], passphrase="by phone", expire_after_views=1)
    key = link.split("#")[1]
    page = new_page()
    wire = Wire(page)
    page.goto(link)
    page.wait_for_selector("#reveal")
    assert "#" not in page.url
    page.click("#reveal")
    # No message: the files ask for the passphrase, and a wrong one is said so.
    page.wait_for_selector("#e2e-passphrase")
    page.fill("#e2e-passphrase", "not it")
    page.click("#e2e-decrypt")
    page.wait_for_selector("text=Wrong passphrase")
    page.fill("#e2e-passphrase", "by phone")
    page.click("#e2e-decrypt")
    page.wait_for_selector("#e2e-file-list li[data-state=ready]")
    assert page.inner_text("#e2e-file-list .file-links-name") == source.name
    with page.expect_download() as info:
        page.click("#e2e-file-list a[download]")
    assert info.value.suggested_filename == source.name
    saved = tmp_path / "saved"
    info.value.save_as(saved)
    assert _sha(saved.read_bytes()) == _sha(data)
    assert find_push(server_runtime, link.split("/p/")[1].split("#")[0]).expired
    assert_nowhere(live_server, [wire], [canary, "by phone", *key_encodings(key)])


def test_a_link_without_its_key_spends_no_view(live_server, server_runtime, new_page):
    with httpx.Client(timeout=30) as http:
        link = e2e_client.push(http, live_server.url, "canary-" + secrets.token_hex(8), expire_after_views=2)
        held = e2e_client.push(http, live_server.url, "canary-" + secrets.token_hex(8), retrieval_step=False)
    token = link.split("/p/")[1].split("#")[0]
    page = new_page()
    page.goto(link.split("#")[0])
    page.wait_for_selector("#e2e-missing-key")
    assert "ask the sender for the whole link" in page.inner_text("#e2e-missing-key").lower()
    assert page.is_disabled("#reveal")
    page.click("#reveal", force=True)
    page.wait_for_timeout(1000)
    assert find_push(server_runtime, token).views_remaining == 2
    screenshots(page, "e2e-missing-key")

    # The whole link pasted into the same tab (only the hash changes): the key is taken, and
    # out of the address bar at once; a reload then has no key again.
    wire = Wire(page)
    page.goto(link)
    page.wait_for_function("() => !document.getElementById('e2e-missing-key')")
    assert not page.is_disabled("#reveal") and "#" not in page.url
    page.reload()
    page.wait_for_selector("#e2e-missing-key")
    assert page.is_disabled("#reveal") and find_push(server_runtime, token).views_remaining == 2
    assert wire.carrying(link.split("#")[1]) == []

    # Without the retrieval step the page would reveal on load: held.
    page.goto(held.split("#")[0])
    page.wait_for_selector("#e2e-missing-key")
    page.wait_for_timeout(1000)
    screenshots(page, "e2e-missing-key-held")
    assert find_push(server_runtime, held.split("/p/")[1].split("#")[0]).views_remaining == 5


def test_screenshots_of_the_file_tab_and_the_decrypted_files(live_server, new_page):
    page = new_page()
    _open_file_tab(page, live_server.url)
    _choose_files(page, [("vpn-config.ovpn", b"remote vpn.example.com 1194\n" * 50)])
    page.fill("#payload", "The VPN profile; the password follows by phone.")
    _switch_on(page)
    screenshots(page, "e2e-files-create")
    page.click("#create")
    page.wait_for_function("() => (document.getElementById('share-link')?.value || '').includes('#')")
    recipient = new_page()
    recipient.goto(page.input_value("#share-link"))
    recipient.click("#reveal")
    recipient.wait_for_selector("#e2e-file-list li[data-state=ready]")
    recipient.wait_for_function("() => (document.getElementById('secret-box')?.value || '').length > 0")
    assert recipient.inner_text("#e2e-file-list .file-links-name") == "vpn-config.ovpn"
    screenshots(recipient, "e2e-files-reveal")


def test_an_end_to_end_secret_for_several_recipients(live_server, server_runtime, new_page):
    """Issue 21's recipients with end-to-end (text): one envelope, a push and a link each, the
    same key added to each link in the browser; each opens alone."""
    secret = "canary-" + secrets.token_hex(8)
    page = new_page()
    wire = Wire(page)
    page.goto(live_server.url + "/")
    wait_until_ready(page)
    page.fill("#payload", secret)
    page.click("#end_to_end")
    page.wait_for_function("() => document.getElementById('e2e-envelope')?.dataset.on === 'yes'")
    page.fill("#recipients", "Alice, Bob")
    page.wait_for_timeout(400)
    page.click("#create")
    page.wait_for_function("() => [0, 1].every(i => (document.getElementById('share-group-link-' + i)?.value || '').includes('#'))")
    links = [page.input_value(f"#share-group-link-{i}") for i in range(2)]
    keys = {link.split("#")[1] for link in links}
    assert len(keys) == 1 and links[0].split("#")[0] != links[1].split("#")[0]
    tokens = [link.split("/p/")[1].split("#")[0] for link in links]
    assert all(find_push(server_runtime, token).end_to_end for token in tokens)
    recipient = new_page()
    recipient.goto(links[1])
    recipient.click("#reveal")
    recipient.wait_for_function("() => (document.getElementById('secret-box')?.value || '').length > 0")
    assert recipient.input_value("#secret-box") == secret
    assert [find_push(server_runtime, t).views_remaining for t in tokens] == [5, 4]
    assert_nowhere(live_server, [wire], [secret, *key_encodings(keys.pop())])


def test_the_reference_clients_file_commands_and_an_unsafe_name(live_server, tmp_path, capsys):
    from pwpush_app.core import e2e, e2e_files

    (tmp_path / "out").mkdir()
    source = tmp_path / "notes.txt"
    source.write_bytes(b"from the command line")
    assert e2e_client.main(["push-files", live_server.url, str(source), "--message", "hello", "--passphrase", "pp"]) == 0
    link = capsys.readouterr().out.strip()
    assert e2e_client.main(["get-files", link, "--to", str(tmp_path / "out"), "--passphrase", "not it"]) == 1
    assert "Could not decrypt" in capsys.readouterr().err
    assert e2e_client.main(["get-files", link, "--to", str(tmp_path / "out"), "--passphrase", "pp"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "Message: hello"
    assert (tmp_path / "out" / "notes.txt").read_bytes() == b"from the command line"

    # A sender's name is untrusted: it never leaves the folder, nor replaces a file there.
    raw = os.urandom(32)
    sealed = b"".join(e2e_files.encrypt_file(raw, None, None, "../../notes.txt", "text/plain", [b"evil"]))
    with httpx.Client(timeout=30) as http:
        created = http.post(live_server.url + "/api/v2/pushes", files=[
            ("push[end_to_end]", (None, "true")), ("push[files][]", ("x", sealed, "application/octet-stream"))])
        assert created.status_code == 201, created.text
        written, _ = e2e_client.get_files(http, f"{created.json()['html_url']}#{e2e.b64u(raw)}", tmp_path / "out")
    assert [p.name for p in written] == ["notes (2).txt"] and written[0].parent == tmp_path / "out"
    assert (tmp_path / "out" / "notes.txt").read_bytes() == b"from the command line"


def test_the_browser_refuses_altered_files(live_server, new_page):
    """The server checks only a file's header: the browser's decryption catches the rest (a
    file cut at a record's end, records swapped, a flipped byte) and offers nothing of it."""
    from pwpush_app.core import e2e, e2e_files

    raw = os.urandom(32)

    def sealed(name: str, data: bytes) -> bytes:
        return b"".join(e2e_files.encrypt_file(raw, None, None, name, "text/plain", [data]))

    record = e2e_files.CHUNK_BYTES + 16
    head = 17 + 1024 + 16
    big = os.urandom(e2e_files.CHUNK_BYTES + 10)  # two records: 1 MiB and 10 bytes
    cut = sealed("cut.bin", big)[: head + record]  # the last record dropped, at its boundary
    swapped = sealed("swapped.bin", big)
    swapped = swapped[:head] + swapped[head + record:] + swapped[head: head + record]
    flipped = bytearray(sealed("flipped.bin", b"small file"))
    flipped[head + 3] ^= 1
    files = [("a", cut), ("b", swapped), ("c", bytes(flipped)), ("d", sealed("fine.bin", b"fine"))]
    with httpx.Client(timeout=60) as http:
        created = http.post(live_server.url + "/api/v2/pushes", files=[
            ("push[end_to_end]", (None, "true")), *[("push[files][]", (n, d, "application/octet-stream")) for n, d in files]])
        assert created.status_code == 201, created.text
    page = new_page()
    page.goto(f"{created.json()['html_url']}#{e2e.b64u(raw)}")
    page.click("#reveal")
    # All four listed and none still decrypting (before the list is drawn, none is busy either).
    page.wait_for_function("() => { const items = [...document.querySelectorAll('#e2e-file-list li')];"
                           " return items.length === 4 && items.every(li => li.dataset.state !== 'busy') }")
    states = page.eval_on_selector_all("#e2e-file-list li", "items => items.map(li => li.dataset.state)")
    assert states == ["error", "error", "error", "ready"]
    assert page.locator("#e2e-file-list a[download]").count() == 1
    assert "could not be decrypted" in page.inner_text("#e2e-file-list li:first-child")
    assert page.inner_text("#e2e-file-list li:last-child .file-links-name") == "fine.bin"


def test_an_empty_file_is_refused_before_anything_is_sent(live_server, new_page):
    page = new_page()
    wire = Wire(page)
    _open_file_tab(page, live_server.url)
    _choose_files(page, [("empty.txt", b"")])
    _switch_on(page)
    sent_before = len(wire.seen)
    page.click("#create")
    page.wait_for_selector("#e2e-sealer:has-text('empty.txt is empty')")
    assert not any("/_upload" in item for item in wire.seen[sent_before:])


def test_files_over_the_limit_once_encrypted_are_refused_in_the_browser(live_server, new_page):
    """4 MiB of plaintext fits the page's courtesy check but not the server's limit once
    encrypted (the limit counts what is stored): the browser says so and sends nothing."""
    page = new_page()
    wire = Wire(page)
    _open_file_tab(page, live_server.url)
    _choose_files(page, [("exactly-4-mib.bin", os.urandom(4 * 1024 * 1024))])
    _switch_on(page)
    sent_before = len(wire.seen)
    page.click("#create")
    page.wait_for_selector("#e2e-sealer:has-text('over the 4 MiB limit')")
    assert not any("/_upload" in item for item in wire.seen[sent_before:])


def test_a_download_cut_off_can_be_tried_again(live_server, new_page, tmp_path):
    source = tmp_path / "contract.txt"
    source.write_bytes(b"signed " * 100)
    with httpx.Client(timeout=30) as http:
        link = e2e_client.push_files(http, live_server.url, [source], expire_after_views=1)
    page = new_page()
    cut = []
    page.route("**/d/**", lambda route: (cut.append(route.request.url), route.abort()) if not cut else route.continue_())
    page.goto(link)
    page.click("#reveal")
    page.wait_for_selector("#e2e-file-list li[data-state=error]")
    assert "cut off" in page.inner_text("#e2e-file-list li")
    page.click("#e2e-file-list button:has-text('Try again')")
    page.wait_for_selector("#e2e-file-list li[data-state=ready]")
    assert page.inner_text("#e2e-file-list .file-links-name") == "contract.txt" and len(cut) == 1
