"""The database locked or gone: a clear 503 with Retry-After, nothing half-done, no view lost.

- SQLite locked by another process holding a write transaction longer than the busy
  timeout (PWPUSH_BUSY_TIMEOUT_MS, short here): over HTTP, on the production server.
- PostgreSQL stopped and started again: through the API in-process.
- PostgreSQL unreachable (every packet to it dropped) and back: through the API in-process.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from pwpush_app.core.db import migrate
from pwpush_app.core.records import find_push
from pwpush_app.core.runtime import open_runtime
from pwpush_app.settings import load_settings
from tests.api.conftest import asgi_client, async_asgi_client
from tests.core.common import audit_kinds
from tests.servers import LiveServer, PostgresServer, free_port, make_env
from tests.ui.ui_helpers import wait_for_secret

from .support import counts, create_via_api, server_runtime

BUSY = "The database is busy or unreachable; nothing was changed. Try again shortly."
BUSY_PAGE = "The service is busy right now. Please try again in a moment."


def assert_busy_answer(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) > 0
    assert response.json() == {"error": BUSY}
    assert "Traceback" not in response.text and "sqlite" not in response.text.lower()


def hold_write_lock(db_path) -> subprocess.Popen:
    """Another process takes SQLite's write lock and keeps it until killed."""
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sqlite3, sys, time
        db = sqlite3.connect({str(db_path)!r}, isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        db.execute("UPDATE push SET updated_at = updated_at")
        print("locked", flush=True)
        time.sleep(120)
    """)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_sqlite_locked_by_another_process_answers_503_and_loses_nothing(tmp_path, chromium_for_one_test):
    server = LiveServer(tmp_path / "data", free_port(), {"PWPUSH_BUSY_TIMEOUT_MS": "500"})
    server.start()
    runtime = server_runtime(server)
    try:
        secret = "locked-out-secret-4471"
        created = create_via_api(server.url, secret, expire_after_views=2, deletable_by_viewer=True)
        token = created["url_token"]
        before = counts(runtime)
        page = chromium_for_one_test.new_page()
        page.goto(created["html_url"])
        page.wait_for_selector("#reveal")

        holder = hold_write_lock(server.data_dir / "pwpush.db")
        try:
            with httpx.Client(base_url=server.url, timeout=30) as client:
                assert_busy_answer(client.post("/api/v2/pushes", json={"push": {"payload": "never stored 1"}}))
                assert_busy_answer(client.post("/p.json", data={"password[payload]": "never stored 2"}))
                assert_busy_answer(client.get(f"/api/v2/pushes/{token}"))
                assert_busy_answer(client.delete(f"/api/v2/pushes/{token}"))
                # Readers don't wait for the writer: the link's preview still answers.
                assert client.get(f"/api/v2/pushes/{token}/preview").status_code == 200
            # The reveal page says what to do, in its own words, and shows no secret.
            page.click("#reveal")
            page.wait_for_selector(f"#reveal-message:has-text('{BUSY_PAGE}')")
            assert secret not in page.content() and "sqlite" not in page.content().lower()
        finally:
            holder.kill()
            holder.wait()

        assert counts(runtime) == before  # no push, no audit row, half-written or whole
        stored = find_push(runtime, token)
        assert stored.views_remaining == 2 and not stored.expired  # no view lost
        # Back to normal at once: both views are still there to reveal, the first by trying again.
        page.click("#reveal")
        assert wait_for_secret(page) == secret
        page.close()
        assert httpx.get(f"{server.url}/api/v2/pushes/{token}").json()["payload"] == secret
        assert find_push(runtime, token).expired
        assert "database unavailable" in server.log_text()  # the admin sees why
        assert "Traceback" not in server.log_text()
    finally:
        runtime.engine.dispose()
        server.stop()


@pytest.fixture
def private_postgres():
    """Our own PostgreSQL (the session's is shared: stopping it would break other tests)."""
    server = PostgresServer().start()
    yield server
    server.stop()


def test_postgresql_stopped_answers_503_and_loses_nothing(tmp_path, private_postgres):
    migrate(private_postgres.url())
    runtime = open_runtime(load_settings(make_env(tmp_path / "data", REFLEX_DB_URL=private_postgres.url())))
    api = asgi_client(runtime)
    try:
        secret = "pg-outage-secret-9013"
        created = api.post("/api/v2/pushes", json={"push": {"payload": secret, "expire_after_views": 2,
                                                             "deletable_by_viewer": True}})
        assert created.status_code == 201
        token = created.json()["url_token"]
        before = counts(runtime)

        private_postgres.pause()
        assert_busy_answer(api.post("/api/v2/pushes", json={"push": {"payload": "never stored"}}))
        assert_busy_answer(api.get(f"/api/v2/pushes/{token}"))
        assert_busy_answer(api.get(f"/api/v2/pushes/{token}/preview"))
        assert_busy_answer(api.delete(f"/api/v2/pushes/{token}"))
        assert api.get("/api/v2/version").status_code == 200  # what needs no database still works

        private_postgres.resume()
        assert counts(runtime) == before
        stored = find_push(runtime, token)
        assert stored.views_remaining == 2 and not stored.expired
        assert api.get(f"/api/v2/pushes/{token}").json()["payload"] == secret
        assert api.get(f"/api/v2/pushes/{token}").json()["payload"] == secret
        assert audit_kinds(runtime, stored.id) == ["creation", "view", "view", "expire_auto"]
    finally:
        api.close()
        runtime.engine.dispose()


def assert_unchanged_then_served(runtime, api, before: dict, token: str, secret: str) -> None:
    """After the trouble: no row written, the push's two views kept, and served again."""
    assert counts(runtime) == before
    assert find_push(runtime, token).views_remaining == 2
    assert api.get(f"/api/v2/pushes/{token}").json()["payload"] == secret


IPTABLES_TAG = "pwpush-test-unreachable"


@contextmanager
def packets_to_port_dropped(port: int) -> Iterator[None]:
    """The network to a server drops everything (its host froze, a cable was pulled): no
    answer, not even a refusal. iptables on loopback, as root (how `make test` runs), first
    in the chain (a host firewall may accept loopback earlier); tagged, so a rule left by a
    killed run is removed by the next."""
    rule = ["-p", "tcp", "-i", "lo", "--dport", str(port), "-m", "comment", "--comment", IPTABLES_TAG, "-j", "DROP"]
    subprocess.run(["iptables", "-w", "10", "-I", "INPUT", "1", *rule], check=True, capture_output=True)
    try:
        yield
    finally:
        subprocess.run(["iptables", "-w", "10", "-D", "INPUT", *rule], check=True, capture_output=True)


def drop_stale_rules() -> None:
    listed = subprocess.run(["iptables", "-w", "10", "-S", "INPUT"], check=True, capture_output=True, text=True).stdout
    for line in listed.splitlines():
        if IPTABLES_TAG in line and line.startswith("-A "):
            subprocess.run(["iptables", "-w", "10", "-D", *shlex.split(line)[1:]], check=True, capture_output=True)


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("iptables"), reason="needs root and iptables (make test has both)")
def test_postgresql_unreachable_answers_503_within_seconds_and_loses_nothing(tmp_path, private_postgres):
    """libpq's own waits would hold each request for minutes (a connection: ~2; an answer on
    an open one: ~15, the kernel's retransmissions); core/db.py bounds them (POSTGRESQL_WAITS)."""
    drop_stale_rules()
    migrate(private_postgres.url())
    runtime = open_runtime(load_settings(make_env(tmp_path / "data", REFLEX_DB_URL=private_postgres.url())))
    api = asgi_client(runtime)
    try:
        created = api.post("/api/v2/pushes", json={"push": {"payload": "pg-unreachable-secret-5521",
                                                             "expire_after_views": 2}})
        assert created.status_code == 201
        token = created.json()["url_token"]
        before = counts(runtime)

        with packets_to_port_dropped(private_postgres.port):
            started = time.monotonic()
            assert_busy_answer(api.post("/api/v2/pushes", json={"push": {"payload": "never stored"}}))
            assert_busy_answer(api.get(f"/api/v2/pushes/{token}"))
            waited = time.monotonic() - started
            assert api.get("/api/v2/version").status_code == 200
        print(f"two requests to an unreachable PostgreSQL answered 503 in {waited:.1f} s")
        assert waited < 90  # bounded: a connection 5 s, an answer 10 s (libpq alone: minutes each)

        assert_unchanged_then_served(runtime, api, before, token, "pg-unreachable-secret-5521")
    finally:
        api.close()
        runtime.engine.dispose()


def test_a_postgresql_table_held_by_another_transaction_answers_503_and_loses_nothing(tmp_path, postgres):
    """An administrator's open transaction (or a migration run by hand) holds the push table:
    requests wait PWPUSH_BUSY_TIMEOUT_MS for it (PostgreSQL's lock_timeout), not forever."""
    import psycopg

    name = f"locked_{os.urandom(4).hex()}"
    postgres.sql(f"CREATE DATABASE {name} TEMPLATE pwpush_template")
    runtime = open_runtime(load_settings(make_env(tmp_path / "data", REFLEX_DB_URL=postgres.url(name),
                                                  PWPUSH_BUSY_TIMEOUT_MS="500")))
    api = asgi_client(runtime)
    try:
        created = api.post("/api/v2/pushes", json={"push": {"payload": "held-table-secret-3307", "expire_after_views": 2}})
        assert created.status_code == 201
        token = created.json()["url_token"]
        before = counts(runtime)

        with psycopg.connect(f"host=127.0.0.1 port={postgres.port} user=postgres dbname={name}") as holder:
            holder.execute("LOCK TABLE push IN ACCESS EXCLUSIVE MODE")  # held until the block ends
            assert_busy_answer(api.post("/api/v2/pushes", json={"push": {"payload": "never stored"}}))
            assert_busy_answer(api.get(f"/api/v2/pushes/{token}"))
            holder.rollback()

        assert_unchanged_then_served(runtime, api, before, token, "held-table-secret-3307")
    finally:
        api.close()
        runtime.engine.dispose()


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


@contextmanager
def processes_stopped(root: int) -> Iterator[None]:
    """PostgreSQL hung on a live host (stuck I/O, a stopped process): its host still answers
    TCP, so neither a connect timeout nor the network's give up; nothing answers. `root` is
    PostgreSQL, or runuser starting it as root: runuser is left running, but it stops itself
    when it sees its child stopped (as su does for job control), maybe only after the child
    was continued, so it is continued whenever found stopped for a while after."""
    wrapper = Path(f"/proc/{root}/comm").read_text().strip() == "runuser"
    pids = _descendants(root) + ([] if wrapper else [root])
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
        until = time.monotonic() + 3
        while wrapper and time.monotonic() < until:
            if _state(root) == "T":
                os.kill(root, signal.SIGCONT)
            time.sleep(0.05)


def test_a_hung_postgresql_holds_no_more_than_the_pools_threads_the_rest_are_told_busy(tmp_path, private_postgres):
    """A request that reached a hung PostgreSQL waits for it (psycopg has no client-side
    deadline): at most as many per worker as the pool keeps connections. Every other create
    is told busy after PWPUSH_BUSY_TIMEOUT_MS, and what needs no database still answers."""
    migrate(private_postgres.url())
    runtime = open_runtime(load_settings(make_env(tmp_path / "data", REFLEX_DB_URL=private_postgres.url(),
                                                  PWPUSH_BUSY_TIMEOUT_MS="1000")))
    kept, extra = runtime.engine.pool.size(), 4

    async def stall() -> tuple[list, list, int, float]:
        async with async_asgi_client(runtime, timeout=120) as api:
            assert (await api.post("/api/v2/pushes", json={"push": {"payload": "before the hang"}})).status_code == 201
            with processes_stopped(private_postgres.process.pid):
                started = time.monotonic()
                sends = [asyncio.ensure_future(api.post("/api/v2/pushes", json={"push": {"payload": f"hung-{n}"}}))
                         for n in range(kept + extra)]
                await asyncio.sleep(2.5)  # past the 1 s wait for a thread, before libpq's 5 s connect timeout
                early = [send.result() for send in sends if send.done()]
                version = (await api.get("/api/v2/version")).status_code
                took = time.monotonic() - started
            return early, await asyncio.gather(*sends), version, took  # PostgreSQL answers again

    try:
        early, every, version, took = asyncio.run(stall())
        assert version == 200 and took < 5  # what needs no database answered during the hang
        assert [a.status_code for a in early] == [503] * extra
        assert {a.json()["error"] for a in early} == {"The server is busy right now; nothing was changed. Try again shortly."}
        # The ones that reached PostgreSQL waited for it and were stored once it answered.
        assert sorted(a.status_code for a in every) == [201] * kept + [503] * extra
        assert counts(runtime)["pushes"] == 1 + kept
    finally:
        runtime.engine.dispose()
