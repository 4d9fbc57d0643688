"""The recipient's page in the recipient's language (issue 19), chosen per visitor at run time.

One frontend build serves everybody: these tests open the same page from browsers that ask
for different languages and check what each person sees, that ?locale= wins and is
remembered, that the switcher works in place (a revealed secret stays), that Arabic and
Urdu are laid out right to left, and that axe finds nothing serious in light, dark and RTL."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from ui_helpers import (
    LAPTOP,
    PHONE,
    SCREENSHOTS,
    EventChannel,
    create_through_form,
    push_directly,
    wait_for_secret,
    wait_until_ready,
)

pytestmark = pytest.mark.browser

# The docs' pictures are rewritten only when asked (PWPUSH_UPDATE_DOC_SCREENSHOTS=1): a test run leaves
# the tracked files alone and puts its pictures with the others, in test-artifacts/screenshots.
DOCS = (Path(__file__).resolve().parents[2] / "docs" / "screenshots" if os.environ.get("PWPUSH_UPDATE_DOC_SCREENSHOTS")
        else SCREENSHOTS)


def _context(chromium, locale: str, dark: bool = False, viewport: dict = LAPTOP, timezone: str = "UTC"):
    """A browser whose person reads `locale` (Playwright sends it as Accept-Language and navigator.language)."""
    context = chromium.new_context(viewport=viewport, locale=locale, timezone_id=timezone,
                                   color_scheme="dark" if dark else "light")
    context.set_default_timeout(30_000)
    return context


def _document_language(page) -> tuple[str, str]:
    return tuple(page.evaluate("() => [document.documentElement.lang, document.documentElement.dir]"))


def _landing(page, link: str) -> None:
    page.goto(link)
    wait_until_ready(page)
    page.wait_for_selector("#reveal")


def test_the_browser_language_picks_the_page_language(live_server, server_runtime, chromium):
    links = push_directly(server_runtime, live_server.url, "pa55-für-dich", expire_after_views=5)
    context = _context(chromium, "de-DE", timezone="Europe/Berlin")
    try:
        page = context.new_page()
        _landing(page, links.secret)
        page.wait_for_function("() => document.documentElement.lang === 'de'")
        assert page.inner_text("h1") == "Jemand hat ein Geheimnis mit dir geteilt"
        assert page.inner_text("#reveal") == "Geheimnis anzeigen"
        assert _document_language(page) == ("de", "ltr")
        assert page.get_attribute("#language", "aria-label") == "Sprache"
        page.click("#reveal")
        assert wait_for_secret(page) == "pa55-für-dich"
        text = page.inner_text("#views-left")
        # German words, a German date in Berlin's time zone, and the wait in German.
        assert text.startswith("Es kann noch 4 Mal angezeigt werden, bis "), text
        assert re.search(r"\d{1,2}\. [A-ZÄÖÜ][a-zäöü]+\.? \d{4}", text) and ("MEZ" in text or "MESZ" in text or "GMT+" in text), text
        assert "in 7 Tagen" in text, text
        assert page.get_attribute("#secret-box", "aria-label") == "Das Geheimnis"
    finally:
        context.close()


def test_the_recipient_sees_their_language_not_the_senders(live_server, chromium):
    sender = _context(chromium, "fr-FR")
    recipient = _context(chromium, "ja-JP", timezone="Asia/Tokyo")
    try:
        page = sender.new_page()
        links = create_through_form(page, live_server.url, "secret-du-client", views=2)
        page.goto(links.secret.replace("/p/", "/p/NoSuchToken") + "?locale=fr")  # the sender picks French
        page.wait_for_selector("#unavailable")
        assert page.inner_text("#unavailable h1") == "Ce lien secret a expiré ou n'a jamais existé."
        other = recipient.new_page()
        _landing(other, links.secret)
        other.wait_for_function("() => document.documentElement.lang === 'ja'")
        assert other.inner_text("h1") == "あなたにシークレットが共有されました"
        other.click("#reveal")
        assert wait_for_secret(other) == "secret-du-client"
        assert "あと 1 回表示できます" in other.inner_text("#views-left")
        assert "JST" in other.inner_text("#views-left") or "GMT+9" in other.inner_text("#views-left")
    finally:
        sender.close()
        recipient.close()


def test_locale_in_the_link_wins_and_is_remembered_and_the_switcher_works_in_place(live_server, server_runtime, chromium):
    first = push_directly(server_runtime, live_server.url, "first-secret", expire_after_views=3)
    second = push_directly(server_runtime, live_server.url, "second-secret", expire_after_views=3)
    context = _context(chromium, "de-DE")
    try:
        page = context.new_page()
        _landing(page, first.secret + "?locale=pt-BR")
        page.wait_for_function("() => document.documentElement.lang === 'pt-BR'")
        assert page.inner_text("#reveal") == "Revelar segredo"
        # Remembered: the next link opens in Portuguese although the browser asks for German.
        _landing(page, second.secret)
        page.wait_for_function("() => document.documentElement.lang === 'pt-BR'")
        assert page.inner_text("h1") == "Alguém compartilhou um segredo com você"
        page.click("#reveal")
        assert wait_for_secret(page) == "second-secret"
        # Switched after the reveal, by keyboard: the page changes language in place and the secret stays.
        page.focus("#language")
        page.select_option("#language", "es")
        page.wait_for_function("() => document.documentElement.lang === 'es'")
        assert page.inner_text("#secret-heading") == "Tu secreto"
        assert page.input_value("#secret-box") == "second-secret"
        assert "Se puede ver 2 veces más hasta el" in page.inner_text("#views-left")
        assert page.get_attribute("#language", "aria-label") == "Idioma"
        # And remembered too.
        _landing(page, first.secret)
        page.wait_for_function("() => document.documentElement.lang === 'es'")
        assert page.inner_text("#reveal") == "Revelar secreto"
        # A code nobody enabled is ignored, the remembered choice stays.
        _landing(page, first.secret + "?locale=tlh")
        page.wait_for_function("() => document.documentElement.lang === 'es'")
    finally:
        context.close()


def test_arabic_and_urdu_read_right_to_left(live_server, server_runtime, chromium):
    for locale, heading in (("ar-EG", "شاركك أحدهم سرًّا"), ("ur-PK", "کسی نے آپ کے ساتھ ایک راز شیئر کیا ہے")):
        links = push_directly(server_runtime, live_server.url, "rtl-secret", expire_after_views=2)
        context = _context(chromium, locale, viewport=PHONE)
        try:
            page = context.new_page()
            _landing(page, links.secret)
            page.wait_for_function("() => document.documentElement.dir === 'rtl'")
            assert page.inner_text("h1") == heading
            # Laid out right to left: the heading and the Reveal button start at the right edge.
            card = page.locator("h1", has_text=heading).bounding_box()
            button = page.locator("#reveal").bounding_box()
            width = PHONE["width"]
            assert card["x"] + card["width"] > width - 60 and button["x"] + button["width"] > width - 60, (card, button)
            assert button["x"] > 60, button
            page.click("#reveal")
            assert wait_for_secret(page) == "rtl-secret"
        finally:
            context.close()


@pytest.mark.parametrize("locale, dark", [("fr-FR", False), ("fr-FR", True), ("ar", False), ("ar", True)])
def test_translated_pages_pass_axe(live_server, server_runtime, chromium, locale, dark):
    pytest.importorskip("axe_playwright_python")
    from test_accessibility import _serious_problems

    links = push_directly(server_runtime, live_server.url, "axe-i18n", expire_after_views=2, passphrase="pp")
    context = _context(chromium, locale, dark=dark, viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(links.secret)
        wait_until_ready(page)
        page.wait_for_selector("#passphrase")
        page.wait_for_function(f"() => document.documentElement.lang === '{locale[:2]}'")
        problems = {"landing": _serious_problems(page)}
        page.fill("#passphrase", "pp")
        page.click("#reveal")
        wait_for_secret(page)
        problems["revealed"] = _serious_problems(page)
        page.click("#delete-now")
        page.click("#confirm-delete")
        page.wait_for_selector("#deleted")
        problems["deleted"] = _serious_problems(page)
        page.goto(live_server.url + "/p/NoSuchTokenAtAll123")
        page.wait_for_selector("#unavailable")
        problems["unavailable"] = _serious_problems(page)
    finally:
        context.close()
    assert {name: found for name, found in problems.items() if found} == {}


@pytest.mark.parametrize("locale", ["fr-FR", "ru-RU", "ar"])
def test_screenshots_of_the_reveal_page_for_the_docs(live_server, server_runtime, chromium, locale):
    """docs/screenshots/reveal-<lang>.png: the revealed page, for docs/web-app.md (and for a person to look at)."""
    links = push_directly(server_runtime, live_server.url, "correct-horse-battery-staple", expire_after_views=5)
    context = _context(chromium, locale, viewport={"width": 560, "height": 640})
    try:
        page = context.new_page()
        _landing(page, links.secret)
        page.wait_for_function(f"() => document.documentElement.lang === '{locale[:2]}'")
        page.click("#reveal")
        wait_for_secret(page)
        page.mouse.move(0, 0)
        page.wait_for_timeout(300)
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS / f"reveal-{locale[:2]}.png"))
    finally:
        context.close()


def test_a_wrong_passphrase_is_told_in_the_recipients_language(live_server, server_runtime, chromium):
    """The core's refusal arrives as sentences with their numbers; the page words them, the wait
    as a duration of the viewer's language."""
    links = push_directly(server_runtime, live_server.url, "geheim", expire_after_views=2, passphrase="richtig")
    context = _context(chromium, "de-DE")
    try:
        page = context.new_page()
        page.goto(links.secret)
        wait_until_ready(page)
        page.wait_for_selector("#passphrase")
        page.fill("#passphrase", "falsch")
        page.click("#reveal")
        page.wait_for_function("() => document.getElementById('reveal-message').textContent.length > 0")
        assert page.inner_text("#reveal-message") == (
            "Diese Passphrase ist nicht richtig. Noch 4 Versuche; danach pausieren Versuche aus deinem Netz für 10 Minuten.")
        page.select_option("#language", "fr")  # switched after the refusal: it follows
        page.wait_for_function("() => document.getElementById('reveal-message').textContent.startsWith('Cette')")
        assert "Essais restants : 4" in page.inner_text("#reveal-message")
        assert "10 minutes" in page.inner_text("#reveal-message")
        page.fill("#passphrase", "richtig")
        page.click("#reveal")
        assert wait_for_secret(page) == "geheim"
    finally:
        context.close()


def test_the_catalogue_travels_once_per_tab_not_again_at_each_page(live_server, chromium):
    """The language's catalogue (~100 KB of French) comes with the first page; moving to
    another page inside the app sends the page's own state, not the catalogue again."""
    context = _context(chromium, "fr-FR")
    try:
        page = context.new_page()
        channel = EventChannel(page)
        page.goto(live_server.url + "/")
        wait_until_ready(page)
        page.wait_for_function("() => document.documentElement.lang === 'fr'")
        page.evaluate("() => { window.__same_document = true; }")

        def catalogues_sent() -> int:
            return sum(1 for frames in channel.frames for delta in channel.deltas(frames) for state in delta.values()
                       if isinstance(state, dict) and any(name.startswith("strings") for name in state))

        channel.wait_until(lambda: catalogues_sent() == 1, "the catalogue with the first page")
        page.click("#nav-login")
        page.wait_for_url("**/login")
        page.wait_for_selector("form")
        page.wait_for_function("() => document.documentElement.lang === 'fr'")
        assert page.evaluate("() => window.__same_document === true")  # moved inside the app, no reload
        page.wait_for_timeout(1000)  # the login page's on_load events have answered
        assert catalogues_sent() == 1
        assert page.inner_text("#nav-login") == "Se connecter"
    finally:
        context.close()
