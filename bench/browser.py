"""In the browser: click-to-secret time and the reveal page's load, ours vs SnapPass.

    .venv/bin/python -m bench browser [--runs 50] [--loads 10]

Headless Chromium (Debian's, through Playwright), both servers on loopback, in the same
run and interleaved run by run. How each figure is taken: tests/page_timing.py and the
"Browser" section of bench/README.md.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
from playwright.sync_api import sync_playwright

from bench.common import SnapPass, save, spread, start_ours
from tests.page_timing import (
    install,
    launch_chromium,
    load_figures,
    reveal_breakdown,
    wait_for_secret,
    wait_until_ready,
)

TARGET_MS = 100
WARM_UP = 3  # reveals per target before the measured ones (first imports, first queries)
TIMEOUT_MS = 30_000


class Ours:
    name = "ours"
    button, secret, ready = "#reveal", "#secret-box", ("#reveal", "#app-ready")

    def __init__(self, server):
        self.server = server

    def new_secret_link(self, secret: str) -> str:
        # A fresh push per run, one view, with the Reveal step (the click we time).
        answer = httpx.post(
            self.server.url + "/api/v2/pushes",
            json={"push": {"payload": secret, "expire_after_views": 1, "retrieval_step": True}},
            timeout=30,
        )
        answer.raise_for_status()
        return answer.json()["html_url"]

    def click_reveal(self, page) -> None:
        page.click(self.button)  # a websocket event: the page stays


class Peer:
    name = "snappass"
    button, secret, ready = "#revealSecret", "#password-text", ("#revealSecret",)

    def __init__(self, server):
        self.server = server

    def new_secret_link(self, secret: str) -> str:
        answer = httpx.post(self.server.url + "/", data={"password": secret, "ttl": "hour"},
                            headers={"Accept": "application/json"}, timeout=30)
        answer.raise_for_status()
        return answer.json()["link"]

    def click_reveal(self, page) -> None:
        # SnapPass's button builds a form and POSTs it: a new page holds the secret.
        with page.expect_navigation(timeout=TIMEOUT_MS):
            page.click(self.button)


def _new_page(browser, target):
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    install(context, button=target.button, secret=target.secret, ready=target.ready)
    return context, context.new_page()


def reveal_once(browser, target, secret: str) -> dict:
    """Open a fresh secret link, wait until the page is settled, click Reveal, time it."""
    context, page = _new_page(browser, target)
    try:
        page.goto(target.new_secret_link(secret))
        wait_until_ready(page, TIMEOUT_MS)
        page.wait_for_load_state("networkidle")
        target.click_reveal(page)
        record = wait_for_secret(page, TIMEOUT_MS)
        shown = page.input_value(target.secret)
        if shown != secret:
            raise RuntimeError(f"{target.name} showed {shown!r}, not the secret")
        figures = reveal_breakdown(record)
        if record["origin"] > record["click"]:
            # A new document: its navigation timing splits the wait.
            load = load_figures(page)
            figures["click_to_navigation_ms"] = load["origin"] - record["click"]
            figures["click_to_response_end_ms"] = load["origin"] + load["response_end"] - record["click"]
            if load.get("first_contentful_paint") is not None:
                figures["click_to_first_paint_ms"] = load["origin"] + load["first_contentful_paint"] - record["click"]
        return figures
    finally:
        context.close()


def _is_script(resource: dict) -> bool:
    path = urlsplit(resource["name"]).path
    return path.endswith((".js", ".mjs")) or resource["initiator"] == "script"


def load_once(browser, target, secret: str) -> dict:
    """The reveal page in a new context (cold cache) until it can be used, then what it fetched."""
    context, page = _new_page(browser, target)
    try:
        link = target.new_secret_link(secret)
        page.goto(link)
        record = wait_until_ready(page, TIMEOUT_MS)
        page.wait_for_load_state("networkidle")
        load = load_figures(page)
        resources = load["resources"]
        scripts = [r for r in resources if _is_script(r)]
        button_ms = record["ready_frame"] - load["origin"]
        return {
            # Interactive: the button is painted and pressing it works (see README).
            "interactive_ms": max(button_ms, load["dom_content_loaded"]),
            "button_painted_ms": button_ms,
            "dom_content_loaded_ms": load["dom_content_loaded"],
            "load_event_ms": load["load"],
            "websocket_open_ms": (record["ws_open"][0] - load["origin"]) if record["ws_open"] else None,
            "js_bytes": sum(r["transfer"] for r in scripts),
            "js_decoded_bytes": sum(r["decoded"] for r in scripts),
            "js_files": len(scripts),
            "document_bytes": load["document"]["transfer"],
            "total_bytes": load["document"]["transfer"] + sum(r["transfer"] for r in resources),
            "requests": 1 + len(resources),
        }
    finally:
        context.close()


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p95 of 50 runs is the 48th smallest)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def _summary(samples: list[dict]) -> dict:
    keys = [k for k in samples[0] if all(isinstance(s.get(k), (int, float)) for s in samples)]
    summary = {}
    for key in keys:
        values = [s[key] for s in samples]
        summary[key] = {**spread(values), "p95": percentile(values, 95)}
    return summary


def run(runs: int = 50, loads: int = 10) -> dict:
    ours_server = start_ours()
    peer_server = SnapPass()
    targets = [Ours(ours_server), Peer(peer_server)]
    reveals: dict[str, list] = {t.name: [] for t in targets}
    pages: dict[str, list] = {t.name: [] for t in targets}
    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            try:
                for i in range(WARM_UP):
                    for target in targets:
                        reveal_once(browser, target, f"warm-up-{i}")
                # Interleaved run by run, so drift on the machine hits both alike.
                for i in range(runs):
                    for target in targets:
                        reveals[target.name].append(reveal_once(browser, target, f"bench-secret-{i:03d}-{'x' * 20}"))
                for i in range(loads):
                    for target in targets:
                        pages[target.name].append(load_once(browser, target, f"load-{i}"))
            finally:
                browser.close()
    finally:
        ours_server.stop()
        peer_server.stop()
    results = {
        name: {"reveal": _summary(reveals[name]), "page_load": _summary(pages[name])} for name in reveals
    }
    ours, peer = results["ours"], results["snappass"]
    payload = {
        "runs": runs,
        "loads": loads,
        "target_reveal_median_ms": TARGET_MS,
        "results": results,
        "ratios": {
            "reveal_median ours/snappass": ours["reveal"]["click_to_visible_ms"]["median"]
            / peer["reveal"]["click_to_visible_ms"]["median"],
            "interactive_median ours/snappass": ours["page_load"]["interactive_ms"]["median"]
            / peer["page_load"]["interactive_ms"]["median"],
            "js_bytes ours/snappass": ours["page_load"]["js_bytes"]["median"] / peer["page_load"]["js_bytes"]["median"],
        },
        "samples": {"reveal": reveals, "page_load": pages},
    }
    save("browser", payload)
    return payload


def table(payload: dict) -> str:
    r = payload["results"]

    def ms(x):
        return f"{x['median']:.1f} (p95 {x['p95']:.1f}, {x['min']:.1f}-{x['max']:.1f})"

    def spread_of(x, unit=""):
        return f"{x['median']:,.0f}{unit} ({x['min']:,.0f}-{x['max']:,.0f})"

    lines = [
        f"Reveal, click to secret painted, ms: median (p95, min-max), {payload['runs']} runs each",
        "",
        "| | ours | SnapPass | ours/SnapPass |",
        "|---|---|---|---|",
        f"| click to secret painted | {ms(r['ours']['reveal']['click_to_visible_ms'])} "
        f"| {ms(r['snappass']['reveal']['click_to_visible_ms'])} | {payload['ratios']['reveal_median ours/snappass']:.2f} |",
        "",
        f"Reveal page load, cold cache: median (min-max), {payload['loads']} runs each",
        "",
        "| | ours | SnapPass |",
        "|---|---|---|",
    ]
    rows = [("time to interactive", "interactive_ms", " ms"), ("DOMContentLoaded", "dom_content_loaded_ms", " ms"),
            ("JS transferred", "js_bytes", " B"), ("JS decoded", "js_decoded_bytes", " B"), ("JS files", "js_files", ""),
            ("document", "document_bytes", " B"), ("total transferred", "total_bytes", " B"), ("requests", "requests", "")]
    for label, key, unit in rows:
        lines.append(f"| {label} | {spread_of(r['ours']['page_load'][key], unit)} | {spread_of(r['snappass']['page_load'][key], unit)} |")
    breakdown = r["ours"]["reveal"]
    parts = [k for k in ("click_to_ws_send_ms", "click_to_first_ws_reply_ms", "click_to_event_results_ms", "click_to_dom_ms")
             if k in breakdown]
    lines += ["", "Where ours' reveal time goes (median ms from the click): "
              + ", ".join(f"{k.removeprefix('click_to_').removesuffix('_ms')} {breakdown[k]['median']:.1f}" for k in parts)]
    peer = r["snappass"]["reveal"]
    parts = [k for k in ("click_to_navigation_ms", "click_to_response_end_ms", "click_to_dom_ms", "click_to_first_paint_ms")
             if k in peer]
    lines.append("SnapPass (median ms from the click): "
                 + ", ".join(f"{k.removeprefix('click_to_').removesuffix('_ms')} {peer[k]['median']:.1f}" for k in parts))
    return "\n".join(lines)
