"""The account pages in the visitor's language (issue 19): sign up and log in in German with a
refusal (wrong password) in German, the API token page in Arabic laid out right to left, and
the account's language (User.locale, the language of its mails) following a switch of the
language menu. One build for everybody: the language comes from the browser."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import Session, select
from ui_helpers import LAPTOP, PASSWORD, SCREENSHOTS, submit_log_in, submit_sign_up, wait_until_ready

from pwpush_app.core import accounts
from pwpush_app.core.models import User

pytestmark = pytest.mark.browser


def _context(chromium, locale: str, viewport: dict = LAPTOP):
    context = chromium.new_context(viewport=viewport, locale=locale, timezone_id="Europe/Berlin")
    context.set_default_timeout(30_000)
    return context


def _open(page, url: str, lang: str) -> None:
    page.goto(url)
    wait_until_ready(page)
    page.wait_for_function(f"() => document.documentElement.lang === '{lang}'")


def _label(page, field_id: str) -> str:
    return page.inner_text(f"label[for='{field_id}']").strip()


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.mouse.move(0, 0)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _locale(runtime, email: str) -> str | None:
    """The account's language: the one its mails are written in."""
    with Session(runtime.engine) as db:
        return db.exec(select(User).where(User.email == email)).one().locale


def _email(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


def test_sign_up_and_log_in_in_german_with_the_refusal_in_german(live_server, server_runtime, chromium):
    email = _email("konto")
    context = _context(chromium, "de-DE")
    try:
        page = context.new_page()
        _open(page, live_server.url + "/signup", "de")
        assert page.inner_text("h1") == "Registrieren"
        assert [_label(page, f) for f in ("email", "password", "password_confirmation")] == \
            ["E-Mail", "Passwort", "Passwort wiederholen"]
        assert "Eine Passphrase aus ein paar Wörtern" in page.inner_text("main")
        assert page.title().startswith("Registrieren · ")
        submit_sign_up(page, email)
        # The account's mails are written in the language it signed up in.
        assert _locale(server_runtime, email) == "de"
        assert page.inner_text("#log-out") == "Abmelden"
        # The dashboard too.
        page.wait_for_function("() => document.documentElement.lang === 'de'")
        assert page.inner_text("h1") == "Übersicht"
        assert page.inner_text("#dash-empty") == "Keine aktiven Pushes."

        page.click("#log-out")
        page.wait_for_url("**/login**")
        _open(page, live_server.url + "/login", "de")
        assert page.inner_text("h1") == "Anmelden"
        assert [_label(page, f) for f in ("email", "password")] == ["E-Mail", "Passwort"]
        assert page.inner_text("#log-in") == "Anmelden"
        # The lock-out rule, its pause worded as a German duration.
        assert "falschen Passwörtern wird ein Konto für" in page.inner_text("main")
        assert "Minuten gesperrt." in page.inner_text("main")
        _shot(page, "login-de")

        page.fill("#email", email)
        page.fill("#password", "not-the-password-at-all")
        page.click("#log-in")
        page.wait_for_selector("#form-error")
        page.wait_for_function("() => document.documentElement.lang === 'de'")
        assert page.inner_text("#form-error") == "Falsche E-Mail-Adresse oder falsches Passwort."

        submit_log_in(page, email)
    finally:
        context.close()


def test_the_api_token_page_reads_right_to_left_in_arabic(live_server, server_runtime, chromium):
    email = _email("ramz")
    accounts.sign_up(server_runtime, email, PASSWORD)
    context = _context(chromium, "ar")
    try:
        page = context.new_page()
        _open(page, live_server.url + "/login", "ar")
        assert page.evaluate("document.documentElement.dir") == "rtl"
        assert page.inner_text("h1") == "تسجيل الدخول"
        assert [_label(page, f) for f in ("email", "password")] == ["البريد الإلكتروني", "كلمة المرور"]
        submit_log_in(page, email)

        _open(page, live_server.url + "/api-token", "ar")
        assert page.evaluate("document.documentElement.dir") == "rtl"
        assert page.inner_text("h1") == "رمز الواجهة البرمجية"
        page.get_by_text("ليس لديك رمز للواجهة البرمجية.").wait_for()
        page.click("#regenerate-token")
        page.get_by_text("انسخ رمزك الآن: يُعرض مرة واحدة فقط.").wait_for()
        status = page.inner_text("#token-status")
        assert status.startswith("أُنشئ رمز الواجهة البرمجية الخاص بك في "), status
        assert page.get_attribute("#api-token", "aria-label") == "رمز الواجهة البرمجية الجديد"
        # Right to left: the heading starts at the right edge of the column.
        box = page.locator("h1").bounding_box()
        column = page.locator("main > div").bounding_box()
        assert abs((box["x"] + box["width"]) - (column["x"] + column["width"])) < 40, (box, column)
        _shot(page, "api-token-ar")
    finally:
        context.close()


def test_the_accounts_language_follows_a_switch_of_the_language_menu(live_server, server_runtime, chromium):
    email = _email("langue")
    accounts.sign_up(server_runtime, email, PASSWORD)
    context = _context(chromium, "de-DE")
    try:
        page = context.new_page()
        _open(page, live_server.url + "/login", "de")
        submit_log_in(page, email)
        # A login records the page's language as the account's.
        assert _locale(server_runtime, email) == "de"

        _open(page, live_server.url + "/account", "de")
        assert page.inner_text("h1") == "Konto"
        page.select_option("#language", "fr")
        page.wait_for_function("() => document.documentElement.lang === 'fr'")
        assert page.inner_text("h1") == "Compte"
        assert page.get_by_role("button", name="Changer le mot de passe").count() == 1
        for _ in range(50):
            if _locale(server_runtime, email) == "fr":
                break
            page.wait_for_timeout(100)
        assert _locale(server_runtime, email) == "fr"

        # Remembered by this browser too: the next page opens in French.
        _open(page, live_server.url + "/account", "fr")
        assert _label(page, "current_password") == "Mot de passe actuel"
    finally:
        context.close()
