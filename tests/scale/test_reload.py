"""A reload (SIGHUP: `systemctl reload pwpush`) of three workers on PostgreSQL + Redis under
steady traffic: not one request fails, and a recipient's page opened before it still
reveals its secret after it (its event socket moves to the new workers; its state is in
Redis)."""

from __future__ import annotations

import json
import time

import pytest

from tests.conftest import ARTIFACTS
from tests.scale.conftest import fresh_database
from tests.servers import LiveServer, free_port
from tests.traffic import Traffic

pytestmark = pytest.mark.browser


def secret_shown(page) -> str:
    page.wait_for_function("() => { const box = document.getElementById('secret-box'); return box && box.value.length > 0 }")
    return page.input_value("#secret-box")


# One reload always; several in the soak run (`pytest -m soak`).
@pytest.mark.parametrize("reloads", [1, pytest.param(3, marks=pytest.mark.soak)])
def test_reload_under_traffic_fails_no_request_and_open_pages_keep_working(postgres, redis_server, chromium,
                                                                         tmp_path, reloads):
    server = LiveServer(tmp_path / "data", free_port(), {
        "REFLEX_DB_URL": fresh_database(postgres), "REFLEX_REDIS_URL": redis_server.url, "GRANIAN_WORKERS": "3",
    })
    server.start()
    context = chromium.new_context()
    context.set_default_timeout(60_000)
    try:
        # A sender creates a one-view secret; a recipient opens the link and does not reveal yet.
        sender = context.new_page()
        sender.goto(server.url + "/")
        sender.wait_for_selector("#app-ready", state="attached")
        sender.fill("#payload", "opened-before-the-reload")
        sender.fill("#expire_after_views", "1")
        sender.click("#create")
        sender.wait_for_function("() => document.getElementById('share-link')?.value.length > 0")
        link = sender.input_value("#share-link")
        recipient = context.new_page()
        sockets = []
        recipient.on("websocket", lambda socket: sockets.append(socket.url))
        recipient.goto(link)
        recipient.wait_for_selector("#reveal")
        workers_before = {pid for pids in server.generations().values() for pid in pids}

        traffic = Traffic(server.url).start()
        started = time.monotonic()
        for _ in range(reloads):
            time.sleep(1)
            server.reload()
        time.sleep(1)
        traffic.stop()
        workers_after = {pid for pids in server.generations().values() for pid in pids}

        recipient.wait_for_timeout(1000)  # let Playwright deliver the socket events
        recipient.click("#reveal")
        assert secret_shown(recipient) == "opened-before-the-reload"
    finally:
        context.close()
        server.stop()

    figures = {"reloads": reloads, "seconds": round(time.monotonic() - started, 1), **traffic.summary()}
    print(json.dumps(figures))
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "reload-3-workers-redis.json").write_text(json.dumps(figures, indent=2))
    assert traffic.failures == {}, figures
    assert traffic.cycles > 20 * reloads  # the traffic was real
    assert len(workers_after) == 3 and not workers_after & workers_before  # every worker was replaced
    assert len(sockets) > reloads  # the page's event socket reconnected to the new workers
