"""The browser flow on the scaled shape: Chromium -> nginx (TLS) -> three workers that keep
page state in Redis. A sender creates, a recipient reveals in another browser; the secret
never lands in Redis."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.scale.workers import server_side_pids

pytestmark = pytest.mark.browser


def fresh_page(chromium):
    # nginx's certificate is self-signed for the test.
    context = chromium.new_context(ignore_https_errors=True)
    context.set_default_timeout(30_000)
    return context, context.new_page()


def redis_values(redis_server) -> tuple[int, bytes]:
    """How many keys Redis holds, and every key and value, dumped (state is stored serialized)."""
    cli = ["redis-cli", "-p", str(redis_server.port)]
    keys = subprocess.run([*cli, "--scan"], capture_output=True, check=True).stdout.split()
    blob = b"".join(keys)
    for key in keys:
        blob += subprocess.run([*cli, "--no-raw", "DUMP", key], capture_output=True, check=True).stdout
        blob += subprocess.run([*cli, "GET", key], capture_output=True).stdout
        blob += subprocess.run([*cli, "HGETALL", key], capture_output=True).stdout
    return len(keys), blob


def test_create_then_reveal_through_nginx_on_several_workers(scaled, chromium, redis_server):
    secret = f"scaled-canary-{os.urandom(6).hex()}"
    sender_context, sender = fresh_page(chromium)
    recipient_context, recipient = fresh_page(chromium)
    bystanders = []
    try:
        # Pages through nginx until their connections (event sockets included) are held by
        # two workers or more: the kernel hands a new connection to whichever worker accepts
        # first, so on a busy machine one worker may take six in a row.
        for opened in range(1, 17):
            if opened == 1:
                page = sender
            else:
                bystanders.append(fresh_page(chromium))
                page = bystanders[-1][1]
            page.goto(scaled.nginx.url + "/")
            page.wait_for_selector("#app-ready", state="attached")
            socket_workers = set(server_side_pids(scaled.app.port).values())
            if opened >= 6 and len(socket_workers) >= 2:
                break
        assert len(socket_workers) >= 2, socket_workers
        sender.fill("#payload", secret)
        sender.click("#create")
        # The link arrives as an event result, a moment after the share section shows.
        sender.wait_for_function("() => document.getElementById('share-link')?.value.length > 0")
        link = sender.input_value("#share-link")
        assert link.startswith(scaled.nginx.url + "/p/")

        recipient.goto(link)
        recipient.wait_for_selector("#reveal")
        recipient.click("#reveal")
        recipient.wait_for_function(
            "() => { const box = document.getElementById('secret-box'); return box && box.value.length > 0 }")
        assert recipient.input_value("#secret-box") == secret
        keys, stored = redis_values(redis_server)
    finally:
        for context, _ in [(sender_context, None), (recipient_context, None), *bystanders]:
            context.close()
    assert keys > 0  # the pages' state is in Redis ...
    assert secret.encode() not in stored  # ... but never the secret
