"""Server memory: idle, and per 100 connected browser sessions; SnapPass idle beside it.

    .venv/bin/python -m bench memory [--runs 3] [--sessions 100] [--page reveal|create]

Each run starts both servers afresh. Resident memory (VmRSS, KiB) of our server's process
tree (`reflex run` and its granian worker) and of the worker alone, at four moments:
idle after start, after a first page load, with N pages open (each its own Reflex session
with a live websocket: the page is hydrated and its on-load event answered), and after
those pages closed. The same for SnapPass (gunicorn master + 2 workers, and its Redis),
whose pages hold no connection: they show what an open page costs a server without one.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

from bench.common import SnapPass, rss_kib, save, spread, start_ours
from tests.page_timing import install, launch_chromium, wait_until_ready
from tests.scale.workers import descendants, server_side_pids

SETTLE_S = 3  # after each step, before reading memory: late frees, lazy imports, GC
CONTEXTS = 4  # the pages are shared out over a few browser contexts (one Chromium)
IN_FLIGHT = 5  # pages loading at once: two cores, a browser and the server share them
MIN_FREE_KIB = 3 * 1024 * 1024  # stop opening pages if the machine gets short of memory
TIMEOUT_MS = 60_000


def mem_available_kib() -> int:
    return int(re.search(r"MemAvailable:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))


def pss_kib(pids: list[int]) -> int:
    """Proportional set size: shared pages split among the processes sharing them, so a
    sum over Chromium's many processes is not inflated as their summed RSS is."""
    total = 0
    for pid in pids:
        try:
            total += int(re.search(r"^Pss:\s+(\d+)", Path(f"/proc/{pid}/smaps_rollup").read_text(), re.M).group(1))
        except (OSError, AttributeError):
            pass
    return total


def chromium_pss_kib() -> int:
    """Chromium's processes (children of Playwright's driver, itself our child)."""
    ours = descendants(os.getpid())
    browsers = []
    for pid in ours:
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip().startswith("chrom"):
                browsers.append(pid)
        except OSError:
            pass
    return pss_kib(browsers)


class OursTarget:
    name = "ours"

    def __init__(self, server, page: str):
        self.server = server
        self.page = page

    def prepare(self) -> None:
        """The page the sessions open (after the idle reading: this is the first request)."""
        if self.page == "reveal":
            # One push many pages look at: the landing reads it, only a Reveal would spend a view.
            answer = httpx.post(self.server.url + "/api/v2/pushes", json={"push": {
                "payload": "memory-bench", "expire_after_views": 100, "retrieval_step": True}}, timeout=30)
            answer.raise_for_status()
            self.url, self.ready = answer.json()["html_url"], ("#reveal", "#app-ready")
        else:
            self.url, self.ready = self.server.url + "/", ("#payload", "#app-ready")

    def pids(self) -> list[int]:
        return [self.server.process.pid]

    def worker_pids(self) -> list[int]:
        """The processes holding the browsers' connections (granian's worker), else the
        children of `reflex run` (idle: no connection to find them by)."""
        holding = set(server_side_pids(self.server.port).values())
        return sorted(holding or descendants(self.server.process.pid) - {self.server.process.pid})

    def extra(self) -> dict:
        return {}


class PeerTarget:
    name = "snappass"

    def __init__(self, server):
        self.server = server

    def prepare(self) -> None:
        answer = httpx.post(self.server.url + "/", data={"password": "memory-bench", "ttl": "day"},
                            headers={"Accept": "application/json"}, timeout=30)
        answer.raise_for_status()
        self.url, self.ready = answer.json()["link"], ("#revealSecret",)

    def pids(self) -> list[int]:
        return [self.server.process.pid]

    def worker_pids(self) -> list[int]:
        return sorted(descendants(self.server.process.pid) - {self.server.process.pid})

    def extra(self) -> dict:
        return {"redis_kib": rss_kib([self.server.redis.process.pid])}


def snapshot(target) -> dict:
    return {"tree_kib": rss_kib(target.pids()), "worker_kib": rss_kib(target.worker_pids()),
            "worker_pids": target.worker_pids(), **target.extra()}


def open_sessions(browser, target, count: int) -> tuple[list, list]:
    """`count` pages on the target's page, each loaded until ready, at most IN_FLIGHT loading at once."""
    contexts = [browser.new_context() for _ in range(min(CONTEXTS, count))]
    for context in contexts:
        context.set_default_timeout(TIMEOUT_MS)
        install(context, button="#none", secret=None, ready=target.ready)
    pages = []
    for start in range(0, count, IN_FLIGHT):
        if mem_available_kib() < MIN_FREE_KIB:
            raise RuntimeError(f"machine short of memory after {len(pages)} pages: stopped")
        batch = [contexts[(start + i) % len(contexts)].new_page() for i in range(min(IN_FLIGHT, count - start))]
        for page in batch:
            page.goto(target.url, wait_until="commit")
        for page in batch:
            wait_until_ready(page, TIMEOUT_MS)
        pages += batch
    return contexts, pages


def measure(browser, target, sessions: int) -> dict:
    time.sleep(SETTLE_S)
    figures = {"idle": snapshot(target)}
    target.prepare()
    contexts, _ = open_sessions(browser, target, 1)
    for context in contexts:
        context.close()
    time.sleep(SETTLE_S)
    figures["after_first_page"] = snapshot(target)
    available = mem_available_kib()
    contexts, pages = open_sessions(browser, target, sessions)
    try:
        time.sleep(SETTLE_S)
        figures["with_sessions"] = snapshot(target)
        figures["with_sessions"]["chromium_pss_kib"] = chromium_pss_kib()
        # What the machine gave up for the open pages (browser and server together).
        figures["with_sessions"]["machine_used_kib"] = available - mem_available_kib()
        figures["with_sessions"]["pages"] = len(pages)
    finally:
        for context in contexts:
            context.close()
    time.sleep(SETTLE_S + 2)
    figures["after_close"] = snapshot(target)
    return figures


def run(runs: int = 3, sessions: int = 100, page: str = "reveal") -> dict:
    samples: dict[str, list] = {"ours": [], "snappass": []}
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            for _ in range(runs):
                ours_server = start_ours()
                peer_server = SnapPass()
                try:
                    samples["ours"].append(measure(browser, OursTarget(ours_server, page), sessions))
                    samples["snappass"].append(measure(browser, PeerTarget(peer_server), sessions))
                finally:
                    ours_server.stop()
                    peer_server.stop()
        finally:
            browser.close()
    results = {name: _summary(runs_of, sessions) for name, runs_of in samples.items()}
    payload = {
        "runs": runs, "sessions": sessions, "page": page, "results": results,
        "ratios": {
            "idle tree ours/snappass (with Redis)": results["ours"]["idle_tree_kib"]["median"]
            / (results["snappass"]["idle_tree_kib"]["median"] + results["snappass"]["idle_redis_kib"]["median"]),
        },
        "samples": samples,
    }
    save("memory", payload)
    return payload


def _summary(runs_of: list[dict], sessions: int) -> dict:
    per_100 = 100 / sessions
    summary = {}
    for moment in ("idle", "after_first_page", "with_sessions", "after_close"):
        for key in ("tree_kib", "worker_kib", "redis_kib", "chromium_pss_kib", "machine_used_kib"):
            if key in runs_of[0][moment]:
                summary[f"{moment}_{key}"] = spread([r[moment][key] for r in runs_of])
    for key in ("tree_kib", "worker_kib"):
        summary[f"per_100_sessions_{key}"] = spread(
            [(r["with_sessions"][key] - r["idle"][key]) * per_100 for r in runs_of])
        summary[f"per_100_sessions_after_first_page_{key}"] = spread(
            [(r["with_sessions"][key] - r["after_first_page"][key]) * per_100 for r in runs_of])
    return summary


def table(payload: dict) -> str:
    r = payload["results"]

    def mib(x):
        if x is None:
            return "-"
        return f"{x['median'] / 1024:.1f} ({x['min'] / 1024:.1f}-{x['max'] / 1024:.1f})"

    n = payload["sessions"]
    lines = [
        f"Resident memory, MiB: median (min-max) of {payload['runs']} runs; {n} sessions on the {payload['page']} page"
        + ("" if n == 100 else f" (per-100 figures scaled by 100/{n})"),
        "",
        "| moment | ours: tree | ours: worker | SnapPass: gunicorn tree | SnapPass: Redis |",
        "|---|---|---|---|---|",
    ]
    for moment, label in (("idle", "idle after start"), ("after_first_page", "after a first page"),
                          ("with_sessions", f"with {n} sessions"), ("after_close", "after they closed")):
        lines.append(f"| {label} | {mib(r['ours'][f'{moment}_tree_kib'])} | {mib(r['ours'][f'{moment}_worker_kib'])} "
                     f"| {mib(r['snappass'][f'{moment}_tree_kib'])} | {mib(r['snappass'].get(f'{moment}_redis_kib'))} |")
    lines.append(f"| per 100 sessions (with - idle) | {mib(r['ours']['per_100_sessions_tree_kib'])} "
                 f"| {mib(r['ours']['per_100_sessions_worker_kib'])} | {mib(r['snappass']['per_100_sessions_tree_kib'])} | |")
    lines.append(f"| per 100 sessions (with - after a first page) | {mib(r['ours']['per_100_sessions_after_first_page_tree_kib'])} "
                 f"| {mib(r['ours']['per_100_sessions_after_first_page_worker_kib'])} "
                 f"| {mib(r['snappass']['per_100_sessions_after_first_page_tree_kib'])} | |")
    o, p = r["ours"], r["snappass"]
    lines += ["", f"Chromium with the {n} pages open (PSS of all its processes), MiB: ours' page "
              f"{mib(o['with_sessions_chromium_pss_kib'])}, SnapPass's {mib(p['with_sessions_chromium_pss_kib'])}; "
              f"the machine's available memory fell by {mib(o['with_sessions_machine_used_kib'])} "
              f"and {mib(p['with_sessions_machine_used_kib'])} while they were open."]
    return "\n".join(lines)
