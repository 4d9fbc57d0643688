"""Many recipients at the same moment, over real HTTP and real websockets, against the
production server: a push is never served more often than its view limit.

Every client opens its connection first and waits at a barrier, so the requests land
within milliseconds of each other (the server holds them all at once).
"""

from __future__ import annotations

import os
import random
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from pwpush_app.core.records import find_push
from tests.api.test_live import issue_token
from tests.core.common import audit_kinds

from .support import all_at_once, create_via_api, server_runtime

CHROMIUM = os.environ.get("PWPUSH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


@pytest.fixture(scope="module")
def core(live_server):
    runtime = server_runtime(live_server)
    yield runtime
    runtime.engine.dispose()


@pytest.fixture(scope="module")
def owner(live_server):
    return {"Authorization": f"Bearer {issue_token(live_server, 'race-owner@example.com')}"}


def served(results: list, secret: str) -> int:
    return sum(1 for r in results if isinstance(r, httpx.Response) and r.status_code == 200
               and r.json().get("payload") == secret)


@pytest.mark.parametrize("views, clients", [(1, 200), (5, 200)])
def test_concurrent_api_retrievals_serve_exactly_the_view_limit(live_server, core, views, clients):
    secret = f"race-{views}-{secrets.token_hex(8)}"
    push = create_via_api(live_server.url, secret, expire_after_views=views)
    token = push["url_token"]

    results = all_at_once(clients, live_server.url, lambda c: c.get(f"/api/v2/pushes/{token}"))

    assert [r for r in results if not isinstance(r, httpx.Response)] == []  # every request was answered
    assert sorted({r.status_code for r in results}) == [200]  # the others see the expired push, no error
    assert served(results, secret) == views
    assert all(r.json()["payload"] in (secret, None) for r in results)
    stored = find_push(core, token)
    assert stored.expired and stored.views_remaining == 0 and stored.expired_reason == "views"
    kinds = audit_kinds(core, stored.id)
    assert kinds.count("view") == views and kinds.count("failed_view") == clients - views


def test_reveal_racing_expire_200_rounds(live_server, core, owner):
    """Each round: one reveal and one delete (by the owner or by a recipient) sent together.

    A retrieve takes the server's fast door and a delete the full FastAPI stack, so sent at
    the same instant the reveal always lands first; in half the rounds the reveal leaves up
    to 10 ms later, so the delete wins some races and the two overlap in others.
    """
    jitter = random.Random(20261130)
    outcomes = {"reveal first": 0, "delete first": 0}
    barrier = threading.Barrier(2, timeout=30)
    with httpx.Client(base_url=live_server.url, timeout=30) as revealer, \
            httpx.Client(base_url=live_server.url, timeout=30) as deleter, ThreadPoolExecutor(2) as pool:
        for round_ in range(200):
            views = 1 + round_ % 2
            by_owner = round_ % 4 < 2
            secret = f"racing-{round_}-{secrets.token_hex(6)}"
            token = create_via_api(live_server.url, secret, owner, client=revealer, expire_after_views=views,
                                   deletable_by_viewer=True)["url_token"]

            head_start = jitter.uniform(0, 0.010) if round_ % 8 >= 4 else 0.0

            def reveal():
                barrier.wait()
                time.sleep(head_start)
                return revealer.get(f"/api/v2/pushes/{token}")

            def delete():
                barrier.wait()
                return deleter.delete(f"/api/v2/pushes/{token}", headers=owner if by_owner else {})

            reveal_answer, delete_answer = (f.result() for f in [pool.submit(reveal), pool.submit(delete)])

            assert reveal_answer.status_code == 200, reveal_answer.text
            got_secret = reveal_answer.json()["payload"] == secret
            assert reveal_answer.json()["payload"] in (secret, None)
            # A delete fails only when the reveal took the last view first.
            assert delete_answer.status_code == 200 or (views == 1 and got_secret and delete_answer.status_code == 422), \
                delete_answer.text
            stored = find_push(core, token)
            assert stored.expired, f"round {round_}: not expired"
            kinds = audit_kinds(core, stored.id)
            assert kinds.count("view") == int(got_secret) <= 1
            assert stored.views_remaining == views - int(got_secret)
            outcomes["reveal first" if got_secret else "delete first"] += 1
    print(f"reveal vs expire, 200 rounds: {outcomes}")
    # Both orders happened: the race was real, not serialized by the test.
    assert outcomes["reveal first"] > 0 and outcomes["delete first"] > 0


# --- through the page: real browsers over Reflex's websocket -------------------------------------

@pytest.mark.browser
@pytest.mark.parametrize("browsers", [
    10,
    pytest.param(50, marks=pytest.mark.soak),  # about a minute on two cores
])
def test_browsers_press_reveal_together_and_one_gets_the_secret(live_server, core, browsers):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    secret = f"ws-race-{secrets.token_hex(8)}"
    token = create_via_api(live_server.url, secret, expire_after_views=1)["url_token"]
    link = f"{live_server.url}/p/{token}"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            pages = []
            for _ in range(browsers):
                context = browser.new_context()
                context.set_default_timeout(60_000)
                page = context.new_page()
                page.goto(link)
                page.wait_for_selector("#reveal")
                pages.append(page)
            assert find_push(core, token).views_remaining == 1  # the open pages used nothing
            # The barrier: every page clicks at the same wall-clock moment.
            moment = int(time.time() * 1000) + 1500
            for page in pages:
                page.evaluate("(t) => setTimeout(() => document.getElementById('reveal').click(), t - Date.now())", moment)
            outcomes = []
            for page in pages:
                page.wait_for_function(
                    "() => document.getElementById('unavailable') || (document.getElementById('secret-box') || {}).value"
                )
                outcomes.append(page.input_value("#secret-box") if page.locator("#unavailable").count() == 0 else None)
        finally:
            browser.close()
    assert outcomes.count(secret) == 1
    assert outcomes.count(None) == browsers - 1
    stored = find_push(core, token)
    assert stored.expired and audit_kinds(core, stored.id).count("view") == 1
