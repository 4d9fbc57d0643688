"""Keyboard, names and motion (issue 19's accessibility part).

- The whole create -> share -> reveal -> delete flow by Tab, Shift+Tab, Enter and Space only,
  every focused control showing a focus ring; after the reveal the focus is on the secret.
- Every button, link, field and select has an accessible name in Playwright's accessibility
  tree, in English and in French.
- With prefers-reduced-motion: reduce, nothing on the page moves (transitions and animations
  end at once).
- The request page's link field selects itself on focus without a script error."""

from __future__ import annotations

import re
import uuid

import pytest
from ui_helpers import (
    LAPTOP,
    create_through_form,
    push_directly,
    screenshot,
    sign_up,
    wait_for_secret,
    wait_until_ready,
)

from pwpush_app.core.admin import set_admin

pytestmark = pytest.mark.browser

# The focused element's ring: on the element, or on the field's frame around it (Radix draws a
# text field's ring on its root, through :focus-within). "" when seen, else what lacks one.
FOCUS_RING = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return 'nothing focused';
  const box = el.getBoundingClientRect();
  const name = `${el.tagName.toLowerCase()}#${el.id}.${String(el.className).split(' ')[0]}`;
  if (box.width === 0 || box.height === 0) return `${name}: not visible`;
  const ring = node => {
    const s = getComputedStyle(node);
    const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 1 && !/rgba\\(.*, 0\\)$/.test(s.outlineColor);
    return outline || (s.boxShadow !== 'none' && node.matches(':focus-visible'));
  };
  for (let node = el, i = 0; node && i < 3; node = node.parentElement, i++) if (ring(node)) return '';
  return `${name}: no focus ring`;
}"""
ACTIVE = "() => { const el = document.activeElement; return el ? (el.id || el.tagName.toLowerCase()) : '' }"


class Keyboard:
    """Presses keys only; checks the focus ring after every move."""

    def __init__(self, page):
        self.page = page
        self.missing: list[str] = []
        self.visited: list[str] = []

    def press(self, key: str) -> str:
        self.page.keyboard.press(key)
        self.page.wait_for_timeout(30)
        # One look at the focused element and its ring (after Enter the page may move on).
        focused, lack = self.page.evaluate(f"() => [({ACTIVE})(), ({FOCUS_RING})()]")
        self.visited.append(focused)
        if focused not in ("body", "main", "") and lack:
            self.missing.append(lack)
        return focused

    def tab_to(self, element_id: str, key: str = "Tab", most: int = 60) -> None:
        for _ in range(most):
            if self.press(key) == element_id:
                return
        raise AssertionError(f"{key} never reached #{element_id}: {self.visited[-most:]}")


def test_create_share_reveal_delete_by_keyboard_alone(live_server, chromium):
    # In dark mode: the focus rings must show on dark too (the screenshots are for a person).
    context = chromium.new_context(viewport=LAPTOP, color_scheme="dark")
    context.set_default_timeout(30_000)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        keys = Keyboard(page)
        page.goto(live_server.url + "/")
        wait_until_ready(page)
        page.wait_for_selector("#payload")
        assert keys.press("Tab") != "payload"  # the skip link comes first
        keys.tab_to("payload")
        page.keyboard.type("Keyboard-only-canary-4242")
        keys.tab_to("create")
        keys.press("Shift+Tab")
        keys.tab_to("create")
        screenshot(page, "keyboard-focus-create-dark")
        keys.press("Enter")
        page.wait_for_function("() => (document.getElementById('share-link')?.value || '').includes('/p/')")
        link = page.input_value("#share-link")
        page.wait_for_function("() => document.activeElement?.id === 'share-link'")  # what comes next has the focus
        keys.press("Tab")
        keys.tab_to("share-link", key="Shift+Tab")

        page.goto(link)
        wait_until_ready(page)
        page.wait_for_selector("#reveal")
        keys.tab_to("reveal")
        keys.press("Space")
        assert wait_for_secret(page) == "Keyboard-only-canary-4242"
        # The secret itself has the focus (a screen reader reads it next), with a ring.
        page.wait_for_function("() => document.activeElement?.id === 'secret-box'")
        assert page.evaluate(FOCUS_RING) == ""
        screenshot(page, "keyboard-focus-secret-dark")
        keys.tab_to("delete-now")
        keys.press("Enter")
        page.wait_for_selector("#confirm-delete")
        keys.tab_to("confirm-delete")
        keys.press("Shift+Tab")
        keys.tab_to("confirm-delete")
        screenshot(page, "keyboard-focus-confirm-dark")
        keys.press("Enter")
        page.wait_for_selector("#deleted")
        page.goto(link)
        page.wait_for_selector("#unavailable")
        assert keys.missing == [], keys.missing
        assert errors == []
    finally:
        context.close()


ROLES = ("button", "link", "textbox", "searchbox", "combobox", "listbox", "checkbox", "radio", "switch", "tab",
         "spinbutton", "slider", "menuitem")
NAMELESS = re.compile(rf"^\s*- ({'|'.join(ROLES)})(?: \[[^\]]*\])*(?::|$)", re.M)


def _nameless(page) -> list[str]:
    """Controls the accessibility tree lists without a name (`- button` rather than `- button "Copy"`)."""
    tree = page.locator("body").aria_snapshot()
    return [line.strip() for line in tree.splitlines() if NAMELESS.match(line)]


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_every_control_has_a_name(live_server, server_runtime, chromium, locale):
    context = chromium.new_context(viewport=LAPTOP)
    context.set_default_timeout(30_000)
    found: dict[str, list[str]] = {}
    try:
        page = context.new_page()

        def look(name: str, path: str | None, ready: str) -> None:
            if path is not None:
                page.goto(live_server.url + path)
                wait_until_ready(page)
            page.wait_for_selector(ready, state="attached")
            found[name] = _nameless(page)

        look("create", f"/?locale={locale}", "#payload")
        links = create_through_form(page, live_server.url, "names-check", passphrase="pp")
        look("share", None, "#share-link")
        page.goto(links.secret)
        look("landing", None, "#passphrase")
        page.fill("#passphrase", "pp")
        page.click("#reveal")
        wait_for_secret(page)
        look("revealed", None, "#secret-box")
        look("manage", links.manage.removeprefix(live_server.url), ".audit-row")
        look("edit", links.manage.removeprefix(live_server.url) + "/edit", "form")
        look("print", links.manage.removeprefix(live_server.url) + "/print", "#print-limits")
        look("my pushes", "/my-pushes", ".my-push")
        look("404", "/no/such/page", "#not-found")
        look("log in", "/login", "#log-in")
        email = f"names-{locale}-{uuid.uuid4().hex[:6]}@example.com"
        sign_up(page, live_server.url, email)
        look("dashboard", None, "#dash-tabs")
        look("account", "/account", "#passkeys-card")
        look("api token", "/api-token", "#token-status")
        look("requests", "/requests", "#no-requests")
        set_admin(server_runtime, email)
        look("admin", "/admin", ".admin-user")
        look("admin pushes", "/admin/pushes", ".admin-push")
        look("admin settings", "/admin/settings", ".admin-setting")
        # The names are in the page's language.
        if locale == "fr":
            assert "Nouveau push" in page.locator("header").aria_snapshot()
    finally:
        context.close()
    assert {name: lines for name, lines in found.items() if lines} == {}


def test_nothing_moves_when_motion_is_reduced(live_server, server_runtime, chromium):
    durations = """() => [...document.querySelectorAll('*')].flatMap(el => {
      const s = getComputedStyle(el);
      const long = v => v.split(',').some(part => parseFloat(part) * (part.trim().endsWith('ms') ? 1 : 1000) > 1);
      const moving = s.animationName !== 'none' && long(s.animationDuration);
      const gliding = s.transitionProperty !== 'none' && long(s.transitionDuration);
      return moving || gliding ? [`${el.tagName.toLowerCase()}.${String(el.className).split(' ')[0]}`] : [];
    })"""
    for motion in ("no-preference", "reduce"):
        context = chromium.new_context(viewport=LAPTOP, reduced_motion=motion)
        context.set_default_timeout(30_000)
        try:
            page = context.new_page()
            links = push_directly(server_runtime, live_server.url, "motion-check", expire_after_views=2)
            page.goto(links.secret)
            wait_until_ready(page)
            page.click("#reveal")
            wait_for_secret(page)
            page.click("#delete-now")  # a dialog, which animates in
            page.wait_for_selector("#confirm-delete")
            animated = page.evaluate(durations)
            page.goto(live_server.url + "/")
            wait_until_ready(page)
            page.wait_for_selector("#payload")
            animated += page.evaluate(durations)
        finally:
            context.close()
        if motion == "reduce":
            assert animated == []
        else:  # the check sees motion where it is allowed
            assert animated, "buttons and the dialog animate without the setting"


def test_the_request_link_selects_itself_on_focus(live_server, chromium):
    context = chromium.new_context(viewport=LAPTOP)
    context.set_default_timeout(30_000)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        sign_up(page, live_server.url, f"select-{uuid.uuid4().hex[:6]}@example.com")
        page.goto(live_server.url + "/requests")
        wait_until_ready(page)
        page.fill("#message", "select me")
        page.click("#ask")
        page.wait_for_function("() => document.getElementById('request-link')?.value.includes('/ask/')")
        errors.clear()
        page.focus("#request-link")
        page.wait_for_timeout(200)
        selected = page.evaluate("() => { const f = document.getElementById('request-link');"
                                 " return f.value.substring(f.selectionStart, f.selectionEnd) }")
        assert selected == page.input_value("#request-link")
        assert errors == []
    finally:
        context.close()
