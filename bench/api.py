"""API throughput: create-then-retrieve cycles/s and latency, ours vs SnapPass vs our ceilings.

    .venv/bin/python -m bench api [--seconds 10] [--runs 3] [--setups full,full2,normal,pg1,pg2]

Ours runs in several setups (`SETUPS`), each its own production server, all measured in
the same run, interleaved with SnapPass run by run, so drift on the machine hits them all
alike.  The table gives each setup's ratio to SnapPass's cycles/s in the same run.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from bench.common import BenchServer, SnapPass, cpu_seconds, spread, start_ours, wrk
from bench.files import NullServer
from tests.servers import PostgresServer, RedisServer, free_port

# What `--before` copies of another checkout to run it.
APP_FILES = ("pwpush_app", "alembic", "alembic.ini", "rxconfig.py", "reflex.lock", "assets", ".web")

CONCURRENCY = (1, 8, 32)

# name: (what it is, engine, durability, workers)
SETUPS = {
    "full": ("SQLite, FULL (every answer after its fsync), 1 worker", "sqlite", "FULL", 1),
    "full2": ("SQLite, FULL, 2 workers (+ Redis)", "sqlite", "FULL", 2),
    "normal": ("SQLite, NORMAL (no fsync per commit), 1 worker", "sqlite", "NORMAL", 1),
    "normal2": ("SQLite, NORMAL, 2 workers (+ Redis)", "sqlite", "NORMAL", 2),
    "pg1": ("PostgreSQL (psycopg, pooled), 1 worker", "postgresql", "FULL", 1),
    "pg2": ("PostgreSQL, 2 workers (+ Redis)", "postgresql", "FULL", 2),
}
DEFAULT_SETUPS = ("full", "full2", "normal", "pg1", "pg2")


def _start_before(checkout: Path) -> BenchServer:
    """The same server (1 worker, SQLite, FULL) from another checkout (e.g. main before a
    change), run by this checkout's Python: `--before /path/to/checkout`."""
    app_dir = Path(tempfile.mkdtemp(prefix="pwpush-before-"))
    for name in APP_FILES:
        source = checkout / name
        if source.is_dir():
            skip = {"build", ".react-router"} if name == ".web" else set()
            shutil.copytree(source, app_dir / name, symlinks=True,
                            ignore=lambda folder, names: ({"__pycache__"} | (skip if Path(folder) == source else set())) & set(names))
        elif source.exists():
            shutil.copy2(source, app_dir / name)
    data = Path(tempfile.mkdtemp(prefix="pwpush-bench-")) / "data"
    server = BenchServer(data, free_port(), {"PWP__THROTTLING__MINUTE": "1000000"}, isolated=True)
    server.app_dir = app_dir
    server.start()
    return server


def _start(setup: str, postgres: PostgresServer | None, redis: RedisServer | None):
    _, engine, durability, workers = SETUPS[setup]
    env = {"PWPUSH_SQLITE_SYNCHRONOUS": durability, "GRANIAN_WORKERS": str(workers)}
    if workers > 1:
        env["REFLEX_REDIS_URL"] = redis.url  # Reflex needs it for several workers; rate limits shared too
    if engine == "postgresql":
        name = f"bench_{setup}_{os.urandom(3).hex()}"
        postgres.sql(f"CREATE DATABASE {name}")
        env["REFLEX_DB_URL"] = postgres.url(name)
    return start_ours(**env)


def run(seconds: int = 10, runs: int = 3, setups: tuple[str, ...] = DEFAULT_SETUPS, before: str | None = None) -> dict:
    needs_pg = any(SETUPS[s][1] == "postgresql" for s in setups)
    load_before = os.getloadavg()
    needs_redis = any(SETUPS[s][3] > 1 for s in setups)
    postgres = PostgresServer().start() if needs_pg else None
    redis = RedisServer().start() if needs_redis else None
    servers, peer, bare = {}, None, None
    try:
        for setup in setups:
            servers[setup] = _start(setup, postgres, redis)
        if before:
            servers["before"] = _start_before(Path(before))
            setups = (*setups, "before")
        peer = SnapPass()
        bare = NullServer()
        ours = servers[setups[0]]
        # Whose CPU a run costs: each server's process tree (and the Redis of the setups with
        # several workers; PostgreSQL's is not counted); SnapPass's gunicorn tree and its Redis.
        pids = {s: [servers[s].process.pid] + ([redis.process.pid] if s in SETUPS and SETUPS[s][3] > 1 else [])
                for s in setups}
        pids["snappass"] = [peer.process.pid, peer.redis.process.pid]
        pids["ceiling"] = pids["ceiling_api"] = [ours.process.pid]
        pids["ceiling_granian"] = [bare.process.pid]
        targets = {s: ("cycle_pwpush.lua", servers[s].url) for s in setups}
        targets["snappass"] = ("cycle_snappass.lua", peer.url)
        targets["ceiling"] = ("ceiling.lua", ours.url, "/ping")
        # What our API's framework costs: a JSON endpoint that does no work (FastAPI).
        targets["ceiling_api"] = ("ceiling.lua", ours.url, "/api/v2/version")
        # What the server and its ASGI bridge cost: Granian with a bare ASGI app (bench/null_asgi.py).
        # The hot routes skip Reflex's app (api/hot.py), so this, not /ping, is their floor.
        targets["ceiling_granian"] = ("ceiling.lua", bare.url, "/0")
        results: dict = {name: {} for name in targets}
        for concurrency in CONCURRENCY:
            for name, (script, url, *args) in targets.items():
                wrk(script, url, concurrency, 2, *args)  # warm-up
            samples = {name: [] for name in targets}
            for _ in range(runs):
                for name, (script, url, *args) in targets.items():
                    cpu_before = cpu_seconds(pids[name])
                    result = wrk(script, url, concurrency, seconds, *args)
                    result["cpu_ms_per_cycle"] = (cpu_seconds(pids[name]) - cpu_before) * 1000 / max(result["cycles"], 1)
                    samples[name].append(result)
            for name, of_target in samples.items():
                results[name][concurrency] = {
                    "cycles_per_s": spread([r["cycles_per_s"] for r in of_target]),
                    "p50_ms": spread([r["p50_ms"] for r in of_target]),
                    "p99_ms": spread([r["p99_ms"] for r in of_target]),
                    "server_cpu_ms_per_cycle": spread([r["cpu_ms_per_cycle"] for r in of_target]),
                    "failures": sum(r["failures"] + r["non_2xx"] + r["socket_errors"] for r in of_target),
                }
    finally:
        for server in servers.values():
            server.stop()
        if peer is not None:
            peer.stop()
        if bare is not None:
            bare.stop()
        for server in (postgres, redis):
            if server is not None:
                server.stop()
    ratios = {
        c: {name: results[name][c]["cycles_per_s"]["median"] / results["snappass"][c]["cycles_per_s"]["median"]
            for name in targets if name != "snappass"}
        for c in CONCURRENCY
    }
    labels = {s: SETUPS[s][0] if s in SETUPS else f"before: {before} (SQLite, FULL, 1 worker)" for s in setups}
    payload = {"seconds_per_run": seconds, "setups": labels,
               "load_before": load_before, "load_after": os.getloadavg(), "results": results, "ratios": ratios}
    from bench.common import save

    save("api", payload)
    return payload


def table(payload: dict) -> str:
    r = payload["results"]
    setups = list(payload.get("setups", {"ours": "ours"}))

    def at(target: str, c: int) -> dict:
        return r[target][c] if c in r[target] else r[target][str(c)]

    def fmt(x: dict) -> str:
        return f"{x['median']:.0f} ({x['min']:.0f}-{x['max']:.0f})"

    lines = []
    if "load_before" in payload:
        lines.append("load average (1, 5, 15 min) before: {} / after: {}\n".format(
            ", ".join(f"{x:.2f}" for x in payload["load_before"]), ", ".join(f"{x:.2f}" for x in payload.get("load_after", ()))))
    lines += [
        "| setup | concurrency | cycles/s | / SnapPass | p50 / p99 ms | server CPU ms per cycle | failures |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in [*setups, "snappass", "ceiling", "ceiling_api", "ceiling_granian"]:
        if name not in r:
            continue  # a run recorded before this target existed
        label = payload.get("setups", {}).get(name, {
            "snappass": "SnapPass 1.6.2 (gunicorn, 2 workers, Redis)",
            "ceiling": "ceiling: GET /ping twice (Reflex + Granian, no work)",
            "ceiling_api": "ceiling: GET /api/v2/version twice (FastAPI, no work)",
            "ceiling_granian": "ceiling: GET twice, a bare ASGI app under Granian (no framework)",
        }.get(name, name))
        for c in CONCURRENCY:
            x = at(name, c)
            ratio = payload["ratios"][c if c in payload["ratios"] else str(c)].get(name)
            lines.append(
                f"| {label} | {c} | {fmt(x['cycles_per_s'])} | {'' if ratio is None else format(ratio, '.2f')} "
                f"| {x['p50_ms']['median']:.2f} / {x['p99_ms']['median']:.2f} "
                f"| {x['server_cpu_ms_per_cycle']['median']:.2f} | {x['failures']} |"
            )
    return "\n".join(lines)
