"""/admin/pushes, /admin/settings and the account page's "New backup codes" in Chromium,
against the production server: an administrator searches the push list and expires a push
(asked first; its secret is gone and the audit log says so), reads the settings with their
sources and no secret; a non-admin's crafted websocket events for both pages get nothing and
change nothing; a stranger is sent to log in; new backup codes replace the old ones.
Screenshots at 1280 and 390 px, light and dark."""

from __future__ import annotations

import importlib.util
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import text
from ui_helpers import screenshots, signed_up_on, wait_until_ready

from pwpush_app.core import accounts, admin, two_factor
from pwpush_app.core.audit import Client
from pwpush_app.core.clock import utcnow
from pwpush_app.core.create import NewPush, create_push
from pwpush_app.core.runtime import open_runtime
from pwpush_app.settings import load_settings
from tests.servers import LiveServer, free_port

AXE = importlib.util.find_spec("axe_playwright_python") is not None
SMTP_CANARY = "smtp-canary-Pw-93ab"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    server = LiveServer(tmp_path_factory.mktemp("admin-pages") / "data", free_port(),
                        {"PWP__BRAND__TITLE": "Acme Secrets",
                         "PWP__MAIL__SMTP_ADDRESS": "127.0.0.1", "PWP__MAIL__SMTP_PORT": "9",
                         "PWP__MAIL__SMTP_USER_NAME": "mailer", "PWP__MAIL__SMTP_PASSWORD": SMTP_CANARY})
    server.start()
    yield server, open_runtime(load_settings(server.env))
    server.stop()


def _rows(runtime, sql: str, **params) -> list[dict]:
    with runtime.engine.connect() as connection:
        return [dict(r) for r in connection.execute(text(sql), params).mappings()]


def _snapshot(runtime) -> dict:
    return {t: sorted(map(repr, _rows(runtime, f"SELECT * FROM {t}"))) for t in ("push", "admin_action", "audit_event")}


def _axe_clean(page) -> None:
    if not AXE:
        return
    from test_accessibility import _serious_problems

    for scheme in ("light", "dark"):
        page.set_viewport_size({"width": 390, "height": 844})
        page.emulate_media(color_scheme=scheme)
        assert _serious_problems(page) == [], scheme
    page.set_viewport_size({"width": 1280, "height": 900})
    page.emulate_media(color_scheme="light")


def test_push_list_expire_and_settings_for_admins_only(site, new_page):
    from pwpush_app.ui.admin_pushes import AdminPushesState
    from pwpush_app.ui.admin_settings import AdminSettingsState

    server, runtime = site
    bob = accounts.sign_up(runtime, "bob@example.com", "another good password")
    bobs = create_push(runtime, NewPush(payload="bob-canary-secret", note="bob-canary-note", expire_after_views=3),
                       Client(ip="192.0.2.5", user_id=bob.id))
    create_push(runtime, NewPush(payload="https://canary.example/anon", kind="url"), Client(ip="192.0.2.6"))

    # A stranger is sent to log in.
    stranger = new_page()
    for path in ("/admin/pushes", "/admin/settings"):
        stranger.goto(server.url + path)
        stranger.wait_for_url("**/login**")

    # A non-admin, signed in, is told no and gets nothing from crafted events.
    mallory = new_page()
    channel = signed_up_on(mallory, server.url, "mallory@example.com", "/admin/pushes")
    mallory.wait_for_selector("#admin-refused:has-text('Only administrators')")
    before = _snapshot(runtime)
    sent_from = len(channel.frames[-1])
    pushes = AdminPushesState.get_full_name()
    channel.send_event(f"{pushes}.expire", {"push_id": bobs.push.id})
    channel.send_event(f"{pushes}.search", {"form_data": {"search": "bob", "state": "all", "kind": "all"}})
    channel.send_event(f"{pushes}.go", {"page": 1})
    channel.send_event(f"{AdminSettingsState.get_full_name()}.load", {})
    mallory.wait_for_timeout(2500)
    assert _snapshot(runtime) == before
    answers = "".join(channel.frames[-1][sent_from:])
    for leak in ("bob@example.com", bobs.push.id, "Acme Secrets", "PWP__"):
        assert leak not in answers
    assert mallory.locator(".admin-push").count() == 0
    mallory.goto(server.url + "/admin/settings")
    mallory.wait_for_selector("#admin-refused:has-text('Only administrators')")
    assert mallory.locator(".admin-setting").count() == 0

    # The administrator: the list, a search, Expire (asked first).
    page = new_page()
    signed_up_on(page, server.url, "root@example.com", "/admin", then=lambda: admin.set_admin(runtime, "root@example.com"))
    page.click("#admin-nav a:has-text('Pushes')")
    page.wait_for_selector(".admin-push")
    assert page.locator(".admin-push").count() == 2 and "2 pushes found" in page.inner_text("#pushes-found")
    assert "canary" not in page.content() and bobs.url_token not in page.content()
    page.fill("#push-search", "BOB@")
    page.click("#search-pushes")
    page.wait_for_selector("#pushes-found:has-text('1 push found')")
    row = page.locator(".admin-push")
    assert "bob@example.com" in row.inner_text() and "0 of 3 views used" in row.inner_text()
    assert "Active" in row.locator(".admin-push-state").inner_text()
    screenshots(page, "admin-pushes")
    _axe_clean(page)
    row.locator(".admin-expire").click()
    page.get_by_role("button", name="Cancel").click()
    assert _rows(runtime, "SELECT expired FROM push WHERE id = :id", id=bobs.push.id)[0]["expired"] in (0, False)
    row.locator(".admin-expire").click()
    page.click("#confirm-expire")
    page.wait_for_selector("#admin-done:has-text('The push of bob@example.com is expired')")
    stored = _rows(runtime, "SELECT * FROM push WHERE id = :id", id=bobs.push.id)[0]
    assert stored["expired_reason"] == "admin" and stored["payload_sealed"] is None and stored["note_sealed"] is None
    assert "Expired (by an administrator)" in page.locator(".admin-push").inner_text()
    assert page.locator(".admin-push .admin-expire").count() == 0
    page.select_option("#filter-state", "active")
    page.fill("#push-search", "")
    page.click("#search-pushes")
    # (Still one push found, another one: the filtered list's own row tells them apart.)
    page.wait_for_selector(".admin-push:has-text('Anonymous')")
    assert page.locator(".admin-push").count() == 1 and "1 push found" in page.inner_text("#pushes-found")
    page.click("#admin-nav a:has-text('Users and figures')")
    page.wait_for_selector(".admin-log-row")
    assert "Expired a push of bob@example.com" in page.locator(".admin-log-row").first.inner_text()

    # The settings: in force, where from, no secret.
    page.click("#admin-nav a:has-text('Settings')")
    page.wait_for_selector(".admin-setting")
    title = page.locator(".admin-setting", has_text="PWP__BRAND__TITLE").first
    assert "Acme Secrets" in title.inner_text() and "Environment" in title.inner_text()
    signups = page.locator(".admin-setting", has_text="PWP__DISABLE_SIGNUPS").first
    assert "Default" in signups.inner_text() and "false" in signups.inner_text()
    for name in ("PWPUSH_MASTER_KEY", "PWP__MAIL__SMTP_PASSWORD"):
        hidden = page.locator(".admin-setting", has=page.locator(".setting-name", has_text=name)).first
        assert "(set, hidden)" in hidden.inner_text() and "Hidden" in hidden.inner_text(), name
    content = page.content()
    assert SMTP_CANARY not in content and server.env["PWPUSH_MASTER_KEY"] not in content
    screenshots(page, "admin-settings")
    _axe_clean(page)


def test_new_backup_codes_from_the_account_page(site, new_page):
    server, runtime = site
    page = new_page()
    signed_up_on(page, server.url, "carol@example.com", "/account")
    carol = _rows(runtime, "SELECT id FROM pwpush_user WHERE email = 'carol@example.com'")[0]["id"]
    enrolment = two_factor.begin_enrolment(runtime, carol)
    old = two_factor.confirm_enrolment(runtime, carol, pyotp.TOTP(enrolment.secret).now())
    page.reload()
    wait_until_ready(page)
    page.wait_for_selector("#two-factor-status:has-text('10 backup codes left')")
    screenshots(page, "account-two-factor-on")
    # A wrong code: told so, the old codes stay.
    page.fill("#renew-code", "000000")
    page.click("#renew-codes")
    page.wait_for_selector("#two-factor-error:has-text('not right')")
    assert two_factor.backup_codes_left(runtime, carol) == 10
    # The next step's code (the one just used is spent): ten new codes, shown once.
    page.fill("#renew-code", pyotp.TOTP(enrolment.secret).at(utcnow() + timedelta(seconds=30)))
    page.click("#renew-codes")
    page.wait_for_selector("#backup-codes-renewed")
    page.wait_for_function("() => document.getElementById('backup-codes').value.split('\\n').length === 10")
    new = page.input_value("#backup-codes").split("\n")
    assert not set(new) & set(old)
    screenshots(page, "account-new-backup-codes")
    page.click("#saved-codes")
    # Shown once: the codes leave the page (the status said "10 left" before the click too, so wait for them).
    page.wait_for_function("() => (document.getElementById('backup-codes')?.value ?? '') === ''")
    page.wait_for_selector("#two-factor-status:has-text('10 backup codes left')")
    user = accounts.get_user(runtime, carol)
    with pytest.raises(accounts.AccountError):
        two_factor.check_code(runtime, user, old[0], "192.0.2.9")
    two_factor.check_code(runtime, user, new[0], "192.0.2.9")
