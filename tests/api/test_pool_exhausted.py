"""Every database connection taken (a burst of slow requests, a hung PostgreSQL): a request
that finds none free within PWPUSH_BUSY_TIMEOUT_MS gets the busy answer (503, Retry-After,
nothing changed), not SQLAlchemy's pool timeout as a server error after 30 s."""

from __future__ import annotations

import time

import pytest
import sqlalchemy.exc
from sqlalchemy import text

from pwpush_app.core.accounts import issue_api_token

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
    _user, token = issue_api_token(runtime, "alice@example.com")
    owner = {"Authorization": f"Bearer {token}"}
    assert api.post("/api/v2/pushes", json={"push": {"payload": "before"}}, headers=owner).status_code == 201
    held = _take_every_connection(runtime.engine)
    try:
        started = time.monotonic()
        listed = api.get(path, headers=owner)
        waited = time.monotonic() - started
        assert listed.status_code == 503, listed.text
        assert "busy" in listed.json()["error"] and listed.headers["Retry-After"]
        assert "Traceback" not in listed.text and "QueuePool" not in listed.text
        assert waited < BUSY_MS / 1000 + 5, f"waited {waited:.1f} s for a connection"
        # A create that needs a connection of its own is refused the same way, and stores nothing.
        if runtime.engine.dialect.name == "postgresql":
            created = api.post("/api/v2/pushes", json={"push": {"payload": "refused"}}, headers=owner)
            assert created.status_code == 503 and "busy" in created.json()["error"], created.text
    finally:
        for connection in held:
            connection.close()
    assert _pushes(runtime) == 1
    again = api.get(path, headers=owner)
    assert again.status_code == 200 and len(again.json()) == 1
