"""The create page and the share page in the sender's language (issue 19): the form's labels,
its lifetime choices as durations of that language, the share page with its times in the
sender's zone; Arabic laid out right to left.  Pictures for docs/web-app.md."""

from __future__ import annotations

import pytest
from test_languages import DOCS, _context, _document_language
from ui_helpers import wait_until_ready

pytestmark = pytest.mark.browser

SIZE = {"width": 560, "height": 900}


def _plain(text: str) -> str:
    """Intl writes narrow and no-break spaces ("1\u202fMo"): compared as plain spaces."""
    return text.replace("\u00a0", " ").replace("\u202f", " ").strip()


def _open_form(page, base_url: str, lang: str) -> None:
    page.goto(base_url + "/")
    wait_until_ready(page)
    page.wait_for_selector("#payload")
    page.wait_for_function(f"() => document.documentElement.lang === '{lang}'")


def _lifetime_choices(page) -> list[str]:
    page.click("#lifetime")
    options = page.locator("[role=option]")
    options.first.wait_for()
    texts = [_plain(text) for text in options.all_inner_texts()]
    page.keyboard.press("Escape")
    return texts


def _create(page, secret: str) -> None:
    page.fill("#payload", secret)
    page.click("#create")
    page.wait_for_function("() => ['share-link', 'share-message'].every(id => document.getElementById(id).value.length > 0)")
    page.wait_for_selector("#share-expires")


def test_the_form_and_its_share_page_speak_french(live_server, chromium):
    context = _context(chromium, "fr-FR", viewport=SIZE, timezone="Europe/Paris")
    try:
        page = context.new_page()
        _open_form(page, live_server.url, "fr")
        assert page.inner_text("h1") == "Partager un secret"
        assert page.inner_text("label[for=payload]") == "Secret"
        assert page.get_attribute("#payload", "placeholder") == "Collez un mot de passe, une clé d'API ou une note privée…"
        assert page.inner_text("#generate") == "Générer un mot de passe"
        assert page.inner_text("label[for=expire_after_views]") == "Consultations"
        assert page.inner_text("label[for=lifetime]") == "Expire après"
        assert page.inner_text("#create") == "Créer le lien secret"
        assert page.get_attribute("#kind-text", "aria-label") == "Push de texte"
        assert "0 octet sur 1 Mo" in _plain(page.inner_text("#payload-count"))
        choices = _lifetime_choices(page)
        assert "5 minutes" in choices and "1 heure" in choices and "7 jours" in choices, choices
        assert choices[-1] == "Personnalisée…"
        assert not any(word in " ".join(choices) for word in ("hour", "day", "week")), choices
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS / "create-fr.png"), full_page=True)
        _create(page, "mot-de-passe-du-client")
        assert page.inner_text("label[for=share-link]") == "Lien secret"
        assert page.inner_text("#create-another") == "En créer un autre"
        # The expiry in the sender's zone (Paris: UTC+1 in winter, +2 in summer) and words.
        expires = _plain(page.inner_text("#share-expires"))
        assert expires.startswith("Il fonctionne pour 5 consultations, jusqu'au "), expires
        assert ("UTC+1" in expires or "UTC+2" in expires) and "(dans 7 jours)" in expires, expires
        message = page.input_value("#share-message")
        assert message.startswith("J'ai partagé un secret avec vous : http") and "expire après 5 consultations ou le " in message
        assert message.endswith(" UTC"), message
        page.mouse.move(0, 0)
        page.screenshot(path=str(DOCS / "share-fr.png"), full_page=True)
        # The printable sheet too, its limits in French with the time in Paris.
        page.goto(page.input_value("#share-manage") + "/print")
        page.wait_for_selector("#print-limits")
        page.wait_for_function("() => document.getElementById('print-limits').textContent.startsWith('Il peut')")
        limits = _plain(page.inner_text("#print-limits"))
        assert limits.startswith("Il peut être ouvert encore 5 fois, jusqu'au "), limits
        assert "UTC+1" in limits or "UTC+2" in limits, limits
        assert page.inner_text("#print-now") == "Imprimer"
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["ar", "ru-RU"])
def test_the_form_and_share_page_in_arabic_read_right_to_left_and_in_russian(live_server, chromium, locale):
    context = _context(chromium, locale, viewport=SIZE)
    lang = locale[:2]
    try:
        page = context.new_page()
        _open_form(page, live_server.url, lang)
        if lang == "ar":
            assert _document_language(page) == ("ar", "rtl")
            assert page.inner_text("h1") == "شارك سرًّا"
            assert page.inner_text("#create") == "أنشئ رابطًا سريًّا"
            assert page.inner_text("label[for=passphrase]") == "عبارة المرور (اختيارية)"
            # Right to left: the heading starts at the right edge.
            heading = page.locator("h1").bounding_box()
            assert heading["x"] + heading["width"] > SIZE["width"] - 60, heading
        else:
            assert page.inner_text("#create") == "Создать секретную ссылку"
            assert "7 дней" in _lifetime_choices(page)
        # Nothing sticks out sideways (right to left, a hidden input once widened the page).
        assert page.evaluate("() => document.documentElement.scrollWidth") <= SIZE["width"]
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS / f"create-{lang}.png"), full_page=True)
        _create(page, "секрет" if lang == "ru" else "سر-للعميل")
        if lang == "ar":
            assert _document_language(page) == ("ar", "rtl")
            assert page.inner_text("label[for=share-link]") == "الرابط السري"
            assert page.inner_text("#create-another") == "أنشئ مشاركة أخرى"
            assert page.input_value("#share-message").startswith("شاركتُ معك سرًّا: http")
            # The link reads left to right inside the right-to-left page.
            assert page.evaluate("() => getComputedStyle(document.getElementById('share-link')).direction") == "ltr"
        else:
            assert "Просмотров: 5, до " in _plain(page.inner_text("#share-expires"))
        assert page.evaluate("() => document.documentElement.scrollWidth") <= SIZE["width"]
        page.mouse.move(0, 0)
        page.screenshot(path=str(DOCS / f"share-{lang}.png"), full_page=True)
    finally:
        context.close()
