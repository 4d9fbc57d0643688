"""Scale-out: the embedded default (1 worker, SQLite, memory state) against 4 workers on
PostgreSQL and Redis, same machine, same wrk create-then-retrieve cycle.

    .venv/bin/python -m bench scale [--seconds 10] [--runs 3]

Writes bench/results/scale.json; bench/README.md shows the table.
"""

from __future__ import annotations

from bench.common import rss_kib, save, spread, start_ours, wrk
from tests.servers import PostgresServer, RedisServer

CONCURRENCY = (8, 32)
SETUPS = ("sqlite-1", "pg-redis-4")


def run(seconds: int = 10, runs: int = 3) -> dict:
    postgres = PostgresServer().start()
    redis = RedisServer().start()
    postgres.sql("CREATE DATABASE bench_scale")
    servers = {}
    try:
        servers["sqlite-1"] = start_ours()
        servers["pg-redis-4"] = start_ours(
            REFLEX_DB_URL=postgres.url("bench_scale"), REFLEX_REDIS_URL=redis.url, GRANIAN_WORKERS="4"
        )
        results: dict = {name: {} for name in SETUPS}
        for concurrency in CONCURRENCY:
            for name in SETUPS:
                wrk("cycle_pwpush.lua", servers[name].url, concurrency, 2)  # warm-up
            samples = {name: [] for name in SETUPS}
            # Interleave the setups run by run, so drift on the machine hits both alike.
            for _ in range(runs):
                for name in SETUPS:
                    samples[name].append(wrk("cycle_pwpush.lua", servers[name].url, concurrency, seconds))
            for name, done in samples.items():
                results[name][concurrency] = {
                    "cycles_per_s": spread([r["cycles_per_s"] for r in done]),
                    "p50_ms": spread([r["p50_ms"] for r in done]),
                    "p99_ms": spread([r["p99_ms"] for r in done]),
                    "failures": sum(r["failures"] + r["non_2xx"] + r["socket_errors"] for r in done),
                }
        memory = {name: rss_kib([server.process.pid]) for name, server in servers.items()}
    finally:
        for server in servers.values():
            server.stop()
        redis.stop()
        postgres.stop()
    ratios = {
        c: results["pg-redis-4"][c]["cycles_per_s"]["median"] / results["sqlite-1"][c]["cycles_per_s"]["median"]
        for c in CONCURRENCY
    }
    payload = {"seconds_per_run": seconds, "results": results, "ratios_pg_redis_4_over_sqlite_1": ratios,
               "app_rss_kib": memory}
    save("scale", payload)
    return payload


def table(payload: dict) -> str:
    lines = [
        "| concurrency | 1 worker, SQLite: cycles/s | 4 workers, PostgreSQL + Redis: cycles/s | ratio | p50 / p99 ms (1 w) | p50 / p99 ms (4 w) | failures |",
        "|---|---|---|---|---|---|---|",
    ]
    r = payload["results"]

    def fmt(x):
        return f"{x['median']:.0f} ({x['min']:.0f}-{x['max']:.0f})"

    for c in CONCURRENCY:
        key = c if c in r["sqlite-1"] else str(c)
        one, four = r["sqlite-1"][key], r["pg-redis-4"][key]
        ratio = payload["ratios_pg_redis_4_over_sqlite_1"][key]
        lines.append(
            f"| {c} | {fmt(one['cycles_per_s'])} | {fmt(four['cycles_per_s'])} | {ratio:.2f} "
            f"| {one['p50_ms']['median']:.1f} / {one['p99_ms']['median']:.1f} "
            f"| {four['p50_ms']['median']:.1f} / {four['p99_ms']['median']:.1f} | {one['failures']} / {four['failures']} |"
        )
    return "\n".join(lines)
