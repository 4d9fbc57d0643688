"""The owner's pages and the answer page in the viewer's language (issue 19): the manage page
(status, views, protection, the audit log with times in the viewer's zone, "expire now") in
French, the page someone answers a request on in Japanese and in Arabic (right to left), and
axe on both, French and Arabic. One build for everybody: the language comes from the browser."""

from __future__ import annotations

import re
import uuid

import pytest
from ui_helpers import LAPTOP, PHONE, SCREENSHOTS, push_directly, wait_until_ready

from pwpush_app.core import accounts
from pwpush_app.core.audit import Client
from pwpush_app.core.requests import NewRequest, create_request

pytestmark = pytest.mark.browser


def _context(chromium, locale: str, viewport: dict = LAPTOP, timezone: str = "UTC"):
    context = chromium.new_context(viewport=viewport, locale=locale, timezone_id=timezone)
    context.set_default_timeout(30_000)
    return context


def _request_link(server_runtime, base_url: str, message: str) -> str:
    user = accounts.sign_up(server_runtime, f"owner-i18n-{uuid.uuid4().hex[:10]}@example.com", "Canary-Pa55word-7f3e9b")
    made = create_request(server_runtime, NewRequest(message=message, notify_by_email=False),
                          Client(ip="192.0.2.3", user_agent="tests", user_id=user.id))
    return f"{base_url}/ask/{made.token}"


def _open_ask(page, link: str, lang: str) -> None:
    page.goto(link)
    wait_until_ready(page)
    page.wait_for_selector("#ask-card")
    page.wait_for_function(f"() => document.documentElement.lang === '{lang}'")


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.mouse.move(0, 0)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_the_manage_page_in_french_with_its_audit_log_in_paris_time(live_server, server_runtime, chromium):
    links = push_directly(server_runtime, live_server.url, "secret-du-proprio", name="Wi-Fi du bureau",
                          passphrase="pp", burn_after_failed_passphrases=3, expire_after_views=5)
    context = _context(chromium, "fr-FR", timezone="Europe/Paris")
    try:
        page = context.new_page()
        page.goto(links.manage)
        page.wait_for_selector(".audit-row >> nth=1")
        page.wait_for_function("() => document.documentElement.lang === 'fr'")
        assert page.inner_text("h1") == "Wi-Fi du bureau"
        assert page.inner_text("#push-state") == "Actif"
        assert page.inner_text("#status-line") == "Actif : le lien secret fonctionne."
        assert page.inner_text("#views-line") == "0 consultations utilisées sur 5, 5 restante(s)"
        assert page.inner_text("#policies-line").strip() == "Supprimé après 3 phrases secrètes erronées au total."
        time_line = page.inner_text("#time-line")
        # "6 jours 23 heures restant(s) (jusqu'au 8 déc. 2026, 11:30 UTC+1)": French words, Paris time.
        assert re.match(r"\d\sjours?\s\d+\sheures?\srestant\(s\) \(jusqu'au ", time_line), time_line
        assert re.search(r"\d{1,2} [a-zéû]+\.? \d{4}", time_line) and "UTC+" in time_line, time_line
        rows = [row.inner_text() for row in page.locator(".audit-row").all()]
        assert "Créé" in rows[0] and "UTC+" in rows[0], rows
        assert "Page de gestion ouverte" in rows[1], rows
        assert page.locator("#audit-log th").all_inner_texts()[:3] == ["Date", "Événement", "Adresse IP"]
        _shot(page, "manage-fr")

        page.click("#expire-now")
        page.get_by_role("alertdialog").get_by_text("Faire expirer ce push maintenant ?").wait_for()
        page.click("#confirm-expire")
        page.wait_for_function("() => document.getElementById('push-state').textContent === 'Expiré'")
        assert re.match(r"Expiré le .+ : vous l'avez fait expirer\.$", page.inner_text("#status-line"))
        page.wait_for_function("() => [...document.querySelectorAll('.audit-row')]"
                               ".some(r => r.textContent.includes('Supprimé par le propriétaire'))")
    finally:
        context.close()


def test_the_answer_page_in_japanese_with_tokyo_time(live_server, server_runtime, chromium):
    link = _request_link(server_runtime, live_server.url, "VPNのパスワードを送ってください")
    context = _context(chromium, "ja-JP", timezone="Asia/Tokyo")
    try:
        page = context.new_page()
        _open_ask(page, link, "ja")
        assert page.inner_text("#ask-card h1") == "シークレットを求められています"
        assert page.get_attribute("#ask-message", "aria-label") == "求められている内容"
        page.wait_for_function("() => document.getElementById('ask-message').value.startsWith('VPN')")
        assert page.inner_text("label[for=payload]") == "あなたの回答"
        until = page.locator("#ask-card", has_text="1 回の回答に使えます").inner_text()
        assert "JST" in until or "GMT+9" in until, until
        assert page.inner_text("#send-answer") == "送信"
        page.fill("#payload", "答え-canary-5521")
        page.click("#send-answer")
        page.wait_for_selector("#answer-sent")
        assert page.inner_text("#answer-sent h1") == "ありがとうございます：送信しました"
    finally:
        context.close()


def test_the_answer_page_in_arabic_reads_right_to_left(live_server, server_runtime, chromium):
    link = _request_link(server_runtime, live_server.url, "أرسل كلمة المرور من فضلك")
    context = _context(chromium, "ar-EG", viewport=PHONE)
    try:
        page = context.new_page()
        _open_ask(page, link, "ar")
        assert page.evaluate("() => document.documentElement.dir") == "rtl"
        heading = page.locator("#ask-card h1")
        assert heading.inner_text() == "يطلب منك أحدهم سرًّا"
        box, button = heading.bounding_box(), page.locator("#send-answer").bounding_box()
        # Right to left: the heading and the Send button hug the right edge, not the left.
        assert box["x"] + box["width"] > PHONE["width"] - 60 and box["x"] > 60, box
        assert button["x"] + button["width"] > PHONE["width"] - 60 and button["x"] > 60, button
        page.wait_for_function("() => document.getElementById('ask-message').value.length > 0")
        _shot(page, "ask-ar")
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["fr-FR", "ar"])
def test_the_answer_and_manage_pages_pass_axe_translated(live_server, server_runtime, chromium, locale):
    pytest.importorskip("axe_playwright_python")
    from test_accessibility import _serious_problems

    link = _request_link(server_runtime, live_server.url, "axe")
    links = push_directly(server_runtime, live_server.url, "axe-owner", name="axe", expire_after_views=2)
    context = _context(chromium, locale, viewport=PHONE)
    try:
        page = context.new_page()
        _open_ask(page, link, locale[:2])
        problems = {"ask": _serious_problems(page)}
        page.goto(links.manage)
        page.wait_for_selector("#push-state")
        page.wait_for_function(f"() => document.documentElement.lang === '{locale[:2]}'")
        problems["manage"] = _serious_problems(page)
    finally:
        context.close()
    assert {name: found for name, found in problems.items() if found} == {}


def test_the_edit_page_offers_its_lifetimes_in_french(live_server, server_runtime, chromium):
    links = push_directly(server_runtime, live_server.url, "secret-a-modifier", expire_after_minutes=3 * 1440)
    context = _context(chromium, "fr-FR", timezone="Europe/Paris")
    try:
        page = context.new_page()
        page.goto(links.manage + "/edit")
        page.wait_for_selector("#edit-form")
        page.wait_for_function("() => document.documentElement.lang === 'fr'")
        # Intl writes "3\u00a0jours" (a no-break space): compared with plain spaces.
        page.wait_for_function("() => document.getElementById('edit-lifetime').innerText.trim()"
                               ".replace(/\\u00a0/g, ' ') === '3 jours'")
        page.click("#edit-lifetime")
        choices = [text.replace("\u00a0", " ") for text in page.locator("[role=option]").all_inner_texts()]
        assert choices[-1] == "Personnalisée…" and "7 jours" in choices and "1 jour" in choices, choices
        assert not any(re.search(r"\b(days?|hours?|Custom)\b", choice) for choice in choices), choices
        page.keyboard.press("Escape")
    finally:
        context.close()
