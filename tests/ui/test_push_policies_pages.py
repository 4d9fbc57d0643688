"""Issue 21's sender policies through the pages, on the production server in Chromium: the
create form's fields, the manage page's Protection line, the reveal page's "opened before"
notice; and crafted websocket events that try to get around the allow-list and the burn
limit through the page door (the API door's tests are tests/api/test_push_policies.py)."""

from __future__ import annotations

import json
import secrets

import httpx
import pytest
from ui_helpers import (
    EventChannel,
    push_directly,
    screenshots,
    wait_for_secret,
    wait_until_ready,
)

from pwpush_app.core.records import find_push
from pwpush_app.core.reveal import landing

pytestmark = pytest.mark.browser

ELSEWHERE = "203.0.113.0/24 2001:db8::/32"
LOOPBACK = "127.0.0.1 ::1"


def _audit(server_runtime, token: str) -> list[tuple[str, str]]:
    from sqlmodel import select

    from pwpush_app.core.db import transaction
    from pwpush_app.core.models import AuditEvent

    push = find_push(server_runtime, token)
    with transaction(server_runtime.engine, write=False) as db:
        rows = db.exec(select(AuditEvent).where(AuditEvent.push_id == push.id).order_by(AuditEvent.id)).all()
    return [(row.kind, row.ip) for row in rows]


def test_the_form_the_manage_page_and_the_notice(live_server, server_runtime, new_page):
    base = live_server.url
    page = new_page()
    page.goto(base + "/")
    wait_until_ready(page)
    page.fill("#payload", "policy canary " + secrets.token_hex(6))
    page.fill("#expire_after_views", "3")
    # A network written with its host bits: the core's message, beside the field.
    page.fill("#allowed_ips", "127.0.0.5/8")
    page.fill("#burn_after_failed_passphrases", "2")
    page.wait_for_timeout(400)  # the fields' debounced "forget my refusal" events go first
    page.click("#create")
    page.wait_for_selector("#allowed_ips-error")
    assert "write 127.0.0.0/8 for the network" in page.inner_text("#allowed_ips-error")
    assert "needs a passphrase" in page.inner_text("#burn_after_failed_passphrases-error")
    screenshots(page, "policies-create-refused")

    page.fill("#allowed_ips", LOOPBACK)
    # (Before the next field: Reflex debounces by handler name, so a second field's change
    # within 300 ms would drop this one's.)
    page.wait_for_selector("#allowed_ips-error", state="detached")
    page.fill("#passphrase", "open sesame")
    page.wait_for_timeout(400)
    page.click("#create")
    page.wait_for_selector("#share-link")
    page.wait_for_function("() => ['share-link', 'share-manage'].every(id => document.getElementById(id).value.length > 0)")
    link, manage = page.input_value("#share-link"), page.input_value("#share-manage")

    page.goto(manage)
    page.wait_for_selector("#policies-line")
    assert page.inner_text("#policies-line") == "Opens only from 127.0.0.1, ::1. Deleted by 2 wrong passphrases in all."
    screenshots(page, "policies-manage")

    texts = []
    for _ in range(2):
        viewer = new_page()
        viewer.goto(link)
        viewer.wait_for_selector("#passphrase")
        viewer.fill("#passphrase", "open sesame")
        viewer.click("#reveal")
        wait_for_secret(viewer)
        viewer.wait_for_selector("#opened-before")
        texts.append(viewer.inner_text("#opened-before"))
    assert texts[0] == "Nobody opened this link before you."
    assert texts[1].startswith("Opened 1 time before, just now.")
    screenshots(viewer, "policies-reveal-opened-before")


def test_crafted_events_cannot_reveal_from_outside_the_list(live_server, server_runtime, chromium):
    """The page's client address is the connection's, not anything the browser says: an
    X-Forwarded-For header on every request and an `ip` in the event's router data change
    nothing (no trusted proxy here).  A reveal event naming the guarded link, sent from a tab
    that legitimately holds another link at its landing, meets the core's gate."""
    from pwpush_app.ui.reveal import RevealState

    base = live_server.url
    guarded = push_directly(server_runtime, base, "guarded " + secrets.token_hex(6), allowed_ips=ELSEWHERE,
                            expire_after_views=2)
    context = chromium.new_context(extra_http_headers={"X-Forwarded-For": "203.0.113.5", "X-Real-IP": "203.0.113.5"})
    try:
        page = context.new_page()
        channel = EventChannel(page)
        page.goto(guarded.secret)
        page.wait_for_selector("#unavailable")
        refused_card = page.inner_text("#unavailable")
        page.goto(base + "/p/" + "C" * 22)  # a link that never was: the same card
        page.wait_for_selector("#unavailable")
        assert page.inner_text("#unavailable") == refused_card

        own = push_directly(server_runtime, base, "mine", expire_after_views=3)
        page.goto(own.secret)
        page.wait_for_selector("#reveal")
        wait_until_ready(page)
        path = guarded.secret.removeprefix(base)
        reveal = f"{RevealState.get_full_name()}.reveal"
        channel.send_event(reveal, {"form_data": {"passphrase": ""}}, path=path)
        page.wait_for_selector("#unavailable")
        # The same with a forged client address in the router data.
        page.goto(own.secret)
        page.wait_for_selector("#reveal")
        wait_until_ready(page)
        event = {"name": reveal, "payload": {"form_data": {"passphrase": ""}},
                 "router_data": {"pathname": path, "asPath": path, "ip": "203.0.113.5",
                                 "headers": {"x-forwarded-for": "203.0.113.5"}}}
        page.evaluate("frame => window.__sockets.filter(s => s.readyState === WebSocket.OPEN).at(-1).send(frame)",
                      "42/_event," + json.dumps(["event", event]))
        page.wait_for_selector("#unavailable")
        assert "guarded" not in page.content()
    finally:
        context.close()

    push = find_push(server_runtime, guarded.token)
    assert push.views_remaining == 2 and not push.expired
    refusals = [ip for kind, ip in _audit(server_runtime, guarded.token) if kind == "refused_address"]
    assert len(refusals) >= 2 and all(ip in ("127.0.0.1", "::1") for ip in refusals)


def test_wrong_passphrases_through_both_doors_count_together(live_server, server_runtime, new_page):
    """Burn after 2: one wrong passphrase through the API, one through a crafted page event:
    the push is gone (two doors give no 2 × N)."""
    from pwpush_app.ui.reveal import RevealState

    base = live_server.url
    guarded = push_directly(server_runtime, base, "burnable", passphrase="right one", burn_after_failed_passphrases=2,
                            expire_after_views=3)
    assert httpx.get(f"{base}/api/v2/pushes/{guarded.token}", params={"passphrase": "api guess"}).status_code == 401

    page = new_page()
    channel = EventChannel(page)
    page.goto(guarded.secret)
    page.wait_for_selector("#passphrase")
    wait_until_ready(page)
    channel.send_event(f"{RevealState.get_full_name()}.reveal", {"form_data": {"passphrase": "page guess"}})
    page.wait_for_function("() => document.body.innerText.includes('the secret is now deleted')")
    push = find_push(server_runtime, guarded.token)
    assert push.expired and push.expired_reason == "guesses" and push.payload_sealed is None
    with pytest.raises(Exception):
        landing(server_runtime, guarded.token)
