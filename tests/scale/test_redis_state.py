"""Page state in Redis holds no credential. With REFLEX_REDIS_URL, Reflex keeps every tab's
state in Redis; whoever can read Redis must find there neither a session token (it would
take over the session) nor a manage token (it would read the audit log and expire the push).

A scripted session in Chromium against the production server on three workers: pushes
created anonymously, My pushes, sign-up, the dashboard and its claim, text and file pushes
created logged in. Then every key in Redis is read (`--scan`, `DUMP`, and the value by its
type), and searched for the session token and every manage token.
"""

from __future__ import annotations

import os
import pickle
import subprocess

import pytest

from tests.servers import LiveServer, free_port
from tests.ui.ui_helpers import create_through_form, sign_up, wait_until_ready

pytestmark = pytest.mark.browser

WORKERS = 3
READ_BY_TYPE = {b"string": ["GET"], b"hash": ["HGETALL"], b"list": ["LRANGE", "0", "-1"], b"set": ["SMEMBERS"],
                b"zset": ["ZRANGE", "0", "-1", "WITHSCORES"], b"stream": ["XRANGE", "-", "+"]}


@pytest.fixture(scope="module")
def redis_workers(redis_server, tmp_path_factory):
    """The production server on SQLite with Redis and several workers (files need a login:
    the upload's handler must find the session too)."""
    server = LiveServer(tmp_path_factory.mktemp("redis-state") / "data", free_port(), {
        "REFLEX_REDIS_URL": redis_server.url,
        "GRANIAN_WORKERS": str(WORKERS),
        "PWPUSH_FILES_MAX_BYTES": str(1024 * 1024),
    })
    server.start()
    yield server
    server.stop()


def redis_contents(redis_server) -> bytes:
    """Every key, its DUMP and its value read as its type allows (state is pickled, not encrypted)."""
    cli = ["redis-cli", "-p", str(redis_server.port)]
    keys = subprocess.run([*cli, "--scan"], capture_output=True, check=True).stdout.split()
    assert keys
    blob = b"\n".join(keys)
    for key in keys:
        blob += subprocess.run([*cli, "--no-raw", "DUMP", key], capture_output=True, check=True).stdout
        kind = subprocess.run([*cli, "TYPE", key], capture_output=True, check=True).stdout.strip()
        if kind in READ_BY_TYPE:
            blob += subprocess.run([*cli, READ_BY_TYPE[kind][0], key, *READ_BY_TYPE[kind][1:]],
                                   capture_output=True, check=True).stdout
    return blob


def _create_file_push(page, base_url: str, name: str) -> str:
    page.goto(base_url + "/")
    wait_until_ready(page)
    page.click("#kind-file")
    page.wait_for_function("() => document.querySelector('#kind-file').getAttribute('aria-checked') === 'true'")
    page.set_input_files("input[type=file]", files=[
        {"name": f"{name}.txt", "mimeType": "text/plain", "buffer": os.urandom(2048)}])
    page.wait_for_function("() => document.querySelectorAll('#chosen-files li').length === 1")
    page.fill("#name", name)
    page.click("#create")
    page.wait_for_function("() => document.getElementById('share-manage').value.length > 0")
    return page.input_value("#share-manage").rsplit("/", 1)[-1]


def test_redis_holds_no_session_token_and_no_manage_token(redis_workers, redis_server, chromium):
    base = redis_workers.url
    email = f"redis-{os.urandom(4).hex()}@example.com"
    context = chromium.new_context()
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        manage_tokens = []
        for n in (1, 2):  # anonymously
            manage_tokens.append(create_through_form(page, base, f"anonymous secret {n}", name=f"Anonymous {n}").manage_token)
        page.goto(base + "/my-pushes")
        page.wait_for_selector(".my-push >> nth=1")
        assert [item.inner_text().splitlines()[0] for item in page.locator(".my-push").all()] == ["Anonymous 2", "Anonymous 1"]

        sign_up(page, base, email)
        page.click("#dash-claim")
        page.wait_for_selector("#dash-notice")
        assert page.inner_text("#dash-notice").startswith("2 push")  # moved into the account
        page.locator(".dash-push", has_text="Anonymous 1").wait_for()

        manage_tokens.append(create_through_form(page, base, "member secret", name="Member text").manage_token)
        # Two uploads: each may reach another worker than the page's websocket.
        manage_tokens += [_create_file_push(page, base, f"Member file {n}") for n in (1, 2)]
        page.goto(base + "/dashboard")
        wait_until_ready(page)
        for name in ("Member file 2", "Member file 1", "Member text", "Anonymous 2", "Anonymous 1"):
            page.locator(".dash-push", has_text=name).wait_for()  # all five belong to the account
        page.goto(base + "/my-pushes")
        page.wait_for_selector(".my-push >> nth=4")
        wait_until_ready(page)

        session_tokens = [c["value"] for c in context.cookies() if c["httpOnly"]]
        assert len(session_tokens) == 1 and len(manage_tokens) == 5
        stored = redis_contents(redis_server)
    finally:
        context.close()

    # Controls: the scan reads the pages' state (the account's email is in it), and it finds
    # a value planted the way Reflex stores state (a pickle, read back as binary).
    assert email.encode() in stored
    control = f"control-canary-{os.urandom(8).hex()}"
    cli = ["redis-cli", "-p", str(redis_server.port)]
    subprocess.run([*cli, "-x", "SET", "pwpush-test-control"], input=pickle.dumps({"headers": {"cookie": control}}),
                   capture_output=True, check=True)
    try:
        assert control.encode() in redis_contents(redis_server)
    finally:
        subprocess.run([*cli, "DEL", "pwpush-test-control"], capture_output=True, check=True)

    found = [name for name, token in [("session token", session_tokens[0]),
                                      *((f"manage token {n}", t) for n, t in enumerate(manage_tokens, 1))]
             if token.encode() in stored]
    assert found == []
