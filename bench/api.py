"""API throughput: create-then-retrieve cycles/s and latency, ours vs SnapPass vs our ceiling.

    .venv/bin/python -m bench api [--seconds 10] [--runs 3]
"""

from __future__ import annotations

from bench.common import SnapPass, cpu_seconds, save, spread, start_ours, wrk

CONCURRENCY = (1, 8, 32)


def run(seconds: int = 10, runs: int = 3) -> dict:
    ours = start_ours()
    peer = SnapPass()
    # Whose CPU a run costs: our server's process tree; SnapPass's gunicorn tree and its Redis.
    servers = {"ours": [ours.process.pid], "snappass": [peer.process.pid, peer.redis.process.pid]}
    servers["ceiling"] = servers["ceiling_api"] = servers["ours"]
    targets = {
        "ours": ("cycle_pwpush.lua", ours.url),
        "snappass": ("cycle_snappass.lua", peer.url),
        "ceiling": ("ceiling.lua", ours.url, "/ping"),
        # What FastAPI adds to the ceiling: a JSON endpoint that does no work.
        "ceiling_api": ("ceiling.lua", ours.url, "/api/v2/version"),
    }
    results: dict = {name: {} for name in targets}
    try:
        for concurrency in CONCURRENCY:
            # Interleave the targets run by run, so drift on the machine hits them all alike.
            for name, (script, url, *args) in targets.items():
                wrk(script, url, concurrency, 2, *args)  # warm-up
            samples = {name: [] for name in targets}
            for _ in range(runs):
                for name, (script, url, *args) in targets.items():
                    cpu_before = cpu_seconds(servers[name])
                    result = wrk(script, url, concurrency, seconds, *args)
                    result["cpu_ms_per_cycle"] = (cpu_seconds(servers[name]) - cpu_before) * 1000 / max(result["cycles"], 1)
                    samples[name].append(result)
            for name, runs_of_target in samples.items():
                results[name][concurrency] = {
                    "cycles_per_s": spread([r["cycles_per_s"] for r in runs_of_target]),
                    "p50_ms": spread([r["p50_ms"] for r in runs_of_target]),
                    "p99_ms": spread([r["p99_ms"] for r in runs_of_target]),
                    "server_cpu_ms_per_cycle": spread([r["cpu_ms_per_cycle"] for r in runs_of_target]),
                    "failures": sum(r["failures"] + r["non_2xx"] + r["socket_errors"] for r in runs_of_target),
                }
    finally:
        ours.stop()
        peer.stop()
    ratios = {
        c: {
            "ours/snappass": results["ours"][c]["cycles_per_s"]["median"] / results["snappass"][c]["cycles_per_s"]["median"],
            "ours/ceiling": results["ours"][c]["cycles_per_s"]["median"] / results["ceiling"][c]["cycles_per_s"]["median"],
            "ours/ceiling_api": results["ours"][c]["cycles_per_s"]["median"] / results["ceiling_api"][c]["cycles_per_s"]["median"],
        }
        for c in CONCURRENCY
    }
    payload = {"seconds_per_run": seconds, "results": results, "ratios": ratios}
    save("api", payload)
    return payload


def table(payload: dict) -> str:
    lines = [
        "| concurrency | ours cycles/s | SnapPass cycles/s | ceiling /ping | ceiling /api/v2/version | ours/SnapPass | ours/ceiling | ours/API ceiling | ours p50 / p99 ms | SnapPass p50 / p99 ms | server CPU ms per cycle: ours / SnapPass / /ping / version |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    r = payload["results"]
    for c in CONCURRENCY:
        c_key = c if c in r["ours"] else str(c)
        o, s, ce, ca = r["ours"][c_key], r["snappass"][c_key], r["ceiling"][c_key], r["ceiling_api"][c_key]
        ratio = payload["ratios"][c_key]

        def fmt(x):
            return f"{x['median']:.0f} ({x['min']:.0f}-{x['max']:.0f})"

        lines.append(
            f"| {c} | {fmt(o['cycles_per_s'])} | {fmt(s['cycles_per_s'])} | {fmt(ce['cycles_per_s'])} | {fmt(ca['cycles_per_s'])} "
            f"| {ratio['ours/snappass']:.2f} | {ratio['ours/ceiling']:.2f} | {ratio['ours/ceiling_api']:.2f} "
            f"| {o['p50_ms']['median']:.2f} / {o['p99_ms']['median']:.2f} | {s['p50_ms']['median']:.2f} / {s['p99_ms']['median']:.2f} "
            f"| {' / '.join(format(t['server_cpu_ms_per_cycle']['median'], '.2f') for t in (o, s, ce, ca))} |"
        )
    return "\n".join(lines)
