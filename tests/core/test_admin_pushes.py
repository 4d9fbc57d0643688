"""The admin area's push list, Expire, effective settings, new backup codes and make-admin's
last-administrator rule, on SQLite and PostgreSQL: metadata only (never a payload, note,
passphrase, name, link or token), Expire through core's expiry (secret and files gone, owner
told, audit log written), a non-admin refused with nothing changed or read."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import text

from pwpush_app.core import accounts, admin, admin_actions, admin_pushes, admin_settings, two_factor
from pwpush_app.core.account_messages import AccountError
from pwpush_app.core.admin_actions import AdminRefused
from pwpush_app.core.audit import Client
from pwpush_app.core.create import NewPush, create_push
from pwpush_app.core.reveal import reveal_push
from pwpush_app.settings_effective import SET_HIDDEN

from .common import T0
from .files_support import RECIPIENT, blob_files, push_files

PASSWORD = "correct horse battery"
IP = "192.0.2.1"
ADMIN_CLIENT = Client(ip="198.51.100.9", user_agent="Mozilla/5.0 (admin)")


def _rows(runtime, sql: str, **params) -> list[dict]:
    with runtime.engine.connect() as connection:
        return [dict(r) for r in connection.execute(text(sql), params).mappings()]


@pytest.fixture
def people(runtime):
    root = accounts.sign_up(runtime, "root@example.com", PASSWORD, now=T0)
    bob = accounts.sign_up(runtime, "bob@example.com", PASSWORD, now=T0)
    admin.set_admin(runtime, "root@example.com")
    return root, bob


def _push(runtime, user=None, payload="canary-payload-xyz", at=T0, **fields):
    client = Client(ip=IP, user_id=user.id if user else None)
    return create_push(runtime, NewPush(payload=payload, **fields), client, now=at)


def test_the_list_shows_metadata_of_every_push_never_a_secret(runtime, people):
    root, bob = people
    text_push = _push(runtime, bob, note="canary-note-xyz", passphrase="canary-passphrase-xyz", name="canary-name-xyz",
                      expire_after_views=3)
    anonymous = _push(runtime, None, at=T0 + timedelta(minutes=1), kind="url", payload="https://canary.example/xyz")
    files = push_files(runtime, Client(ip=IP, user_id=bob.id), [("canary-file.txt", b"x" * 3000), ("b", b"y" * 1000)],
                       now=T0 + timedelta(minutes=2))
    reveal_push(runtime, text_push.url_token, RECIPIENT, passphrase="canary-passphrase-xyz", now=T0)
    listing = admin_pushes.list_pushes(runtime, root.id, now=T0 + timedelta(minutes=3))
    assert (listing.total, listing.page, listing.has_more) == (3, 1, False)
    rows = {r.id: r for r in listing.rows}
    assert [r.id for r in listing.rows] == [files.push.id, anonymous.push.id, text_push.push.id]  # newest first
    shown = rows[text_push.push.id]
    assert (shown.kind, shown.owner_email, shown.views_used, shown.views_allowed, shown.state, shown.files) == (
        "text", "bob@example.com", 1, 3, "active", 0)
    assert shown.expires_at == text_push.push.expires_at and shown.created_at == T0
    assert rows[anonymous.push.id].owner_email is None and rows[anonymous.push.id].kind == "url"
    assert (rows[files.push.id].files, rows[files.push.id].file_bytes) == (2, 4000)
    everything = repr(listing)
    for secret in ("canary", text_push.url_token, anonymous.url_token, text_push.manage_token):
        assert secret not in everything


def test_search_filters_and_pages(runtime, people):
    root, bob = people
    for n in range(admin_pushes.PUSHES_PER_PAGE + 2):
        _push(runtime, bob if n % 2 else None, at=T0 + timedelta(seconds=n))
    _push(runtime, root, kind="qr", payload="qr text")
    first = admin_pushes.list_pushes(runtime, root.id, now=T0)
    assert (len(first.rows), first.total, first.has_more) == (admin_pushes.PUSHES_PER_PAGE, 53, True)
    second = admin_pushes.list_pushes(runtime, root.id, page=2, now=T0)
    assert (len(second.rows), second.has_more) == (3, False)
    assert not {r.id for r in first.rows} & {r.id for r in second.rows}
    assert {r.owner_email for r in admin_pushes.list_pushes(runtime, root.id, "BOB@", now=T0).rows} == {"bob@example.com"}
    assert admin_pushes.list_pushes(runtime, root.id, "anonymous", now=T0).total == 26
    assert admin_pushes.list_pushes(runtime, root.id, kind="qr", now=T0).total == 1
    assert admin_pushes.list_pushes(runtime, root.id, "%", now=T0).total == 0  # a wildcard is a character like any other
    assert admin_pushes.list_pushes(runtime, root.id, state="expired", now=T0).total == 0
    assert admin_pushes.list_pushes(runtime, root.id, page="999999", now=T0).page == admin_pushes.MAX_PAGE
    for bad in (dict(state="gone"), dict(kind="video"), dict(page="two"), dict(page=None)):
        with pytest.raises(AdminRefused):
            admin_pushes.list_pushes(runtime, root.id, **bad)


def test_an_overdue_push_the_purge_has_not_reached_is_expired_in_the_list_its_filter_and_the_figures(runtime, people):
    from pwpush_app.core import admin_figures

    root, bob = people
    overdue = _push(runtime, bob, expire_after_minutes=24 * 60)
    used_up = _push(runtime, bob, expire_after_views=1)
    reveal_push(runtime, used_up.url_token, RECIPIENT, now=T0)
    live = _push(runtime, bob, expire_after_minutes=5 * 24 * 60)
    later = T0 + timedelta(days=2)  # the first is past its time; no purge has run
    listing = {r.id: r.state for r in admin_pushes.list_pushes(runtime, root.id, now=later).rows}
    assert listing == {overdue.push.id: "expired", used_up.push.id: "expired", live.push.id: "active"}
    active = admin_pushes.list_pushes(runtime, root.id, state="active", now=later)
    expired = admin_pushes.list_pushes(runtime, root.id, state="expired", now=later)
    assert ([r.id for r in active.rows], active.total) == ([live.push.id], 1)
    assert ({r.id for r in expired.rows}, expired.total) == ({overdue.push.id, used_up.push.id}, 2)
    figures = admin_figures.instance_figures(runtime, root.id, later)
    assert (figures.pushes[("text", "active")], figures.pushes[("text", "expired")]) == (1, 2)
    # The same push the day before its time: active in all three.
    before = admin_figures.instance_figures(runtime, root.id, T0 + timedelta(hours=12))
    assert (before.pushes[("text", "active")], before.pushes[("text", "expired")]) == (2, 1)
    assert admin_pushes.list_pushes(runtime, root.id, state="active", now=T0 + timedelta(hours=12)).total == 2


def test_expire_deletes_the_secret_and_files_tells_the_owner_and_is_logged(runtime, people):
    root, bob = people
    pushed = _push(runtime, bob, note="canary-note-xyz")
    files = push_files(runtime, Client(ip=IP, user_id=bob.id), [("a.txt", b"file-canary" * 100)])
    assert len(blob_files(runtime)) == 1
    done = admin_pushes.expire_push(runtime, root.id, pushed.push.id, ADMIN_CLIENT, T0)
    assert (done.action, done.target_email) == ("expire_push", "bob@example.com")
    row = _rows(runtime, "SELECT * FROM push WHERE id = :id", id=pushed.push.id)[0]
    assert row["expired"] and row["expired_reason"] == "admin"
    assert (row["payload_sealed"], row["note_sealed"], row["wrapped_key"], row["link_sealed"]) == (None,) * 4
    with pytest.raises(Exception):
        reveal_push(runtime, pushed.url_token, RECIPIENT, now=T0)
    events = _rows(runtime, "SELECT kind, actor FROM audit_event WHERE push_id = :id AND kind = 'expire'",
                   id=pushed.push.id)
    assert events == [{"kind": "expire", "actor": "admin"}]  # the owner's trail says who
    admin_pushes.expire_push(runtime, root.id, files.push.id, ADMIN_CLIENT, T0)
    assert blob_files(runtime) == []
    log = admin_actions.audit_log(runtime, root.id)
    assert [(r.action, r.target_email, r.ip) for r in log][:2] == [
        ("expire_push", "bob@example.com", "198.51.100.9"), ("expire_push", "bob@example.com", "198.51.100.9")]
    assert log[1].words == "Expired a push of" and "0 of 5 views used" in log[1].detail
    assert "text push" in log[1].detail and "canary" not in repr(log)
    with pytest.raises(AdminRefused, match="expired already"):
        admin_pushes.expire_push(runtime, root.id, pushed.push.id, ADMIN_CLIENT, T0)
    for bad in ("", "x" * 33, None, 5, "no-such-push"):
        with pytest.raises(AdminRefused):
            admin_pushes.expire_push(runtime, root.id, bad, ADMIN_CLIENT, T0)
    anonymous = _push(runtime, None)
    assert admin_pushes.expire_push(runtime, root.id, anonymous.push.id, ADMIN_CLIENT, T0).target_email == "anonymous"


@pytest.mark.parametrize("who", ["bob", "nobody", "demoted", "deleted"])
def test_a_non_admin_is_refused_the_list_expire_and_settings_and_nothing_changes(runtime, people, who):
    root, bob = people
    pushed = _push(runtime, None)
    other = accounts.sign_up(runtime, "carol@example.com", PASSWORD, now=T0)
    if who == "demoted":
        admin.set_admin(runtime, "carol@example.com")
        admin.set_admin(runtime, "carol@example.com", admin=False)
    user_id = {"bob": bob.id, "nobody": None, "demoted": other.id, "deleted": "0" * 32}[who]
    before = _rows(runtime, "SELECT * FROM push ORDER BY id") + _rows(runtime, "SELECT * FROM admin_action")
    with pytest.raises(admin.NotAdmin):
        admin_pushes.list_pushes(runtime, user_id)
    with pytest.raises(admin.NotAdmin):
        admin_pushes.expire_push(runtime, user_id, pushed.push.id, ADMIN_CLIENT, T0)
    with pytest.raises(admin.NotAdmin):
        admin_settings.settings_for_admin(runtime, user_id)
    assert _rows(runtime, "SELECT * FROM push ORDER BY id") + _rows(runtime, "SELECT * FROM admin_action") == before


def test_disable_logins_closes_the_push_list_and_settings(make_runtime):
    open_site = make_runtime()
    root = accounts.sign_up(open_site, "root@example.com", PASSWORD, now=T0)
    admin.set_admin(open_site, "root@example.com")
    closed = make_runtime(PWP__DISABLE_LOGINS="true")
    for call in (lambda: admin_pushes.list_pushes(closed, root.id),
                 lambda: admin_settings.settings_for_admin(closed, root.id)):
        with pytest.raises(admin.LoginsClosed):
            call()


def test_effective_settings_say_where_each_value_came_from_and_hide_secrets(make_runtime):
    from pwpush_app.master_key import generate_master_key_text

    key = generate_master_key_text()
    runtime = make_runtime(PWPUSH_MASTER_KEY=key, PWP__BRAND__TITLE="Acme Secrets", PWP__PW__EXPIRE_AFTER_DAYS_MAX="30",
                           PWP__MAIL__SMTP_ADDRESS="smtp.example.com", PWP__MAIL__SMTP_USER_NAME="mailer",
                           PWP__MAIL__SMTP_PASSWORD="smtp-canary-pw", PWP__FILES__S3__ACCESS_KEY_ID="AKIACANARY",
                           PWP__FILES__S3__SECRET_ACCESS_KEY="s3-canary-secret", PWPUSH_FILES_STORAGE="s3",
                           PWPUSH_S3_BUCKET="bucket", REFLEX_REDIS_URL="redis://:redis-canary-pw@redis.example:6379/0")
    root = accounts.sign_up(runtime, "root@example.com", PASSWORD, now=T0)
    admin.set_admin(runtime, "root@example.com")
    rows = {r.name: r for r in admin_settings.settings_for_admin(runtime, root.id)}
    assert (rows["PWP__BRAND__TITLE"].value, rows["PWP__BRAND__TITLE"].source) == ("Acme Secrets", "environment")
    assert (rows["PWP__PW__EXPIRE_AFTER_DAYS_MAX"].value, rows["PWP__PW__EXPIRE_AFTER_DAYS_MAX"].source) == (
        "30", "environment")
    assert (rows["PWP__PW__EXPIRE_AFTER_DAYS_MIN"].value, rows["PWP__PW__EXPIRE_AFTER_DAYS_MIN"].source) == ("1", "default")
    assert (rows["PWP__DISABLE_SIGNUPS"].value, rows["PWP__DISABLE_SIGNUPS"].source) == ("false", "default")
    for name in ("PWPUSH_MASTER_KEY", "PWP__MAIL__SMTP_PASSWORD", "PWP__FILES__S3__ACCESS_KEY_ID",
                 "PWP__FILES__S3__SECRET_ACCESS_KEY"):
        assert (rows[name].value, rows[name].source, rows[name].redacted) == (SET_HIDDEN, "environment", True), name
    assert rows["REFLEX_REDIS_URL"].value == "redis://:•••@redis.example:6379/0" and rows["REFLEX_REDIS_URL"].redacted
    assert rows["PWPUSH_MASTER_KEY_PREVIOUS"].value == "(none)"  # unset secrets say so
    shown = repr(list(rows.values()))
    for secret in (key, "smtp-canary-pw", "AKIACANARY", "s3-canary-secret", "redis-canary-pw"):
        assert secret not in shown
    # Every documented variable has its line.
    from pwpush_app.settings_values import SETTINGS_TABLE

    assert all(doc.name.split()[0] in rows or "..." in doc.name for doc in SETTINGS_TABLE)


def test_database_url_password_is_hidden(make_runtime):
    from pwpush_app.settings_effective import effective_settings

    rows = {r.name: r for r in effective_settings(
        {"REFLEX_DB_URL": "postgresql+psycopg://app:p@ss/w0rd@db.example:5432/pwpush?sslmode=require&password=q2"})}
    assert rows["REFLEX_DB_URL"].value == "postgresql+psycopg://app:•••@db.example:5432/pwpush?sslmode=require&password=•••"


def test_every_secret_like_setting_is_declared_secret():
    """A guard for the declarations (the page never guesses): a new setting named like a
    secret must say how it is secret."""
    import re

    from pwpush_app.settings_values import SETTINGS_TABLE

    looks_secret = re.compile(r"PASSWORD|SECRET|ACCESS_KEY|MASTER_KEY(?!_FILE)|TOKEN|_URL$|REDIS|DB_URL")
    undeclared = [d.name for d in SETTINGS_TABLE if looks_secret.search(d.name) and not d.secret
                  and d.name not in ("PWP__OVERRIDE_BASE_URL", "PWPUSH_S3_ENDPOINT_URL")]
    assert undeclared == []


def test_new_backup_codes_replace_the_old_ones(runtime, people):
    _root, bob = people
    enrolment = two_factor.begin_enrolment(runtime, bob.id, T0)
    old = two_factor.confirm_enrolment(runtime, bob.id, pyotp.TOTP(enrolment.secret).at(T0), T0)
    later = T0 + timedelta(minutes=2)
    with pytest.raises(AccountError, match="not right"):
        two_factor.renew_backup_codes(runtime, bob.id, "000000", IP, later)
    assert two_factor.backup_codes_left(runtime, bob.id) == 10  # a wrong code changes nothing
    new = two_factor.renew_backup_codes(runtime, bob.id, pyotp.TOTP(enrolment.secret).at(later), IP, later)
    assert len(new) == 10 and not set(new) & set(old) and two_factor.backup_codes_left(runtime, bob.id) == 10
    user = accounts.get_user(runtime, bob.id)
    with pytest.raises(AccountError):
        two_factor.check_code(runtime, user, old[0], IP, later)
    two_factor.check_code(runtime, user, new[0], IP, later)
    assert two_factor.backup_codes_left(runtime, bob.id) == 9
    # A backup code is a current code too; without two-factor there is nothing to renew.
    assert len(two_factor.renew_backup_codes(runtime, bob.id, new[1], IP, later)) == 10
    carol = accounts.sign_up(runtime, "carol@example.com", PASSWORD, now=T0)
    with pytest.raises(AccountError, match="not on"):
        two_factor.renew_backup_codes(runtime, carol.id, "123456", IP, later)


def test_make_admin_remove_never_removes_the_last_administrator(runtime, people):
    root, bob = people
    with pytest.raises(admin.LastAdministrator, match="last administrator"):
        admin.set_admin(runtime, "root@example.com", admin=False)
    assert admin.require_admin(runtime, root.id)
    admin.set_admin(runtime, "bob@example.com")
    admin.set_admin(runtime, "root@example.com", admin=False)
    with pytest.raises(admin.NotAdmin):
        admin.require_admin(runtime, root.id)
    assert not admin.set_admin(runtime, "root@example.com", admin=False).is_admin  # not an admin: nothing to refuse


def test_the_owners_mail_says_an_administrator_expired_the_push():
    from pwpush_app.core.letters import PushEvent

    by_admin = PushEvent(kind="deleted", push_name="", push_created_at=T0, at=T0, ip="198.51.100.9",
                         user_agent="Mozilla/5.0 (admin)", views_left=0, expired_reason="admin")
    sentence = by_admin.sentence()
    assert "expired by an administrator of this site" in sentence and "198.51.100.9" not in sentence
    by_viewer = PushEvent(kind="deleted", push_name="", push_created_at=T0, at=T0, ip="203.0.113.7", user_agent="",
                          views_left=0, expired_reason="viewer")
    assert "deleted by its recipient" in by_viewer.sentence()


def test_the_owners_audit_trail_names_the_administrator():
    from pwpush_app.ui.components.audit_words import EXPIRED_REASONS, describe_event

    assert describe_event("expire", "admin").endswith("by an administrator")
    assert describe_event("expire", "viewer").endswith("by the recipient")
    assert describe_event("expire", "owner").endswith("by the owner")
    assert EXPIRED_REASONS["admin"] == "an administrator expired it"
