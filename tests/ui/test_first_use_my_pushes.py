"""My pushes shows each push's live status, as the dashboard does, and tells unnamed pushes
apart (issue 24, item 7)."""

from __future__ import annotations

import pytest
from ui_helpers import create_through_form, reveal_in, screenshots, wait_until_ready

pytestmark = pytest.mark.browser


def test_my_pushes_shows_live_status_and_tells_unnamed_pushes_apart(live_server, new_page):
    sender = new_page()
    once = create_through_form(sender, live_server.url, "read once", views=1)
    waiting = create_through_form(sender, live_server.url, "still waiting", name="Wi-Fi guests", views=3)
    recipient = new_page()
    assert reveal_in(recipient, once.secret) == "read once"  # its only view: expired now

    sender.goto(live_server.url + "/my-pushes")
    wait_until_ready(sender)
    rows = sender.locator(".my-push")
    rows.nth(1).locator(".my-push-status").wait_for()
    named, unnamed = rows.nth(0), rows.nth(1)  # newest first
    assert "Wi-Fi guests" in named.inner_text()
    assert named.locator(".my-push-status").inner_text() == "Text · Active"
    assert "0 of 3 views used" in named.locator(".my-push-detail").inner_text()
    assert "Unnamed text push" in unnamed.inner_text()
    assert unnamed.locator(".my-push-status").inner_text() == "Text · Expired"
    assert "1 of 1 view used" in unnamed.locator(".my-push-detail").inner_text()
    assert "its views ran out" in unnamed.locator(".my-push-detail").inner_text()
    assert "expires" not in unnamed.inner_text()  # no future date for what has ended

    # Live: a view elsewhere shows up without a reload.
    assert reveal_in(new_page(), waiting.secret) == "still waiting"
    named.get_by_text("1 of 3 views used").wait_for(timeout=15_000)
    screenshots(sender, "first-use-my-pushes")
