"""A first-time user's four waits, in the browser (issue 24's walk-through timings).

    .venv/bin/python -m bench.first_use [--runs 15] [--url http://localhost:3000 [--url ...]]

- create → link: the click on "Create secret link" to the first animation frame that shows
  the secret link in its field;
- open link → Reveal ready: from the start of the navigation to the secret link until the
  Reveal button is laid out and the page connected (`#app-ready`);
- Reveal → secret: the click on Reveal to the frame that paints the secret;
- sign-up → dashboard: the click on "Sign up" to the dashboard connected.

Each run is a fresh browser context (no cache, new state), timed with the page's own clock
(tests/page_timing.py). Without --url it starts our production server (a private copy of
the app, SQLite); with several --url (say, a build of main beside this one) the runs are
interleaved, run by run, so both meet the same machine. Medians with min-max;
bench/results/first_use.json.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics

from playwright.sync_api import sync_playwright

from bench.common import save, start_ours
from tests import page_timing

PASSWORD = "first-use-Pa55word"


def _click_to_share_link(page) -> float:
    """Milliseconds from the click on Create to the first animation frame that shows the
    secret link in its field (no eval: our CSP forbids it, so the check is written out)."""
    page.evaluate(
        """() => {
          window.__clicked = null; window.__done = null;
          const shown = () => { const f = document.getElementById('share-link'); return !!f && f.value.length > 0 && f.offsetParent !== null; };
          document.querySelector('#create').addEventListener('click', () => {
            window.__clicked = performance.now();
            const frame = () => { if (shown()) window.__done = performance.now(); else requestAnimationFrame(frame); };
            requestAnimationFrame(frame);
          }, {capture: true, once: true});
        }"""
    )
    page.click("#create")
    page.wait_for_function("() => window.__done !== null", timeout=30_000)
    return page.evaluate("() => window.__done - window.__clicked")


def one_run(browser, url: str) -> dict[str, float]:
    figures = {}
    context = browser.new_context()
    page = context.new_page()
    page.goto(url + "/")
    page.wait_for_selector("#app-ready", state="attached")
    page.fill("#payload", "first-use " + secrets.token_hex(8))
    figures["create_to_link_ms"] = _click_to_share_link(page)
    link = page.input_value("#share-link")
    context.close()

    context = browser.new_context()
    page_timing.install(context, button="#reveal", secret="#secret-box", ready=("#reveal", "#app-ready"))
    page = context.new_page()
    page.goto(link)
    ready = page_timing.wait_until_ready(page)
    figures["open_to_reveal_ready_ms"] = ready["ready_frame"] - ready["origin"]
    page.click("#reveal")
    figures["reveal_to_secret_ms"] = page_timing.reveal_breakdown(page_timing.wait_for_secret(page))["click_to_visible_ms"]
    context.close()

    context = browser.new_context()
    # A form post: the dashboard is a new document, whose clock starts with the navigation
    # the click began (the POST), so its first frame showing the list is the figure.
    page_timing.install(context, secret=None, ready=("#dash-empty, #dash-list", "#app-ready"))
    page = context.new_page()
    page.goto(url + "/signup")
    page.wait_for_selector("#app-ready", state="attached")
    page.fill("#email", f"first-use-{secrets.token_hex(6)}@example.com")
    page.fill("#password", PASSWORD)
    page.fill("#password_confirmation", PASSWORD)
    page.click("#sign-up")
    page.wait_for_url("**/dashboard**")
    shown = page_timing.wait_until_ready(page)
    figures["signup_to_dashboard_ms"] = shown["ready_frame"] - shown["origin"]
    context.close()
    return figures


def _summary(results: list[dict[str, float]]) -> dict:
    return {
        name: {"median": round(statistics.median(r[name] for r in results), 1),
               "min": round(min(r[name] for r in results), 1), "max": round(max(r[name] for r in results), 1)}
        for name in results[0]
    }


def run(runs: int, urls: list[str] | None = None) -> dict:
    server = None if urls else start_ours()
    urls = urls or [server.url]
    try:
        with sync_playwright() as playwright:
            browser = page_timing.launch_chromium(playwright)
            for url in urls:
                one_run(browser, url)  # warm-up: first imports, first queries
            results: dict[str, list] = {url: [] for url in urls}
            for _ in range(runs):
                for url in urls:
                    results[url].append(one_run(browser, url))
            browser.close()
    finally:
        if server:
            server.stop()
    return {"runs": runs, "figures": {url: _summary(found) for url, found in results.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.first_use")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--url", action="append", default=None,
                        help="a running server (default: start our own); repeat to interleave several")
    args = parser.parse_args()
    result = run(args.runs, args.url)
    save("first_use", result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
