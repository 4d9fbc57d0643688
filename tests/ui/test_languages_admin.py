"""The admin pages, the 404 page and the tab's title in the visitor's language (issue 19).

One frontend build for everybody (the session's live server): an administrator whose browser
reads French gets the three admin pages in French, with dates written by the browser; the
page for an address that leads nowhere reads right to left in Arabic; the reveal page's tab
title follows the language, and a switch. axe finds nothing serious in French and Arabic."""

from __future__ import annotations

import re
import uuid

import pytest
from ui_helpers import LAPTOP, PASSWORD, PHONE, SCREENSHOTS, push_directly, signed_up_on, wait_until_ready

from pwpush_app.core import accounts, admin_actions
from pwpush_app.core.admin import set_admin
from pwpush_app.core.audit import Client

pytestmark = pytest.mark.browser


def _context(chromium, locale: str, viewport: dict = LAPTOP):
    context = chromium.new_context(viewport=viewport, locale=locale, timezone_id="Europe/Paris")
    context.set_default_timeout(30_000)
    return context


def _problems(page) -> list[str]:
    pytest.importorskip("axe_playwright_python")
    from test_accessibility import _serious_problems

    return _serious_problems(page)


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.mouse.move(0, 0)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_the_admin_pages_speak_french_to_a_french_administrator(live_server, server_runtime, chromium):
    email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
    push_directly(server_runtime, live_server.url, "admin-fr-canary", expire_after_views=3)
    context = _context(chromium, "fr-FR")
    try:
        page = context.new_page()
        signed_up_on(page, live_server.url, email, "/login")
        set_admin(server_runtime, email)
        # An action whose log line carries a detail: locking an account ends its session.
        locked = f"locked-{uuid.uuid4().hex[:8]}@example.com"
        target = accounts.sign_up(server_runtime, locked, PASSWORD)
        accounts.log_in(server_runtime, locked, PASSWORD, "192.0.2.1")
        admin_actions.lock(server_runtime, accounts.log_in(server_runtime, email, PASSWORD, "192.0.2.1").user.id,
                           target.id, Client(ip="192.0.2.1"))
        problems = {}

        page.goto(live_server.url + "/admin")
        wait_until_ready(page)
        page.wait_for_selector(".admin-user")
        page.wait_for_function("() => document.documentElement.lang === 'fr'")
        assert page.inner_text("h1") == "Administration du site"
        assert page.title().startswith("Administration du site · ")
        assert page.inner_text("#admin-nav a[aria-current=page]") == "Utilisateurs et chiffres"
        assert re.fullmatch(r"\d+ comptes? affichés? \(au plus \d+, les plus récents d'abord\)\.",
                            page.inner_text("#users-shown")), page.inner_text("#users-shown")
        me = page.locator(".admin-user", has_text=email)
        assert "Vous" in me.inner_text() and "Administrateur" in me.inner_text()
        # The account's creation, written by the browser: French month, Paris time.
        assert re.search(r"Créé le \d{1,2} [a-zéû]+\.? \d{4}", me.inner_text()), me.inner_text()
        assert "Journal d'audit" in page.inner_text("#admin-audit h2")
        assert f"{locked} (1 session terminée)" in page.inner_text("#admin-audit"), page.inner_text("#admin-audit")
        assert re.search(r"\d+ en attente, \d+ en échec", page.inner_text("#admin-mail"))
        _shot(page, "admin-fr")
        problems["admin"] = _problems(page)

        page.click("#admin-nav a:has-text('Pushs')")
        page.wait_for_selector(".admin-push")
        page.wait_for_function("() => document.title.startsWith('Pushs · Administration du site · ')")
        assert re.fullmatch(r"\d+ pushs? trouvés?, les plus récents d'abord \(\d+ par page\)\.",
                            page.inner_text("#pushes-found")), page.inner_text("#pushes-found")
        assert "0 consultations utilisées sur 3" in page.inner_text(".admin-push:has-text('Anonyme')")
        assert page.inner_text("label[for=filter-state]") == "État"
        _shot(page, "admin-pushes-fr")
        problems["pushes"] = _problems(page)

        page.click("#admin-nav a:has-text('Paramètres')")
        page.wait_for_selector(".admin-setting")
        assert re.fullmatch(r"\d+ définis dans l'environnement, \d+ au total\.", page.inner_text("#settings-count"))
        assert "Par défaut" in page.inner_text("#admin-settings")
        # What each setting does, in French; codes stay as they are.
        about = page.locator(".admin-setting", has_text="PWPUSH_DATA_DIR").locator(".setting-about")
        assert about.inner_text() == "Dossier de la base SQLite, du fichier de clé généré et des fichiers chiffrés."
        languages = page.locator(".admin-setting", has_text="PWP__ENABLED_LANGUAGE_CODES").locator(".setting-about")
        assert languages.inner_text().endswith(": ar, ca, cs, da, de, en, es, eu, fi, fr, hi, hu, id, is, it, ja, ko, lv, "
                                               "nl, no, pl, pt-BR, pt-PT, ro, ru, sk, sr, sv, th, uk, ur, zh-CN."), \
            languages.inner_text()
        problems["settings"] = _problems(page)
    finally:
        context.close()
    assert {name: found for name, found in problems.items() if found} == {}


def test_the_missing_page_reads_right_to_left_in_arabic(live_server, chromium):
    context = _context(chromium, "ar-EG", viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(live_server.url + "/no/such/page")
        page.wait_for_selector("#not-found")
        page.wait_for_function("() => document.documentElement.dir === 'rtl'")
        assert page.inner_text("h1") == "الصفحة غير موجودة"
        assert page.inner_text("#not-found-home") == "شارك سرًّا"
        # The sentence keeps its two addresses as code, wherever Arabic puts them.
        assert page.locator("#not-found code").all_inner_texts() == ["/p/…", "/manage/…"]
        assert page.title().startswith("الصفحة غير موجودة · ")
        heading = page.locator("h1").bounding_box()
        assert heading["x"] + heading["width"] > PHONE["width"] - 40, heading
        _shot(page, "not-found-ar")
        assert _problems(page) == []
    finally:
        context.close()


def test_the_reveal_pages_title_follows_the_language(live_server, server_runtime, chromium):
    links = push_directly(server_runtime, live_server.url, "title-canary", expire_after_views=2)
    context = _context(chromium, "fr-FR")
    try:
        page = context.new_page()
        page.goto(links.secret)
        wait_until_ready(page)
        page.wait_for_function("() => document.title.startsWith('Un secret pour vous · ')")
        page.select_option("#language", "de")
        page.wait_for_function("() => document.title.startsWith('Ein Geheimnis für dich · ')")
        assert "title-canary" not in page.title()
    finally:
        context.close()
