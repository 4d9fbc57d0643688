"""Growth: how create and reveal latency, disk use and the purge job change as the store
grows from 1,000 to 1,000,000 live pushes (issue 9, part 6).

    .venv/bin/python -m bench growth [--quick] [--ops 500] [--no-http]

One SQLite database (the project's own engine: WAL, synchronous=FULL, secure_delete) grows
level by level.  A fast fill seals each push exactly as `create_push` does
(`pushes.seal_new_push`: its own data key, sealed payload and note, token digests, a
creation event) but inserts 10,000 rows per transaction; the fill is never timed.  At each
level:

- latency of `create_push` and `reveal_push` in-process, one after the other (`--ops` of
  each, interleaved: create, reveal, create, ...), each reveal on a different push picked
  at random from the whole store, so the index lookups are not served from a hot corner;
- the same over HTTP through the production server's v2 API (`POST /api/v2/pushes`,
  `GET /api/v2/pushes/{token}`), one keep-alive connection, the server started once on
  the same database file;
- the database's size on disk (main file + WAL after `wal_checkpoint(TRUNCATE)`);
- at the purge levels, the purge job (`purge_expired`, what the periodic job runs) on a
  batch of overdue pushes filled for the purpose (created two days ago with a one-day
  lifetime): phase 1 expires them (deletes their secrets, one `expire_auto` event each);
  phase 2, with `PWP__PURGE_AFTER_DAYS=1` and the clock moved a day on, deletes the
  expired records (their events go with them, ON DELETE CASCADE).

Writes bench/results/growth.json.
"""

from __future__ import annotations

import dataclasses
import random
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, insert, select, text

from bench.common import save
from pwpush_app.core import audit
from pwpush_app.core.audit import Client
from pwpush_app.core.clock import utcnow
from pwpush_app.core.create import NewPush, create_push, new_push_key, seal_new_push
from pwpush_app.core.db import migrate, transaction
from pwpush_app.core.models import AuditEvent, Push
from pwpush_app.core.purge import purge_expired
from pwpush_app.core.records import PUSHES, open_note
from pwpush_app.core.reveal import reveal_push
from pwpush_app.core.runtime import Runtime, open_runtime
from pwpush_app.settings import load_settings
from tests.servers import LiveServer, PostgresServer, free_port, make_env

LEVELS = (1_000, 10_000, 100_000, 1_000_000)
PURGE_AT = (100_000, 1_000_000)
PURGE_PUSHES = 100_000
QUICK_LEVELS = (1_000, 10_000)
QUICK_PURGE_AT = (10_000,)
QUICK_PURGE_PUSHES = 10_000

FILL_BATCH = 10_000
SECRET_BYTES = 100
# One push in ten carries a note, one in four a name (what the sender sees on the dashboard).
NOTE_EVERY = 10
NAME_EVERY = 4
# Filled pushes were created over the last three days with the default lifetime (7 days),
# so they are all live, and still live with the clock moved a day on for the purge's phase 2.
FILL_SPREAD = timedelta(days=3)
OVERDUE_AGE = timedelta(days=2)
OVERDUE_LIFETIME_MINUTES = 24 * 60
RETENTION_DAYS = 1
WARMUP_OPS = 20
VERIFY_SAMPLE = 50

FILL_CLIENT = Client(ip="198.51.100.23", user_agent="Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0", referrer="")
CLIENT = Client(ip="203.0.113.7", user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", referrer="")
SECRET = "s" * SECRET_BYTES


def secret_for(n: int) -> str:
    """Filled push n's secret: 100 bytes, different for each push, known for the checks."""
    return (f"{n:012d}-" * 8)[:SECRET_BYTES]


# Each filled push has the default 5 views: a measurement reveals it at most 4 times, so it
# stays live (the 1,000 level has fewer pushes than a level's reveals).
REVEALS_PER_PUSH = 4


@dataclass
class Store:
    runtime: Runtime
    # The SQLite file; None on PostgreSQL.
    db_file: Path | None
    # url_tokens[n] opens filled push n; `reveals[n]` counts the views measurements took.
    url_tokens: list[str] = field(default_factory=list)
    reveals: dict[int, int] = field(default_factory=dict)
    rng: random.Random = field(default_factory=lambda: random.Random(9))

    def pick_pushes(self, count: int) -> list[int]:
        """`count` random filled pushes to reveal (each one at most REVEALS_PER_PUSH times)."""
        left = REVEALS_PER_PUSH * len(self.url_tokens) - sum(self.reveals.values())
        if count > left:
            raise RuntimeError(f"{count} reveals asked, {left} views left in the store")
        picked: list[int] = []
        while len(picked) < count:
            n = self.rng.randrange(len(self.url_tokens))
            if self.reveals.get(n, 0) < REVEALS_PER_PUSH:
                self.reveals[n] = self.reveals.get(n, 0) + 1
                picked.append(n)
        return picked


# --- filling ---------------------------------------------------------------------------------

def fill(runtime: Runtime, first: int, count: int, overdue: bool = False) -> list[str]:
    """Store `count` pushes numbered from `first`, sealed by the core, 10,000 per transaction.

    Live pushes get the kind's defaults (5 views, 7 days) and were created in the last
    three days; overdue ones were created two days ago with a one-day lifetime.  (Sealing
    in a pool of processes was no faster on 2 cores: pickling the rows cost what it saved.)"""
    now = utcnow()
    tokens: list[str] = []
    for start in range(first, first + count, FILL_BATCH):
        pushes, events, batch_tokens = _seal_batch(runtime, start, min(start + FILL_BATCH, first + count), overdue, now)
        with transaction(runtime.engine) as db:
            db.execute(insert(PUSHES), pushes)
            db.execute(insert(AuditEvent.__table__), events)
        tokens += batch_tokens
    return tokens


def _seal_batch(runtime: Runtime, start: int, stop: int, overdue: bool, now: datetime) -> tuple[list[dict], list[dict], list[str]]:
    """Pushes `start` to `stop` as rows: what `create_push` would insert, and their tokens."""
    rng = random.Random(start)
    pushes, events, tokens = [], [], []
    for n in range(start, stop):
        created_at = now - (OVERDUE_AGE if overdue else rng.random() * FILL_SPREAD)
        request = NewPush(
            payload=secret_for(n),
            note=f"Ticket #{n}: database password for the staging cluster" if n % NOTE_EVERY == 0 else "",
            name=f"staging db {n}" if n % NAME_EVERY == 0 else "",
            expire_after_minutes=OVERDUE_LIFETIME_MINUTES if overdue else None,
        )
        created = seal_new_push(runtime, request, FILL_CLIENT, new_push_key(runtime), created_at)
        pushes.append({column.key: getattr(created.push, column.key) for column in PUSHES.c})
        events.append(audit.event_values(created.push.id, audit.CREATION, FILL_CLIENT, created_at))
        tokens.append(created.url_token)
    return pushes, events, tokens


def verify_filled(store: Store, sample: int = VERIFY_SAMPLE) -> int:
    """Reveal a random sample of filled pushes through the core: the rows are real pushes."""
    views_taken = dict(store.reveals)
    for n in store.pick_pushes(sample):
        views_taken[n] = views_taken.get(n, 0) + 1
        revealed = reveal_push(store.runtime, store.url_tokens[n], CLIENT)
        assert revealed.payload == secret_for(n), f"filled push {n} revealed a wrong payload"
        assert revealed.views_remaining == revealed.push.expire_after_views - views_taken[n]
        if n % NOTE_EVERY == 0:
            assert open_note(store.runtime, revealed.push).startswith(f"Ticket #{n}:")
    return sample


# --- measuring ---------------------------------------------------------------------------------

def latency(ms: list[float]) -> dict:
    ordered = sorted(ms)
    return {
        "ops": len(ms),
        "p50_ms": statistics.median(ordered),
        "p99_ms": ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))],
        "min_ms": ordered[0],
        "max_ms": ordered[-1],
    }


def in_process(store: Store, ops: int) -> dict:
    """create_push and reveal_push, interleaved; each reveal on a random filled push."""
    runtime = store.runtime
    creates, reveals = [], []
    picks = store.pick_pushes(ops + WARMUP_OPS)
    for i, n in enumerate(picks):
        started = time.perf_counter()
        create_push(runtime, NewPush(payload=SECRET), CLIENT)
        created = time.perf_counter()
        revealed = reveal_push(runtime, store.url_tokens[n], CLIENT)
        done = time.perf_counter()
        if revealed.payload != secret_for(n):
            raise AssertionError(f"push {n} revealed a wrong payload")
        if i >= WARMUP_OPS:
            creates.append((created - started) * 1000)
            reveals.append((done - created) * 1000)
    return {"create": latency(creates), "reveal": latency(reveals)}


def over_http(store: Store, url: str, ops: int) -> dict:
    """The same through the server's v2 API, one keep-alive connection."""
    creates, reveals = [], []
    picks = store.pick_pushes(ops + WARMUP_OPS)
    with httpx.Client(base_url=url, timeout=30) as client:
        for i, n in enumerate(picks):
            started = time.perf_counter()
            answer = client.post("/api/v2/pushes", json={"push": {"payload": SECRET}})
            created = time.perf_counter()
            shown = client.get(f"/api/v2/pushes/{store.url_tokens[n]}")
            done = time.perf_counter()
            if answer.status_code != 201 or shown.status_code != 200 or shown.json().get("payload") != secret_for(n):
                raise AssertionError(f"HTTP create {answer.status_code} / reveal {shown.status_code} of push {n}")
            if i >= WARMUP_OPS:
                creates.append((created - started) * 1000)
                reveals.append((done - created) * 1000)
    return {"create": latency(creates), "reveal": latency(reveals)}


def disk(store: Store) -> dict:
    """Main file + WAL after a TRUNCATE checkpoint, and how full the pages are
    (PostgreSQL: the database's size after a CHECKPOINT)."""
    if store.db_file is None:
        with store.runtime.engine.connect() as db:
            db.execute(text("CHECKPOINT"))
            size = db.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
        return {"total_bytes": size}
    connection = store.runtime.engine.raw_connection()
    try:
        cursor = connection.cursor()
        busy, log_frames, checkpointed = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        pages = cursor.execute("PRAGMA page_count").fetchone()[0]
        free = cursor.execute("PRAGMA freelist_count").fetchone()[0]
        page_size = cursor.execute("PRAGMA page_size").fetchone()[0]
    finally:
        connection.close()
    wal = store.db_file.with_name(store.db_file.name + "-wal")
    main_bytes = store.db_file.stat().st_size
    wal_bytes = wal.stat().st_size if wal.exists() else 0
    return {
        "main_bytes": main_bytes,
        "wal_bytes": wal_bytes,
        "total_bytes": main_bytes + wal_bytes,
        "free_pages_bytes": free * page_size,
        "pages": pages,
        "checkpoint_busy": busy,
    }


def counts(runtime: Runtime) -> dict:
    with transaction(runtime.engine, write=False) as db:
        live = db.execute(select(func.count()).select_from(Push).where(Push.expired == False)).scalar_one()  # noqa: E712
        expired = db.execute(select(func.count()).select_from(Push).where(Push.expired == True)).scalar_one()  # noqa: E712
        events = db.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    return {"live_pushes": live, "expired_pushes": expired, "audit_events": events}


# The statements behind the hot paths, as the core issues them (the engine's plan for each).
PLANS = {
    "reveal: take a view": (
        "UPDATE push SET views_remaining = views_remaining - 1, updated_at = :now "
        "WHERE token_digest IN (:digest) AND expired = false AND views_remaining > 0 "
        "AND expires_at > :now AND has_passphrase = false RETURNING id"
    ),
    "purge: overdue pushes": "SELECT id FROM push WHERE expired = false AND expires_at <= :now LIMIT 500",
    "purge: retention delete": "DELETE FROM push WHERE expired = true AND expired_at < :now",
    "purge: released file blobs": (
        "SELECT push_file.id FROM push_file JOIN push ON push.id = push_file.push_id "
        "WHERE push_file.blob_deleted = false AND push.expired = true LIMIT 500"
    ),
}


def query_plans(runtime: Runtime) -> dict:
    explain = "EXPLAIN QUERY PLAN " if runtime.engine.dialect.name == "sqlite" else "EXPLAIN "
    plans = {}
    with runtime.engine.connect() as db:
        for name, sql in PLANS.items():
            rows = db.execute(text(explain + sql), {"now": utcnow(), "digest": "x"}).all()
            plans[name] = [row[-1] for row in rows]
        db.rollback()  # EXPLAIN on PostgreSQL does not run the statement; nothing to undo anyway
    return plans


def purge_round(store: Store, size: int) -> dict:
    """Fill `size` overdue pushes (untimed), then time the purge job's two phases on them."""
    runtime = store.runtime
    first = len(store.url_tokens) + 10_000_000  # numbers apart from the live pushes
    fill(runtime, first, size, overdue=True)
    before = disk(store)
    started = time.perf_counter()
    expired = purge_expired(runtime)
    expire_seconds = time.perf_counter() - started
    if expired != size:
        raise AssertionError(f"purge expired {expired} pushes, expected {size}")
    after_expire = disk(store)
    before_delete = counts(runtime)
    keeping = dataclasses.replace(runtime, settings=dataclasses.replace(runtime.settings, purge_records_after_days=RETENTION_DAYS))
    started = time.perf_counter()
    purge_expired(keeping, now=utcnow() + timedelta(days=RETENTION_DAYS, minutes=1))
    delete_seconds = time.perf_counter() - started
    after = counts(runtime)
    deleted = before_delete["expired_pushes"] - after["expired_pushes"]
    return {
        "overdue_pushes": size,
        "expire_seconds": expire_seconds,
        "expire_seconds_per_100k": expire_seconds * 100_000 / size,
        "deleted_records": deleted,
        "delete_seconds": delete_seconds,
        "delete_seconds_per_100k": delete_seconds * 100_000 / max(deleted, 1),
        "disk_before": before,
        "disk_after_expire": after_expire,
        "disk_after_delete": disk(store),
        "live_pushes_after": after["live_pushes"],
    }


class ServerInBackground:
    """Our production server on the growing database, started while the first level fills
    (building the frontend takes a minute or more); measurements wait until it answers."""

    def __init__(self, **env: str):
        data = Path(tempfile.mkdtemp(prefix="pwpush-bench-")) / "data"
        # As bench.common.start_ours, kept at hand so that a failed start is cleaned up too.
        self.server = LiveServer(data, free_port(), {"PWP__THROTTLING__MINUTE": "1000000", **env})
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._start, daemon=True)
        self.thread.start()

    def _start(self) -> None:
        try:
            self.server.start()
        except BaseException as error:  # reported by ready()
            self.error = error

    def ready(self) -> LiveServer:
        self.thread.join(timeout=600)
        if self.thread.is_alive() or self.error:
            raise RuntimeError(f"our server did not start: {self.error}")
        return self.server

    def stop(self) -> None:
        self.thread.join(timeout=600)
        self.server.stop()
        shutil.rmtree(self.server.data_dir.parent, ignore_errors=True)


# --- the run -----------------------------------------------------------------------------------

def run(
    quick: bool = False, ops: int = 500, http: bool = True, purge_runs: int = 1, max_level: int | None = None,
    engine: str = "sqlite",
) -> dict:
    levels, purge_at, purge_size = (
        (QUICK_LEVELS, QUICK_PURGE_AT, QUICK_PURGE_PUSHES) if quick else (LEVELS, PURGE_AT, PURGE_PUSHES)
    )
    if max_level:
        levels = tuple(level for level in levels if level <= max_level)
    data = Path(tempfile.mkdtemp(prefix="pwpush-growth-"))
    postgres = PostgresServer() if engine == "postgresql" else None
    store: Store | None = None
    server: ServerInBackground | None = None
    results: list[dict] = []
    began = time.monotonic()
    # A SIGTERM still runs the clean-up below (servers, temp folders).
    previous_handler = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        if postgres:
            postgres.start().sql("CREATE DATABASE growth")
        db_file = None if postgres else data / "pwpush.db"
        env = make_env(data, REFLEX_DB_URL=postgres.url("growth") if postgres else f"sqlite:///{db_file}")
        migrate(env["REFLEX_DB_URL"])
        store = Store(open_runtime(load_settings(env)), db_file)
        empty = disk(store)["total_bytes"]
        if http:
            # The server's own purge runs once at start (nothing is overdue yet), then not
            # for a day: the purge measured here is ours alone.
            server = ServerInBackground(
                REFLEX_DB_URL=env["REFLEX_DB_URL"], PWPUSH_MASTER_KEY=env["PWPUSH_MASTER_KEY"],
                PWPUSH_PURGE_INTERVAL_SECONDS=str(24 * 3600),
            )
        for level in levels:
            started = time.monotonic()
            store.url_tokens += fill(store.runtime, len(store.url_tokens), level - len(store.url_tokens))
            fill_seconds = time.monotonic() - started
            url = server.ready().url if server else None
            started = time.monotonic()
            row = {"level": level, "fill_seconds": fill_seconds, "verified": verify_filled(store)}
            row["in_process"] = in_process(store, ops)
            if url:
                row["http"] = over_http(store, url, ops)
            row["counts"] = counts(store.runtime)
            row["disk"] = disk(store)
            row["bytes_per_push"] = (row["disk"]["total_bytes"] - empty) / (
                row["counts"]["live_pushes"] + row["counts"]["expired_pushes"]
            )
            row["plans"] = query_plans(store.runtime)
            if level in purge_at:
                row["purge"] = [purge_round(store, purge_size) for _ in range(purge_runs)]
            row["measure_seconds"] = time.monotonic() - started
            results.append(row)
            print(_level_line(row), flush=True)
    finally:
        signal.signal(signal.SIGTERM, previous_handler)
        if server:
            server.stop()
        if store:
            store.runtime.engine.dispose()
        if postgres:
            postgres.stop()
        shutil.rmtree(data, ignore_errors=True)
    payload = {
        "engine": "postgresql (Debian's, default settings)" if postgres else "sqlite (WAL, synchronous=FULL, secure_delete=ON)",
        "quick": quick,
        "levels_run": list(levels),
        "ops_per_level": ops,
        "secret_bytes": SECRET_BYTES,
        "fill": {"batch_rows": FILL_BATCH, "note_every": NOTE_EVERY, "name_every": NAME_EVERY},
        "purge_pushes": purge_size,
        "retention_days": RETENTION_DAYS,
        "empty_bytes": empty,
        "levels": results,
        "purge_summary": _purge_summary(results),
        "total_seconds": time.monotonic() - began,
    }
    save("growth" if engine == "sqlite" else f"growth-{engine}", payload)
    return payload


def _purge_summary(results: list[dict]) -> dict:
    rounds = [r for row in results for r in row.get("purge", [])]
    if not rounds:
        return {}
    return {
        "expire_seconds_per_100k": _spread([r["expire_seconds_per_100k"] for r in rounds]),
        "delete_seconds_per_100k": _spread([r["delete_seconds_per_100k"] for r in rounds]),
    }


def _spread(values: list[float]) -> dict:
    return {"min": min(values), "median": statistics.median(values), "max": max(values), "runs": len(values)}


def _level_line(row: dict) -> str:
    p = row["in_process"]
    return (
        f"level {row['level']:,}: fill {row['fill_seconds']:.1f} s, create p50 {p['create']['p50_ms']:.2f} ms, "
        f"reveal p50 {p['reveal']['p50_ms']:.2f} ms, {row['disk']['total_bytes'] / 1e6:.1f} MB, "
        f"measuring took {row['measure_seconds']:.0f} s"
    )


def _ms(l: dict) -> str:
    return f"{l['p50_ms']:.2f} / {l['p99_ms']:.2f} ({l['min_ms']:.2f}-{l['max_ms']:.2f})"


def table(payload: dict) -> str:
    has_http = any("http" in row for row in payload["levels"])
    head = "| stored pushes | create ms in-process | reveal ms in-process |"
    rule = "|---|---|---|"
    if has_http:
        head += " create ms HTTP | reveal ms HTTP |"
        rule += "---|---|"
    head += " database MB | bytes per push |"
    rule += "---|---|"
    lines = [f"{payload['engine']}. Latency: p50 / p99 (min-max) over {payload['ops_per_level']} ops per level.", "", head, rule]
    for row in payload["levels"]:
        cells = [f"{row['level']:,}", _ms(row["in_process"]["create"]), _ms(row["in_process"]["reveal"])]
        if has_http:
            cells += [_ms(row["http"]["create"]), _ms(row["http"]["reveal"])] if "http" in row else ["-", "-"]
        cells += [f"{row['disk']['total_bytes'] / 1e6:.1f}", f"{row['bytes_per_push']:.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    purges = [(row["level"], r) for row in payload["levels"] for r in row.get("purge", [])]
    if purges:
        lines += [
            "",
            "| stored pushes | overdue pushes | expire: s (s per 100k) | delete records: s (s per 100k) "
            "| MB before / after expire / after delete | free MB after delete |",
            "|---|---|---|---|---|---|",
        ]
        for level, r in purges:
            lines.append(
                f"| {level:,} | {r['overdue_pushes']:,} | {r['expire_seconds']:.1f} ({r['expire_seconds_per_100k']:.1f}) "
                f"| {r['delete_seconds']:.1f} ({r['delete_seconds_per_100k']:.1f}) "
                f"| {r['disk_before']['total_bytes'] / 1e6:.1f} / {r['disk_after_expire']['total_bytes'] / 1e6:.1f} "
                f"/ {r['disk_after_delete']['total_bytes'] / 1e6:.1f} "
                f"| {r['disk_after_delete'].get('free_pages_bytes', 0) / 1e6:.1f} |"
            )
    lines += ["", f"Total run time: {payload['total_seconds']:.0f} s."]
    return "\n".join(lines)
