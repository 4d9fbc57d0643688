"""Password Pusher's own API integration tests, ported: the helpers they share.

pglombardo/PasswordPusher's test/integration/api/ and test/integration/{password,
file_push,url,qr}/*_json_* drive its Rails app in-process.  Ours re-express their
assertions (each test keeps its upstream name) against our production server over real
HTTP (the session's `live_server`), or in-process through the same ASGI app where a test
needs settings of its own (a second production server would rebuild the pages).

Where we answer differently on purpose, the test asserts our answer and names the
deviation in docs/compatibility.md; nothing else differs.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from typing import Callable

import httpx
import pytest

from pwpush_app.core.accounts import issue_api_token
from tests.api.conftest import PEER, asgi_client
from tests.conftest import ROOT

# Keys we add to Password Pusher's push JSON (docs/compatibility.md, "Extra keys").
OUR_KEYS = {"kind", "expire_after_minutes", "expires_at", "manage_url"}
# Audit events we log beside Password Pusher's (docs/compatibility.md, "expire_auto").
OUR_EVENTS = {"expire_auto"}
# What `passphrase` says while one is set: never the passphrase (docs/compatibility.md).
PASSPHRASE_MASK = "********"
# test/fixtures/files/monkey.png stands in: any bytes make a file.
MONKEY = ("monkey.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "image/jpeg")
LUCA = "luca@example.org"


def upstream_keys(push: dict) -> list[str]:
    """The push's keys as Password Pusher would list them (ours left out), sorted."""
    return sorted(set(push) - OUR_KEYS)


def except_keys(push: dict, *keys: str) -> dict:
    """Ruby's Hash#except, on Password Pusher's keys."""
    return {k: v for k, v in push.items() if k not in keys and k not in OUR_KEYS}


def audit_rows(body: dict, root: str = "views") -> list[dict]:
    """The audit rows as its tests compare them: without the times and our extra events."""
    return [{k: v for k, v in row.items() if k not in ("created_at", "updated_at")}
            for row in body[root] if row["kind"] not in OUR_EVENTS]


@dataclass
class Site:
    """One server under test, and what its tests need to know about it."""

    client: httpx.Client
    # The client address the server logs for this client's requests.
    ip: str
    user_agent: str
    count_failed_passphrases: Callable[[], int]
    make_user: Callable[[str], dict]

    def get(self, *a, **k):
        return self.client.get(*a, **k)

    def post(self, *a, **k):
        return self.client.post(*a, **k)

    def delete(self, *a, **k):
        return self.client.delete(*a, **k)


def _sqlite_count(path) -> Callable[[], int]:
    def count() -> int:
        with sqlite3.connect(path) as db:
            return db.execute("SELECT count(*) FROM audit_event WHERE kind = 'failed_passphrase'").fetchone()[0]
    return count


@pytest.fixture(scope="session")
def _live_users(live_server):
    made: dict[str, dict] = {}

    def make_user(email: str) -> dict:
        if email not in made:
            done = subprocess.run([sys.executable, "-m", "pwpush_app", "create-token", email], cwd=ROOT,
                                  env=live_server.env, capture_output=True, text=True, timeout=120, check=True)
            made[email] = {"X-User-Email": email, "X-User-Token": done.stdout.strip()}
        return made[email]

    return make_user


@pytest.fixture
def site(live_server, _live_users):
    """Our production server over HTTP; requests carry no User-Agent, as Rails' tests send none."""
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        del client.headers["user-agent"]
        yield Site(client, "127.0.0.1", "", _sqlite_count(live_server.data_dir / "pwpush.db"), _live_users)


@pytest.fixture
def luca(site):
    return site.make_user(LUCA)


@pytest.fixture
def make_site(make_runtime):
    """The same app in-process on a fresh database, with settings of a test's own."""
    clients = []

    def build(**env) -> Site:
        runtime = make_runtime(**env)
        client = asgi_client(runtime)
        clients.append(client)

        def count() -> int:
            with runtime.engine.connect() as db:
                return db.exec_driver_sql(
                    "SELECT count(*) FROM audit_event WHERE kind = 'failed_passphrase'").scalar_one()

        def make_user(email: str) -> dict:
            _user, token = issue_api_token(runtime, email)
            return {"X-User-Email": email, "X-User-Token": token}

        return Site(client, PEER, "api-tests/1.0", count, make_user)

    yield build
    for client in clients:
        client.close()
