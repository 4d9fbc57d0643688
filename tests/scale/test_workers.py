"""Several granian workers with Redis (REFLEX_REDIS_URL) on PostgreSQL: requests cross
workers, the purge job runs once per period in total, rate limits are counted in one place."""

from __future__ import annotations

import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.scale.conftest import PER_MINUTE, PURGE_SECONDS, SCALED_WORKERS, issue_token
from tests.scale.workers import close_all, connections_by_worker, descendants

# They measure restart gaps and how workers share the load: run with the machine to themselves.
pytestmark = pytest.mark.alone


@pytest.fixture
def by_worker(scaled):
    groups = connections_by_worker(scaled.app.port)
    if len(groups) < 2:
        close_all(groups)
        groups = connections_by_worker(scaled.app.port, 40)
    yield groups
    close_all(groups)


def one_per_worker(groups) -> list:
    return [conns[0] for conns in groups.values()]


def test_connections_land_on_several_workers(by_worker):
    print({pid: len(c) for pid, c in by_worker.items()})
    assert 2 <= len(by_worker) <= SCALED_WORKERS


def test_api_scenario_crosses_workers(scaled, by_worker):
    # The app trusts one proxy hop: these requests play nginx and name their client.
    client = {"X-Forwarded-For": "198.51.100.21", "User-Agent": "cross-worker/1"}
    owner = {**client, "Authorization": f"Bearer {issue_token(scaled.app, 'workers@example.com')}"}
    a, b = one_per_worker(by_worker)[:2]
    status, _, created = a.request("POST", "/api/v2/pushes", {"push": {"payload": "across workers", "expire_after_views": 2}}, owner)
    assert status == 201, created
    token = created["url_token"]
    assert created["html_url"] == f"{scaled.nginx.url}/p/{token}"

    status, _, shown = b.request("GET", f"/api/v2/pushes/{token}", headers=client)
    assert status == 200 and shown["payload"] == "across workers" and shown["views_remaining"] == 1
    status, _, last = a.request("GET", f"/api/v2/pushes/{token}", headers=client)
    # The last view still shows the secret (expired false, as in Password Pusher); after it, nothing.
    assert last["payload"] == "across workers" and last["views_remaining"] == 0 and last["expired"] is False
    gone = b.request("GET", f"/api/v2/pushes/{token}", headers=client)[2]
    assert gone["payload"] is None and gone["expired"] is True

    _, _, audit = b.request("GET", f"/api/v2/pushes/{token}/audit", headers=owner)
    views = [row for row in audit["logs"] if row["kind"] == "view"]
    assert [(v["ip"], v["user_agent"]) for v in views] == [("198.51.100.21", "cross-worker/1")] * 2


def test_rate_limit_is_shared_by_the_workers(scaled, by_worker, redis_server):
    ip = "198.51.100.66"
    workers = one_per_worker(by_worker)
    answers = []
    for n in range(PER_MINUTE + 1):
        conn = workers[n % len(workers)]  # round-robin: each worker sees only some of them
        status, headers, _ = conn.request("POST", "/api/v2/pushes", {"push": {"payload": f"n{n}"}}, {"X-Forwarded-For": ip})
        answers.append((status, conn.pid, headers))
    assert [s for s, _, _ in answers] == [201] * PER_MINUTE + [429]
    assert len({pid for _, pid, _ in answers}) >= 2
    assert int(answers[-1][2]["retry-after"]) >= 1
    # Still refused on every worker, and counted in Redis (not in a worker's memory).
    for conn in workers:
        assert conn.request("POST", "/api/v2/pushes", {"push": {"payload": "more"}}, {"X-Forwarded-For": ip})[0] == 429
    keys = subprocess.run(["redis-cli", "-p", str(redis_server.port), "--scan", "--pattern", f"*{ip}*"],
                          capture_output=True, text=True, check=True).stdout.split()
    assert keys, "no rate-limit counter in Redis"
    # Another client is not affected.
    assert workers[0].request("POST", "/api/v2/pushes", {"push": {"payload": "other"}}, {"X-Forwarded-For": "198.51.100.67"})[0] == 201


def test_purge_runs_once_per_period_across_workers(scaled):
    """Each worker tries every PURGE_SECONDS; the lease lets one of them through per period.
    Every claim moves lease_until forward, so distinct values seen over a window = runs."""
    engine = create_engine(scaled.db_url)
    window = 10.0
    seen, holders = set(), set()
    try:
        deadline = time.monotonic() + window
        while time.monotonic() < deadline:
            with engine.connect() as db:
                row = db.execute(text("SELECT holder, lease_until FROM job_lease WHERE name = 'purge'")).one_or_none()
            if row:
                holders.add(row.holder)
                seen.add(row.lease_until)
            time.sleep(0.1)
    finally:
        engine.dispose()
    runs = len(seen) - 1  # the first value was claimed before the window opened
    per_worker_runs = SCALED_WORKERS * window / PURGE_SECONDS
    assert window / PURGE_SECONDS - 2 <= runs <= window / PURGE_SECONDS + 1, (runs, per_worker_runs)
    # The lease names the worker process that ran the job (not the parent that forked them).
    holder_pids = {int(h.rsplit(":", 1)[1]) for h in holders}
    assert holder_pids <= descendants(scaled.app.process.pid), holders
    print(f"purge runs in {window:.0f} s: {runs}; holders: {sorted(holders)}")


def test_the_workers_use_the_s3_bucket_for_files(scaled):
    """The purge job's hourly sweep of orphan blobs lists the bucket: it ran, from a worker,
    without an error in the log (a wrong endpoint or credentials would log a failure)."""
    engine = create_engine(scaled.db_url)
    try:
        deadline = time.monotonic() + 20
        swept = None
        while swept is None and time.monotonic() < deadline:
            with engine.connect() as db:
                swept = db.execute(text("SELECT holder FROM job_lease WHERE name = 'sweep-orphan-blobs'")).scalar()
            time.sleep(0.5)
    finally:
        engine.dispose()
    assert swept is not None
    log = scaled.app.log_text()
    assert "purge: failed" not in log and "Traceback" not in log, log[-3000:]


def test_concurrent_retrievals_on_several_workers_serve_the_secret_once(scaled):
    """The race that matters when workers share PostgreSQL: 30 recipients at once, each on
    its own connection (so spread over the workers), one view to give."""
    base = scaled.direct_url
    created = httpx.post(f"{base}/api/v2/pushes", headers={"X-Forwarded-For": "198.18.0.1"},
                         json={"push": {"payload": "one of thirty", "expire_after_views": 1}})
    token = created.json()["url_token"]
    start = threading.Barrier(30)

    def retrieve(n: int):
        with httpx.Client(timeout=60) as client:
            start.wait(30)
            # Each recipient its own address: the rate limit (5 a minute) is not what we test.
            return client.get(f"{base}/api/v2/pushes/{token}", headers={"X-Forwarded-For": f"198.18.1.{n + 1}"})

    with ThreadPoolExecutor(30) as pool:
        answers = list(pool.map(retrieve, range(30)))
    assert [a.status_code for a in answers] == [200] * 30
    payloads = [a.json()["payload"] for a in answers]
    assert payloads.count("one of thirty") == 1 and payloads.count(None) == 29
