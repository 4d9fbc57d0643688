"""axe-core (bundled by axe-playwright-python) finds no serious or critical problem on any page
(issue 19): every route of pwpush_app/pwpush_app.py, the create page's kinds, the reveal page's
states, the account and admin pages, in light, dark and right to left (Arabic).

One browser context per scheme walks the pages in sequence (one sign-up, made administrator):
about 45 s a walk, most of it axe itself. Dark and Arabic leave screenshots of a few pages in
test-artifacts/screenshots for a person to look at."""

from __future__ import annotations

import uuid

import pyotp
import pytest
from ui_helpers import (
    LAPTOP,
    PHONE,
    SCREENSHOTS,
    create_through_form,
    push_directly,
    sign_up,
    submit_log_in,
    wait_for_secret,
    wait_until_ready,
)

from pwpush_app.core.admin import set_admin

pytestmark = pytest.mark.browser


def _serious_problems(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    page.mouse.move(0, 0)  # judge resting colours, not a hover under the last click
    # ... nor a dialog half faded in: wait for every finite animation and transition to end
    page.wait_for_function(
        "() => document.getAnimations().every(a => a.playState !== 'running'"
        " || a.effect.getComputedTiming().endTime === Infinity)"
    )
    result = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[(n['target'], n.get('failureSummary', '')[-160:]) for n in v['nodes']][:3]}"
        for v in result.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


SHOTS = ("share", "manage", "dashboard", "account", "admin")


class Walk:
    """One context walking the pages; `check` runs axe on the page as it stands."""

    def __init__(self, page, base_url: str, query: str, label: str):
        self.page, self.base_url, self.query, self.label = page, base_url, query, label
        self.problems: dict[str, list[str]] = {}
        self.directions: dict[str, str] = {}  # each page's <html dir>

    def open(self, path: str, ready: str) -> None:
        self.page.goto(self.base_url + path)
        wait_until_ready(self.page)
        self.page.wait_for_selector(ready, state="attached")

    def check(self, name: str) -> None:
        self.problems[name] = _serious_problems(self.page)
        if name in SHOTS and self.label != "light":  # for a person to look at (test-artifacts/screenshots)
            self.page.screenshot(path=str(SCREENSHOTS / f"axe-{self.label}-{name.replace(' ', '-')}.png"), full_page=True)
        self.directions[name] = self.page.evaluate("() => document.documentElement.dir")


def _anonymous_pages(walk: Walk, server_runtime, dark_label: str) -> None:
    page, url = walk.page, walk.base_url
    walk.open("/" + walk.query, "#payload")
    walk.check("create text")
    for kind in ("url", "qr", "file", "text"):  # text last: the form remembers its kind
        page.click(f"#kind-{kind}")
        page.wait_for_function(f"() => document.querySelector('#kind-{kind}').getAttribute('aria-checked') === 'true'")
        if kind != "text":
            walk.check(f"create {kind}")
    links = create_through_form(page, url, f"axe-check-{dark_label}", passphrase="pp")
    walk.check("share")
    walk.open(links.manage.removeprefix(url) + "/print", "#print-limits")
    walk.check("print")
    page.goto(links.secret)
    page.wait_for_selector("#passphrase")
    walk.check("reveal landing with passphrase")
    page.fill("#passphrase", "wrong")
    page.click("#reveal")
    page.wait_for_function("() => document.getElementById('reveal-message').innerText.length > 0")
    walk.check("reveal wrong passphrase")
    page.fill("#passphrase", "pp")
    page.click("#reveal")
    wait_for_secret(page)
    walk.check("revealed")
    plain = push_directly(server_runtime, url, "axe-plain", expire_after_views=2)
    page.goto(plain.secret)
    page.wait_for_selector("#reveal")
    walk.check("reveal landing")
    page.click("#reveal")
    wait_for_secret(page)
    page.click("#delete-now")
    page.wait_for_selector("#confirm-delete")
    walk.check("delete dialog")
    page.click("#confirm-delete")
    page.wait_for_selector("#deleted")
    walk.check("deleted")
    walk.open(links.manage.removeprefix(url), ".audit-row >> nth=1")
    walk.check("manage")
    walk.open(links.manage.removeprefix(url) + "/edit", "form")
    walk.check("edit")
    walk.open("/my-pushes", ".my-push")
    walk.check("my pushes")
    page.goto(url + "/p/NoSuchTokenAtAll123")
    page.wait_for_selector("#unavailable")
    walk.check("unavailable")
    page.goto(url + "/no/such/page")
    page.wait_for_selector("#not-found")
    walk.check("404")
    for path, ready in (("/login", "#log-in"), ("/signup", "#sign-up"), ("/forgot-password", "main h1"),
                        ("/reset-password", "main h1")):
        walk.open(path, ready)
        walk.check(path)


def _account_pages(walk: Walk, server_runtime, email: str) -> None:
    page, url = walk.page, walk.base_url
    sign_up(page, url, email)
    page.wait_for_selector("#dash-tabs")
    walk.check("dashboard")
    walk.open("/account", "#two-factor-card")
    page.wait_for_selector("#passkeys-card")
    walk.check("account")
    page.click("#set-up-two-factor")
    page.wait_for_function("() => document.getElementById('totp-secret')?.value.length > 0")
    walk.check("two-factor enrolment")
    totp = pyotp.TOTP(page.input_value("#totp-secret").replace(" ", ""))
    page.fill("#enrol-code", totp.now())
    page.click("#turn-on")
    page.wait_for_function("() => document.getElementById('backup-codes')?.value.length > 0")
    walk.check("backup codes")
    page.click("#saved-codes")
    page.wait_for_selector("#two-factor-status")
    walk.open("/api-token", "#token-status")
    walk.check("api token")
    walk.open("/requests", "#no-requests")
    walk.check("requests")
    page.fill("#message", "axe request")
    page.click("#ask")
    page.wait_for_function("() => document.getElementById('request-link')?.value.includes('/ask/')")
    walk.check("request link")
    ask_link = page.input_value("#request-link")
    page.goto(ask_link)
    page.wait_for_function("() => document.getElementById('ask-message')?.value === 'axe request'")
    walk.check("ask")
    page.fill("#payload", "axe answer")
    page.click("#send-answer")
    page.wait_for_selector("#answer-sent")
    walk.check("answer sent")
    set_admin(server_runtime, email)
    walk.open("/admin", ".admin-user")
    walk.check("admin")
    walk.open("/admin/pushes", ".admin-push")
    walk.check("admin pushes")
    walk.open("/admin/settings", ".admin-setting")
    walk.check("admin settings")
    # The login's second step (two-factor is on): log out, and in again.
    page.click("#log-out")
    page.wait_for_url("**/login**")
    wait_until_ready(page)
    submit_log_in(page, email, lands_on="**/login/code**")
    page.wait_for_selector("#send-code")
    walk.check("login code")


# light and dark in English at phone width; right to left in Arabic at laptop width.
SCHEMES = {"light": ("light", "", PHONE), "dark": ("dark", "", PHONE), "rtl": ("light", "?locale=ar", LAPTOP)}


@pytest.mark.parametrize("scheme", list(SCHEMES))
def test_every_page_passes_axe(live_server, server_runtime, chromium, scheme):
    pytest.importorskip("axe_playwright_python")
    color_scheme, query, viewport = SCHEMES[scheme]
    context = chromium.new_context(viewport=viewport, color_scheme=color_scheme)
    context.set_default_timeout(30_000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    walk = Walk(context.new_page(), live_server.url, query, scheme)
    try:
        _anonymous_pages(walk, server_runtime, scheme)
        _account_pages(walk, server_runtime, f"axe-{scheme}-{uuid.uuid4().hex[:6]}@example.com")
    finally:
        print({name: found for name, found in walk.problems.items() if found})  # what was found before a failure
        context.close()
    assert len(walk.problems) >= 30
    # Every page speaks every language now: all of them read right to left in Arabic.
    assert set(walk.directions.values()) == {"rtl" if query else "ltr"}, walk.directions
    assert {name: found for name, found in walk.problems.items() if found} == {}
