"""Disk per push, measured: create N pushes through the core (100-byte secret, a note, one
view each, as most pushes live), then read the database's size on SQLite and PostgreSQL.

    .venv/bin/python -m bench sizing [--pushes 10000]

Writes bench/results/sizing.json; docs/deploy.md sizes a deployment from it.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path

from sqlalchemy import text

from bench.common import save
from pwpush_app.core.audit import Client
from pwpush_app.core.create import NewPush, create_push
from pwpush_app.core.db import migrate
from pwpush_app.core.reveal import reveal_push
from pwpush_app.core.runtime import open_runtime
from pwpush_app.settings import load_settings
from tests.servers import PostgresServer, make_env

SECRET = "s" * 100
CLIENT = Client(ip="203.0.113.7", user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", referrer="", user_id=None)


def _fill(db_url: str, data_dir: Path, pushes: int, measure) -> dict:
    migrate(db_url)
    runtime = open_runtime(load_settings(make_env(data_dir, REFLEX_DB_URL=db_url)))
    empty = measure(runtime)
    tokens = []
    for n in range(pushes):
        new = NewPush(payload=SECRET, note=f"ticket {n}", expire_after_views=2)
        tokens.append(create_push(runtime, new, CLIENT).url_token)
    active = measure(runtime)
    for token in tokens:
        reveal_push(runtime, token, CLIENT)  # one of two views: still active, one view row more
    viewed = measure(runtime)
    runtime.engine.dispose()
    return {
        "empty_bytes": empty,
        "bytes_per_push_created": (active - empty) / pushes,
        "bytes_per_push_created_and_viewed": (viewed - empty) / pushes,
    }


def sqlite(pushes: int) -> dict:
    data = Path(tempfile.mkdtemp(prefix="pwpush-sizing-"))
    db_file = data / "pwpush.db"

    def measure(runtime) -> int:
        runtime.engine.dispose()  # the pool's connections would hold the WAL open
        with sqlite3.connect(db_file) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return db_file.stat().st_size

    try:
        return _fill(f"sqlite:///{db_file}", data, pushes, measure)
    finally:
        shutil.rmtree(data, ignore_errors=True)


def postgresql(pushes: int) -> dict:
    server = PostgresServer().start()
    try:
        server.sql("CREATE DATABASE sizing")

        def measure(runtime) -> int:
            with runtime.engine.connect() as db:
                db.execute(text("CHECKPOINT"))
                return db.execute(text("SELECT pg_database_size(current_database())")).scalar_one()

        data = Path(tempfile.mkdtemp(prefix="pwpush-sizing-"))
        try:
            return _fill(server.url("sizing"), data, pushes, measure)
        finally:
            shutil.rmtree(data, ignore_errors=True)
    finally:
        server.stop()


def run(pushes: int = 10_000) -> dict:
    payload = {"pushes": pushes, "secret_bytes": len(SECRET), "sqlite": sqlite(pushes), "postgresql": postgresql(pushes)}
    save("sizing", payload)
    return payload


def table(payload: dict) -> str:
    lines = ["| engine | bytes per push (created) | bytes per push (created + 1 view) |", "|---|---|---|"]
    for engine in ("sqlite", "postgresql"):
        r = payload[engine]
        lines.append(f"| {engine} | {r['bytes_per_push_created']:.0f} | {r['bytes_per_push_created_and_viewed']:.0f} |")
    return "\n".join(lines)
