"""/admin in Chromium, against the production server: an administrator uses every action on
the users list (the destructive ones ask first), sees what each did, the audit log and the
instance figures; a non-admin's crafted websocket events for every action are refused and
change nothing; the page at 1280 and 390 px, light and dark."""

from __future__ import annotations

import importlib.util

import pyotp
import pytest
from sqlalchemy import text
from ui_helpers import PASSWORD, screenshots, signed_up_on

from pwpush_app.core import accounts, admin, two_factor
from pwpush_app.core.audit import Client
from pwpush_app.core.create import NewPush, create_push
from pwpush_app.core.reveal import reveal_push
from pwpush_app.core.runtime import open_runtime
from pwpush_app.settings import load_settings
from tests.servers import LiveServer, free_port

AXE = importlib.util.find_spec("axe_playwright_python") is not None
ACTIONS = ("lock", "unlock", "delete", "reset_2fa", "promote", "demote", "sign_out")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    server = LiveServer(tmp_path_factory.mktemp("admin-area") / "data", free_port())
    server.start()
    yield server, open_runtime(load_settings(server.env))
    server.stop()


def _rows(runtime, sql: str) -> list[dict]:
    with runtime.engine.connect() as connection:
        return [dict(r) for r in connection.execute(text(sql)).mappings()]


def _snapshot(runtime) -> dict:
    """Every row an action could change (a session by its id: its last activity moves on its own)."""
    tables = ("pwpush_user", "login_failure", "login_step", "backup_code", "push", "admin_action")
    found = {t: sorted(map(repr, _rows(runtime, f"SELECT * FROM {t}"))) for t in tables}
    found["session"] = sorted(r["id"] for r in _rows(runtime, "SELECT id FROM session"))
    return found


def _account(runtime, email: str, two_factor_on: bool = False):
    user = accounts.sign_up(runtime, email, PASSWORD)
    if two_factor_on:
        enrolment = two_factor.begin_enrolment(runtime, user.id)
        two_factor.confirm_enrolment(runtime, user.id, pyotp.TOTP(enrolment.secret).now())
    return user


def _row(page, email: str):
    return page.locator(".admin-user", has_text=email)


def _confirm(page, email: str, action: str) -> None:
    _row(page, email).locator(f".admin-{action}").click()
    page.wait_for_selector(f"#confirm-{action}")
    page.click(f"#confirm-{action}")


def _done(page, words: str) -> None:
    page.wait_for_selector(f"#admin-done:has-text('{words}')")


def test_an_admin_uses_every_action_and_a_non_admin_changes_nothing(site, new_page):
    server, runtime = site
    bob = _account(runtime, "bob@example.com", two_factor_on=True)
    dave = _account(runtime, "dave@example.com")
    erin = _account(runtime, "erin@example.com")
    bob_session = accounts.open_session(runtime, bob.id, False, bob.created_at)
    daves_push = create_push(runtime, NewPush(payload="dave-canary-secret"), Client(user_id=dave.id))
    viewed = create_push(runtime, NewPush(payload="viewed-canary-secret", expire_after_views=2), Client(ip="192.0.2.5"))
    reveal_push(runtime, viewed.url_token, Client(ip="192.0.2.6"))

    # A non-admin, signed in, sends every action for every account over the live websocket.
    mallory = new_page()
    channel = signed_up_on(mallory, server.url, "mallory@example.com", "/admin")
    mallory.wait_for_selector("#admin-refused:has-text('Only administrators')")
    from pwpush_app.ui.admin import AdminState

    before = _snapshot(runtime)
    sent_from = len(channel.frames[-1])
    for action in ACTIONS:
        for target in (bob.id, dave.id, erin.id):
            channel.send_event(f"{AdminState.get_full_name()}.act", {"action": action, "user_id": target})
    mallory.wait_for_timeout(2500)
    assert _snapshot(runtime) == before
    answers = "".join(channel.frames[-1][sent_from:])
    assert "bob@example.com" not in answers and "dave@example.com" not in answers
    assert mallory.locator(".admin-user").count() == 0 and mallory.locator("#admin-done").count() == 0

    # The administrator (make-admin) does each one from the page.
    page = new_page()
    own_channel = signed_up_on(page, server.url, "root@example.com", "/admin",
                               then=lambda: admin.set_admin(runtime, "root@example.com"))
    page.wait_for_selector(".admin-user")
    assert page.locator("#admin-log-empty").is_visible()
    assert page.inner_text("#admin-storage") == "0 bytes in 0 files"
    assert "Active" in page.inner_text("#admin-pushes") and page.locator(".admin-day").count() == 14
    assert page.locator(".admin-day").last.inner_text().split()[-1] == "1"  # today's view
    assert page.locator(".admin-push-row", has_text="Text").inner_text().split() == ["Text", "2", "0"]
    # Nobody can lock, demote or delete themselves from the page.
    mine = _row(page, "root@example.com")
    assert mine.locator(".admin-lock, .admin-demote, .admin-delete").count() == 0

    # Lock: asked first; Cancel keeps it.
    _row(page, "bob@example.com").locator(".admin-lock").click()
    page.get_by_role("button", name="Cancel").click()
    assert _row(page, "bob@example.com").locator(".rt-Badge", has_text="Locked").count() == 0
    _confirm(page, "bob@example.com", "lock")
    _done(page, "bob@example.com is locked")
    _row(page, "bob@example.com").locator(".rt-Badge", has_text="Locked").wait_for()
    assert accounts.user_for_session(runtime, bob_session) is None
    screenshots(page, "admin-area")
    if AXE:
        from test_accessibility import _serious_problems

        for scheme in ("light", "dark"):
            page.set_viewport_size({"width": 390, "height": 844})
            page.emulate_media(color_scheme=scheme)
            assert _serious_problems(page) == [], scheme
        page.set_viewport_size({"width": 1280, "height": 900})
        page.emulate_media(color_scheme="light")

    _row(page, "bob@example.com").locator(".admin-unlock").click()
    _done(page, "bob@example.com is unlocked")
    assert accounts.login_lock(runtime, "bob@example.com") is None

    _confirm(page, "bob@example.com", "reset_2fa")
    _done(page, "Two-factor sign-in of bob@example.com is off")
    assert not accounts.get_user(runtime, bob.id).two_factor_on

    accounts.open_session(runtime, bob.id, False, bob.created_at)
    _confirm(page, "bob@example.com", "sign_out")
    _done(page, "bob@example.com is signed out everywhere")
    assert _rows(runtime, f"SELECT * FROM session WHERE user_id = '{bob.id}'") == []

    _row(page, "erin@example.com").locator(".admin-promote").click()
    _done(page, "erin@example.com is an administrator")
    assert accounts.get_user(runtime, erin.id).is_admin
    _confirm(page, "erin@example.com", "demote")
    _done(page, "erin@example.com is no longer an administrator")
    assert not accounts.get_user(runtime, erin.id).is_admin

    _confirm(page, "dave@example.com", "delete")
    _done(page, "dave@example.com is deleted (1 push deleted)")
    assert accounts.get_user(runtime, dave.id) is None
    assert _rows(runtime, f"SELECT id FROM push WHERE id = '{daves_push.push.id}'") == []
    assert _row(page, "dave@example.com").count() == 0

    # The audit log, newest first: who, what, whom, when, from where.
    log = page.locator(".admin-log-row")
    assert log.count() == 7
    newest = log.first.inner_text()
    assert "root@example.com" in newest and "Deleted" in newest and "dave@example.com" in newest and " UTC from " in newest
    assert "Made administrator" in log.nth(2).inner_text()
    assert "canary" not in page.content()
    assert "1 push deleted" in newest
    screenshots(page, "admin-area-log")

    # A refused action says why and changes nothing (an event the page would not offer).
    before = _snapshot(runtime)
    own_channel.send_event(f"{AdminState.get_full_name()}.act", {"action": "demote", "user_id": bob.id})
    page.wait_for_selector("#admin-action-error:has-text('bob@example.com is not an administrator')")
    own_channel.send_event(f"{AdminState.get_full_name()}.act", {"action": "format-disk", "user_id": bob.id})
    page.wait_for_selector("#admin-action-error:has-text('Unknown action')")
    assert _snapshot(runtime) == before
