"""Redis (the shared rate-limit counts) stalled or gone, on the production server.

A stalled Redis (SIGSTOP: connections accepted, nothing answered) used to hold a create
or a reveal forever, and with it the worker's event loop: every other request of that
worker waited too. Now a request that needs the counts is refused after a bounded wait
with the API's "busy" answer (503, Retry-After), counting and changing nothing, while
the worker goes on answering everything else; and once Redis answers again, so do we.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import httpx
import pytest

from pwpush_app.core.records import find_push
from tests.servers import LiveServer, RedisServer, free_port

from .support import counts, create_via_api, server_runtime

BUSY = "The server is busy right now; nothing was changed. Try again shortly."


@pytest.fixture
def redis_and_server(tmp_path):
    redis = RedisServer().start()
    # One worker: a request held on its event loop would hold every other request too.
    server = LiveServer(tmp_path / "data", free_port(), {"REFLEX_REDIS_URL": redis.url, "GRANIAN_WORKERS": "1"})
    try:
        server.start()
        yield redis, server
    finally:
        if redis.process.poll() is None:
            os.kill(redis.process.pid, signal.SIGCONT)
        server.stop()
        redis.stop()


def assert_busy(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) > 0
    assert response.json() == {"error": BUSY}
    assert "Traceback" not in response.text and "redis" not in response.text.lower()


def test_a_stalled_redis_gets_a_busy_answer_and_holds_up_no_other_request(redis_and_server):
    redis, server = redis_and_server
    runtime = server_runtime(server)
    kept = create_via_api(server.url, "kept while redis stalls", expire_after_views=5)
    before = counts(runtime)

    os.kill(redis.process.pid, signal.SIGSTOP)
    answers: dict[str, tuple[float, httpx.Response]] = {}

    def create() -> None:
        response = httpx.post(f"{server.url}/api/v2/pushes", json={"push": {"payload": "while stalled"}}, timeout=60)
        answers["create"] = (time.monotonic(), response)

    waiting = threading.Thread(target=create)
    started = time.monotonic()
    waiting.start()
    time.sleep(0.2)  # the create is now waiting on Redis
    version = httpx.get(f"{server.url}/api/v2/version", timeout=60)
    answered_version = time.monotonic()
    waiting.join(60)
    assert version.status_code == 200
    assert "create" in answers, "the create waited on the stalled Redis for a minute"
    answered_create, response = answers["create"]
    assert answered_version < answered_create  # the worker answered others meanwhile
    assert answered_create - started < 10  # bounded: 1 s a try, two tries (and two counts at most)
    assert_busy(response)

    revealed = httpx.get(f"{server.url}/api/v2/pushes/{kept['url_token']}", timeout=60)
    assert_busy(revealed)
    assert counts(runtime) == before  # nothing created, no audit row
    assert find_push(runtime, kept["url_token"]).views_remaining == 5  # no view taken

    os.kill(redis.process.pid, signal.SIGCONT)
    create_via_api(server.url, "after redis came back")
    again = httpx.get(f"{server.url}/api/v2/pushes/{kept['url_token']}", timeout=60)
    assert again.status_code == 200 and again.json()["payload"] == "kept while redis stalls"
    assert find_push(runtime, kept["url_token"]).views_remaining == 4


def test_redis_gone_gets_a_busy_answer_not_a_server_error(redis_and_server):
    redis, server = redis_and_server
    runtime = server_runtime(server)
    kept = create_via_api(server.url, "kept while redis is gone", expire_after_views=5)
    before = counts(runtime)
    redis.process.kill()
    redis.process.wait(15)

    assert_busy(httpx.post(f"{server.url}/api/v2/pushes", json={"push": {"payload": "no redis"}}, timeout=60))
    assert_busy(httpx.post(f"{server.url}/p.json", json={"password": {"payload": "no redis"}}, timeout=60))
    assert_busy(httpx.get(f"{server.url}/api/v2/pushes/{kept['url_token']}", timeout=60))
    # A login counts against the login limit there too: back to its form, told the server is busy.
    login = httpx.post(f"{server.url}/session", data={"email": "someone@example.com", "password": "a password"},
                       headers={"Origin": server.url}, timeout=60)
    assert login.status_code == 303 and login.headers["location"] == "/login?error=busy", login.text
    assert counts(runtime) == before
    assert find_push(runtime, kept["url_token"]).views_remaining == 5
    assert httpx.get(f"{server.url}/api/v2/version", timeout=60).status_code == 200
