"""axe-core (bundled by axe-playwright-python) finds no serious or critical problem on any page."""

from __future__ import annotations

import pytest
from ui_helpers import PHONE, create_through_form, wait_for_secret, wait_until_ready

pytestmark = pytest.mark.browser


def _serious_problems(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    page.mouse.move(0, 0)  # judge resting colours, not a hover under the last click
    result = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[(n['target'], n.get('failureSummary', '')[-160:]) for n in v['nodes']][:3]}"
        for v in result.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_every_page_passes_axe(live_server, chromium, color_scheme):
    pytest.importorskip("axe_playwright_python")
    context = chromium.new_context(viewport=PHONE, color_scheme=color_scheme)
    try:
        page = context.new_page()
        page.goto(live_server.url + "/")
        wait_until_ready(page)
        page.wait_for_selector("#payload")
        problems = {"create": _serious_problems(page)}
        links = create_through_form(page, live_server.url, "axe-check", passphrase="pp")
        problems["share"] = _serious_problems(page)
        page.goto(links.secret)
        page.wait_for_selector("#passphrase")
        problems["landing"] = _serious_problems(page)
        page.fill("#passphrase", "pp")
        page.click("#reveal")
        wait_for_secret(page)
        problems["revealed"] = _serious_problems(page)
        page.goto(links.manage)
        page.wait_for_selector(".audit-row >> nth=1", state="attached")
        problems["manage"] = _serious_problems(page)
        page.goto(live_server.url + "/my-pushes")
        page.wait_for_selector(".my-push")
        problems["my pushes"] = _serious_problems(page)
        page.goto(live_server.url + "/p/NoSuchTokenAtAll123")
        page.wait_for_selector("#unavailable")
        problems["unavailable"] = _serious_problems(page)
    finally:
        context.close()
    assert {name: found for name, found in problems.items() if found} == {}
