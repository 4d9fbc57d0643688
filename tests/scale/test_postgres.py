"""The production server on PostgreSQL (REFLEX_DB_URL=postgresql+psycopg://...): schema from
the migrations, a full API scenario, and exactly-once views under concurrent retrievals."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import create_engine, inspect, text

from tests.scale.conftest import issue_token


def test_migrations_built_the_schema_on_postgresql(pg_live):
    engine = create_engine(pg_live.env["REFLEX_DB_URL"])
    try:
        tables = set(inspect(engine).get_table_names())
        with engine.connect() as db:
            head = db.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    finally:
        engine.dispose()
    assert {"push", "audit_event", "pwpush_user", "job_lease", "alembic_version"} <= tables
    assert head


def test_api_scenario_create_retrieve_expired(pg_live):
    base = pg_live.url
    owner = {"Authorization": f"Bearer {issue_token(pg_live, 'pg-owner@example.com')}"}
    created = httpx.post(f"{base}/api/v2/pushes", headers=owner,
                         json={"push": {"payload": "pg secret ✓", "expire_after_views": 2, "note": "on postgres"}})
    assert created.status_code == 201, created.text
    token = created.json()["url_token"]

    first = httpx.get(f"{base}/api/v2/pushes/{token}", headers={"User-Agent": "viewer/1"}).json()
    assert first["payload"] == "pg secret ✓" and first["expired"] is False and first["views_remaining"] == 1
    second = httpx.get(f"{base}/api/v2/pushes/{token}").json()
    assert second["payload"] == "pg secret ✓" and second["views_remaining"] == 0 and second["expired"] is False
    gone = httpx.get(f"{base}/api/v2/pushes/{token}")
    assert gone.status_code == 200 and gone.json()["payload"] is None and gone.json()["expired"] is True

    kinds = [row["kind"] for row in httpx.get(f"{base}/api/v2/pushes/{token}/audit", headers=owner).json()["logs"]]
    assert kinds.count("view") == 2 and "creation" in kinds and "failed_view" in kinds
    expired_list = httpx.get(f"{base}/api/v2/pushes/expired", headers=owner).json()
    assert [row["expired"] for row in expired_list] == [True]

    # The owner expires a fresh push at once.
    other = httpx.post(f"{base}/api/v2/pushes", headers=owner, json={"push": {"payload": "short-lived"}}).json()
    assert httpx.delete(f"{base}/api/v2/pushes/{other['url_token']}", headers=owner).json()["expired"] is True
    assert httpx.get(f"{base}/api/v2/pushes/{other['url_token']}").json()["payload"] is None


def test_fifty_concurrent_retrievals_serve_a_one_view_secret_once(pg_live):
    base = pg_live.url
    token = httpx.post(f"{base}/api/v2/pushes",
                       json={"push": {"payload": "exactly once", "expire_after_views": 1}}).json()["url_token"]
    start = threading.Barrier(50)

    def retrieve(_):
        with httpx.Client(timeout=60) as client:  # one connection each
            start.wait(30)
            return client.get(f"{base}/api/v2/pushes/{token}")

    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(retrieve, range(50)))
    assert [a.status_code for a in answers] == [200] * 50
    payloads = [a.json()["payload"] for a in answers]
    assert payloads.count("exactly once") == 1 and payloads.count(None) == 49
