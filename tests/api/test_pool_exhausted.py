"""Every database connection taken (a burst of slow requests, a hung PostgreSQL): a request
that finds none free within PWPUSH_BUSY_TIMEOUT_MS gets the busy answer (503, Retry-After,
nothing changed), not SQLAlchemy's pool timeout as a server error after 30 s."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
import sqlalchemy.exc
from sqlalchemy import text

from pwpush_app.core.accounts import issue_api_token
from tests.api.conftest import async_asgi_client

BUSY_MS = 400


def _take_every_connection(engine) -> list:
    """Check out connections until the pool has none left to give within the wait."""
    held = []
    while True:
        try:
            held.append(engine.raw_connection())
        except sqlalchemy.exc.TimeoutError:
            return held
        assert len(held) <= 64, "the pool gave out more connections than it keeps and may open"


def _pushes(runtime) -> int:
    with runtime.engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM push")).scalar_one()


@pytest.mark.parametrize("path", ["/api/v2/pushes/active", "/p/active.json"])
def test_a_request_that_finds_no_connection_free_is_told_busy_and_changes_nothing(make_api, path):
    api, runtime = make_api(PWPUSH_BUSY_TIMEOUT_MS=str(BUSY_MS))
    postgresql = runtime.engine.dialect.name == "postgresql"
    _user, token = issue_api_token(runtime, "alice@example.com")
    owner = {"Authorization": f"Bearer {token}"}
    before = api.post("/api/v2/pushes", json={"push": {"payload": "before", "expire_after_views": 2}}, headers=owner)
    assert before.status_code == 201
    held = _take_every_connection(runtime.engine)
    try:
        started = time.monotonic()
        listed = api.get(path, headers=owner)
        waited = time.monotonic() - started
        assert listed.status_code == 503, listed.text
        assert "busy" in listed.json()["error"] and listed.headers["Retry-After"]
        assert "Traceback" not in listed.text and "QueuePool" not in listed.text
        assert waited < BUSY_MS / 1000 + 5, f"waited {waited:.1f} s for a connection"
        # The hot routes: an account's create needs a pooled connection to check its token,
        # and is refused the same way.  Anonymous ones run in the fast door's own transaction:
        # on PostgreSQL that needs a pooled connection too (refused: nothing stored, no view
        # taken); on SQLite the event loop keeps a connection of its own, so they are served.
        token = before.json()["url_token"]
        hot = [api.post("/api/v2/pushes", json={"push": {"payload": "anonymous"}}),
               api.post("/p.json", json={"password": {"payload": "anonymous"}}),
               api.get(f"/api/v2/pushes/{token}")]
        refused = [api.post("/api/v2/pushes", json={"push": {"payload": "refused"}}, headers=owner)]
        if postgresql:
            refused += hot
        else:
            assert [r.status_code for r in hot] == [201, 201, 200]
        for answer in refused:
            assert answer.status_code == 503 and "busy" in answer.json()["error"], answer.text
    finally:
        for connection in held:
            connection.close()
    assert _pushes(runtime) == (1 if postgresql else 3)
    again = api.get(path, headers=owner)
    assert again.status_code == 200 and len(again.json()) == 1
    assert again.json()[0]["views_remaining"] == (2 if postgresql else 1)


@pytest.mark.sqlite_only
def test_the_purges_checkpoint_without_a_connection_free_is_the_busy_error_the_job_retries(make_runtime):
    from pwpush_app.core.db import DatabaseUnavailable
    from pwpush_app.core.purge import checkpoint

    runtime = make_runtime(PWPUSH_BUSY_TIMEOUT_MS=str(BUSY_MS))
    held = _take_every_connection(runtime.engine)
    try:
        with pytest.raises(DatabaseUnavailable, match="no database connection came free"):
            checkpoint(runtime)
    finally:
        for connection in held:
            connection.close()
    checkpoint(runtime)


@pytest.mark.sqlite_only
def test_a_loop_without_its_own_connection_waits_for_one_off_the_loop(make_runtime):
    """On SQLite the hot routes run on the event loop with a connection the loop keeps.  A
    loop that has none yet (a new worker, or after a failed transaction) with every pooled
    connection out must wait for one off the loop: the worker's other requests go on."""
    runtime = make_runtime(PWPUSH_BUSY_TIMEOUT_MS=str(BUSY_MS))
    held = _take_every_connection(runtime.engine)
    finished: list[str] = []

    async def answers():
        async with async_asgi_client(runtime) as client:
            async def create():
                response = await client.post("/api/v2/pushes", json={"push": {"payload": "no connection"}})
                finished.append(f"create {response.status_code}")

            async def version():
                await asyncio.sleep(0.05)  # once the create waits for its connection
                response = await client.get("/api/v2/version")
                finished.append(f"version {response.status_code}")

            await asyncio.gather(create(), version())

    try:
        worker = threading.Thread(target=asyncio.run, args=(answers(),))  # a loop with no kept connection
        worker.start()
        worker.join(30)
    finally:
        for connection in held:
            connection.close()
    assert finished == ["version 200", "create 503"]
    assert _pushes(runtime) == 0
