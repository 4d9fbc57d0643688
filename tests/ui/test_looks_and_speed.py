"""Screenshots of every page at phone and laptop width, and what the reveal costs in the browser.

The screenshots land in test-artifacts/screenshots/ for a person to look at; the figures in
test-artifacts/ui-metrics.json.
"""

from __future__ import annotations

import json
import re
import statistics

import pytest
from ui_helpers import LAPTOP, PHONE, ROOT, create_through_form, push_directly, reveal_in, screenshot, wait_until_ready

from tests import page_timing

pytestmark = pytest.mark.browser

METRICS = ROOT / "test-artifacts" / "ui-metrics.json"


def test_screenshots_of_every_page(live_server, server_runtime, new_page, chromium):
    page = new_page()
    page.goto(live_server.url + "/")
    page.wait_for_selector("#payload")
    wait_until_ready(page)
    screenshot(page, "create")
    page.set_viewport_size(LAPTOP)
    page.click("#generate")
    page.click("#generator-options")
    page.wait_for_selector("#gen-syllables")
    screenshot(page, "create-generator")
    page.keyboard.press("Escape")

    links = create_through_form(page, live_server.url, "Screenshot-Secret-1", name="Database password")
    screenshot(page, "share")

    recipient = new_page()
    recipient.goto(links.secret)
    recipient.wait_for_selector("#reveal")
    screenshot(recipient, "reveal-landing")
    recipient.click("#reveal")
    recipient.wait_for_function("() => document.getElementById('secret-box').value.length > 0")
    screenshot(recipient, "reveal-secret")
    recipient.click("#delete-now")
    recipient.wait_for_selector("#confirm-delete")
    screenshot(recipient, "reveal-delete-confirm")
    recipient.click("#confirm-delete")
    recipient.wait_for_selector("#deleted")
    screenshot(recipient, "reveal-deleted")
    recipient.goto(links.secret)
    recipient.wait_for_selector("#unavailable")
    screenshot(recipient, "reveal-unavailable")

    guarded = push_directly(server_runtime, live_server.url, "x", passphrase="right")
    recipient.goto(guarded.secret)
    recipient.wait_for_selector("#passphrase")
    recipient.fill("#passphrase", "wrong")
    recipient.click("#reveal")
    recipient.wait_for_function("() => document.getElementById('reveal-message').textContent.length > 0")
    screenshot(recipient, "reveal-wrong-passphrase")

    page.goto(links.manage)
    page.wait_for_selector(".audit-row >> nth=3")
    screenshot(page, "manage-expired")
    page.goto(live_server.url + "/my-pushes")
    page.wait_for_selector(".my-push")
    screenshot(page, "my-pushes")

    live = create_through_form(page, live_server.url, "another", note="Rotate it after the migration")
    page.goto(live.manage)
    page.wait_for_selector("#audit-log")
    page.wait_for_function("() => document.getElementById('note-box').value.length > 0")
    screenshot(page, "manage-active")

    dark = chromium.new_context(viewport=PHONE, color_scheme="dark")
    try:
        dark_page = dark.new_page()
        dark_page.goto(live_server.url + "/")
        dark_page.wait_for_selector("#payload")
        wait_until_ready(dark_page)
        screenshot(dark_page, "create-dark")
        more = push_directly(server_runtime, live_server.url, "dark-secret")
        reveal_in(dark_page, more.secret)
        screenshot(dark_page, "reveal-secret-dark")
    finally:
        dark.close()


def test_reveal_speed_and_javascript_weight(live_server, server_runtime, new_page):
    timings = []
    for round_ in range(11):
        links = push_directly(server_runtime, live_server.url, f"timing-{round_}")
        page = new_page()
        # Timed inside the page: from the click (capture phase) to the frame that paints the secret.
        page_timing.install(page, button="#reveal", secret="#secret-box", ready=("#reveal", "#app-ready"))
        page.goto(links.secret)
        page_timing.wait_until_ready(page)
        page.wait_for_load_state("networkidle")
        page.click("#reveal")
        timings.append(page_timing.reveal_breakdown(page_timing.wait_for_secret(page))["click_to_visible_ms"])
        assert page.input_value("#secret-box") == f"timing-{round_}"
        page.context.close()

    fresh = new_page()
    links = push_directly(server_runtime, live_server.url, "weight")
    fresh.goto(links.secret)
    fresh.wait_for_selector("#reveal")
    fresh.wait_for_load_state("networkidle")
    scripts = fresh.evaluate(
        """() => performance.getEntriesByType('resource')
            .filter(e => e.name.split('?')[0].endsWith('.js'))
            .map(e => ({name: e.name, transfer: e.transferSize, encoded: e.encodedBodySize, decoded: e.decodedBodySize}))"""
    )
    figures = {
        "reveal_click_to_visible_ms": {
            "median": round(statistics.median(timings), 1),
            "min": round(min(timings), 1),
            "max": round(max(timings), 1),
            "runs": len(timings),
        },
        "reveal_page_js": {
            "files": len(scripts),
            "transferred_bytes": sum(s["transfer"] for s in scripts),
            "encoded_body_bytes": sum(s["encoded"] for s in scripts),
            "decoded_bytes": sum(s["decoded"] for s in scripts),
        },
    }
    METRICS.parent.mkdir(parents=True, exist_ok=True)
    METRICS.write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))
    assert figures["reveal_click_to_visible_ms"]["median"] < 2000
    assert figures["reveal_page_js"]["files"] > 0
    # Two weights once cut (issue 15) and easy to bring back: lucide's table of every icon (one
    # rx.icon named by a Var compiles to its DynamicIcon: ~55 KB sent) and the QR code library (only
    # the create page draws a QR code, when an end-to-end push is made).
    bodies = {s["name"]: fresh.request.get(s["name"]).text() for s in scripts}
    assert [name for name, body in bodies.items() if "a-arrow-down" in body] == []
    assert [name for name, body in bodies.items() if "toSJISFunc" in body] == []
    # A budget, 10 % above what the page sent once every Radix component stopped coming with
    # every page (224,357 B of compressed JavaScript in 38 files, 2026-12-03; 235,757 B with the
    # answers' headers, which the header tests govern): growing past it is a decision, not a drift.
    assert figures["reveal_page_js"]["encoded_body_bytes"] < 247_000, figures["reveal_page_js"]


RADIX_COLOURS = {"amber", "blue", "bronze", "brown", "crimson", "cyan", "gold", "grass", "gray", "green", "indigo",
                 "iris", "jade", "lime", "mauve", "mint", "olive", "orange", "pink", "plum", "purple", "red", "ruby",
                 "sage", "sand", "sky", "slate", "teal", "tomato", "violet", "yellow"}


def test_every_colour_a_page_names_is_in_its_stylesheet(live_server):
    """The pages get only some of Radix's colour scales (rxconfig.py, THEME_COLOURS): a colour
    a compiled page names (a colour scheme, an accent, a branch of a condition) or a state
    gives a row at run time must be one of them, or it would show without its colours."""
    from pwpush_app.ui.requests import STATE_COLOURS

    web = live_server.app_dir / ".web"
    imported = (web / "styles" / "__reflex_global_styles.css").read_text()
    carried = (RADIX_COLOURS if "@radix-ui/themes/styles.css" in imported
               else set(re.findall(r"@radix-ui/themes/tokens/colors/(\w+)\.css", imported)))
    compiled = [*(web / "app_components").rglob("*.jsx"), *(web / "app" / "routes").glob("*.jsx"), web / "app" / "root.jsx"]
    named = {word for path in compiled for word in re.findall(r"[\"'`](\w+)[\"'`]", path.read_text())} & RADIX_COLOURS
    assert {"gray", "red", "iris"} <= named, "the compiled pages were not found"
    assert sorted((named | set(STATE_COLOURS.values())) - carried) == []

