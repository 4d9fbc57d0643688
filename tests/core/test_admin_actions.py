"""The administration area's rules, on SQLite and PostgreSQL: each admin action does what it
says and is logged (who, what, whom, when, from where; never a secret); a non-admin, a
demoted admin and PWP__DISABLE_LOGINS are refused and change nothing; never the last
administrator, never yourself out of admin; the instance figures count what is stored."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import text

from pwpush_app.core import accounts, admin, admin_actions, admin_figures, two_factor
from pwpush_app.core.accounts import AccountError, LoggedIn, LoginLocked
from pwpush_app.core.admin_actions import AdminRefused
from pwpush_app.core.audit import Client
from pwpush_app.core.create import NewPush, create_push
from pwpush_app.core.reveal import reveal_push
from pwpush_app.core.runtime import Runtime

from .common import ALICE, T0, run_at_once
from .files_support import RECIPIENT, blob_files, push_files

PASSWORD = "correct horse battery"
IP = "192.0.2.1"
ADMIN_CLIENT = Client(ip="198.51.100.9", user_agent="Mozilla/5.0 (admin)")
ACTIONS = (admin_actions.lock, admin_actions.unlock, admin_actions.delete_user, admin_actions.reset_two_factor,
           admin_actions.promote, admin_actions.demote, admin_actions.sign_out_everywhere)


def _rows(runtime, sql: str, **params) -> list[dict]:
    with runtime.engine.connect() as connection:
        return [dict(r) for r in connection.execute(text(sql), params).mappings()]


def _sign_up(runtime, email):
    return accounts.sign_up(runtime, email, PASSWORD, now=T0)


@pytest.fixture
def people(runtime):
    root = _sign_up(runtime, "root@example.com")
    bob = _sign_up(runtime, "bob@example.com")
    admin.set_admin(runtime, "root@example.com")
    return root, bob


def _log(runtime) -> list[tuple]:
    return [(r.admin_email, r.action, r.target_email) for r in admin_actions.audit_log(runtime, _admin_id(runtime))]


def _admin_id(runtime) -> str:
    return _rows(runtime, "SELECT id FROM pwpush_user WHERE is_admin = :yes ORDER BY email", yes=True)[0]["id"]


def _snapshot(runtime) -> dict:
    tables = ("pwpush_user", "session", "login_failure", "login_step", "backup_code", "push", "admin_action")
    return {t: sorted(map(repr, _rows(runtime, f"SELECT * FROM {t}"))) for t in tables}


def _enrol(runtime, user) -> str:
    enrolment = two_factor.begin_enrolment(runtime, user.id, T0)
    two_factor.confirm_enrolment(runtime, user.id, pyotp.TOTP(enrolment.secret).at(T0), T0)
    return enrolment.secret


def test_lock_refuses_every_login_until_unlocked_and_a_reset_does_not_lift_it(runtime, people):
    root, bob = people
    session = accounts.log_in(runtime, "bob@example.com", PASSWORD, IP, now=T0).session_token
    done = admin_actions.lock(runtime, root.id, bob.id, ADMIN_CLIENT, T0)
    assert done.target_email == "bob@example.com" and done.detail == "1 session ended"
    assert accounts.user_for_session(runtime, session, T0) is None  # signed out at once
    later = T0 + timedelta(days=30)
    with pytest.raises(LoginLocked) as locked:
        accounts.log_in(runtime, "bob@example.com", PASSWORD, IP, now=later)
    # Told like any lock-out (the usual while from now): nothing says an administrator did it.
    assert locked.value.until == later + timedelta(minutes=runtime.settings.login_lockout_minutes)
    assert admin.list_users(runtime, root.id, "bob", now=later)[0].locked
    # What a reset link does (a new password) leaves an admin lock in place.
    accounts.set_password(runtime, accounts.get_user(runtime, bob.id), "another good password", later)
    with pytest.raises(LoginLocked):
        accounts.log_in(runtime, "bob@example.com", "another good password", IP, now=later)
    admin_actions.unlock(runtime, root.id, bob.id, ADMIN_CLIENT, later)
    assert isinstance(accounts.log_in(runtime, "bob@example.com", "another good password", IP, now=later), LoggedIn)
    with pytest.raises(AdminRefused, match="not locked"):
        admin_actions.unlock(runtime, root.id, bob.id, ADMIN_CLIENT, later)
    with pytest.raises(AdminRefused, match="lock yourself"):
        admin_actions.lock(runtime, root.id, root.id, ADMIN_CLIENT, later)
    assert _log(runtime) == [("root@example.com", "unlock", "bob@example.com"),
                             ("root@example.com", "lock", "bob@example.com")]


def test_unlock_ends_a_lock_out_after_wrong_passwords(make_runtime):
    runtime = make_runtime(PWPUSH_LOGIN_MAX_FAILURES="2")
    root, bob = _sign_up(runtime, "root@example.com"), _sign_up(runtime, "bob@example.com")
    admin.set_admin(runtime, "root@example.com")
    for _ in range(2):
        with pytest.raises(AccountError):
            accounts.log_in(runtime, "bob@example.com", "wrong password", IP, now=T0)
    with pytest.raises(LoginLocked):
        accounts.log_in(runtime, "bob@example.com", PASSWORD, IP, now=T0)
    admin_actions.unlock(runtime, root.id, bob.id, ADMIN_CLIENT, T0)
    assert isinstance(accounts.log_in(runtime, "bob@example.com", PASSWORD, IP, now=T0), LoggedIn)


def test_reset_two_factor_lets_the_password_alone_log_in(runtime, people):
    root, bob = people
    _enrol(runtime, bob)
    step = accounts.log_in(runtime, "bob@example.com", PASSWORD, IP, now=T0)
    assert not isinstance(step, LoggedIn)  # the code is asked for
    admin_actions.reset_two_factor(runtime, root.id, bob.id, ADMIN_CLIENT, T0)
    fresh = accounts.get_user(runtime, bob.id)
    assert not fresh.two_factor_on and fresh.totp_secret_sealed is None and fresh.totp_wrapped_key is None
    assert _rows(runtime, "SELECT * FROM backup_code WHERE user_id = :id", id=bob.id) == []
    assert _rows(runtime, "SELECT * FROM login_step WHERE user_id = :id", id=bob.id) == []  # the pending step ended
    assert isinstance(accounts.log_in(runtime, "bob@example.com", PASSWORD, IP, now=T0), LoggedIn)
    with pytest.raises(AdminRefused, match="no two-factor"):
        admin_actions.reset_two_factor(runtime, root.id, bob.id, ADMIN_CLIENT, T0)


def test_sign_out_everywhere_ends_sessions_and_login_steps(runtime, people):
    root, bob = people
    sessions = [accounts.log_in(runtime, "bob@example.com", PASSWORD, IP, now=T0).session_token for _ in range(3)]
    mine = accounts.log_in(runtime, "root@example.com", PASSWORD, IP, now=T0).session_token
    done = admin_actions.sign_out_everywhere(runtime, root.id, bob.id, ADMIN_CLIENT, T0)
    assert done.detail == "3 sessions ended"
    assert all(accounts.user_for_session(runtime, s, T0) is None for s in sessions)
    assert accounts.user_for_session(runtime, mine, T0).id == root.id  # nobody else's
    assert isinstance(accounts.log_in(runtime, "bob@example.com", PASSWORD, IP, now=T0), LoggedIn)  # not a lock


def test_promote_and_demote_never_the_last_admin_nor_yourself(runtime, people):
    root, bob = people
    with pytest.raises(AdminRefused, match="yourself"):
        admin_actions.demote(runtime, root.id, root.id, ADMIN_CLIENT, T0)
    with pytest.raises(AdminRefused, match="not an administrator"):
        admin_actions.demote(runtime, root.id, bob.id, ADMIN_CLIENT, T0)
    admin_actions.promote(runtime, root.id, bob.id, ADMIN_CLIENT, T0)
    assert admin.require_admin(runtime, bob.id)
    with pytest.raises(AdminRefused, match="already"):
        admin_actions.promote(runtime, root.id, bob.id, ADMIN_CLIENT, T0)
    # Two admins demoting each other at the same moment: one wins, one admin is left.
    outcomes = []

    def demote(pair):
        try:
            admin_actions.demote(runtime, pair[0].id, pair[1].id, ADMIN_CLIENT, T0)
            outcomes.append("done")
        except admin.NotAdmin:
            outcomes.append("refused")

    run_at_once(demote, [(root, bob), (bob, root)])
    assert sorted(outcomes) == ["done", "refused"]
    admins = _rows(runtime, "SELECT id FROM pwpush_user WHERE is_admin = :yes", yes=True)
    assert len(admins) == 1
    last = admins[0]["id"]
    # The last one cannot be demoted by anyone: nobody else is an admin to ask.
    with pytest.raises(AdminRefused, match="yourself"):
        admin_actions.demote(runtime, last, last, ADMIN_CLIENT, T0)


def test_an_address_listed_in_admin_emails_is_not_demoted(make_runtime):
    runtime = make_runtime(PWP__ADMIN_EMAILS="ops@example.com", PWP__ENABLE_USER_ACCOUNT_EMAILS="true",
                           PWP__MAIL__SMTP_ADDRESS="127.0.0.1")
    root, ops = _sign_up(runtime, "root@example.com"), _sign_up(runtime, "ops@example.com")
    admin.set_admin(runtime, "root@example.com")
    admin.set_admin(runtime, "ops@example.com")
    with pytest.raises(AdminRefused, match="PWP__ADMIN_EMAILS"):
        admin_actions.demote(runtime, root.id, ops.id, ADMIN_CLIENT, T0)
    assert admin.require_admin(runtime, ops.id)


def test_an_admin_demoted_meanwhile_is_refused_at_once(runtime, people):
    """Demoted by the CLI while their page is open: their next action is refused."""
    root, bob = people
    admin_actions.promote(runtime, root.id, bob.id, ADMIN_CLIENT, T0)
    carol = _sign_up(runtime, "carol@example.com")
    admin_actions.promote(runtime, bob.id, carol.id, ADMIN_CLIENT, T0)
    admin.set_admin(runtime, "bob@example.com", admin=False)
    admin.set_admin(runtime, "root@example.com", admin=False)
    with pytest.raises(admin.NotAdmin):  # a demoted admin is refused at once
        admin_actions.demote(runtime, root.id, carol.id, ADMIN_CLIENT, T0)
    assert admin.require_admin(runtime, carol.id)


def test_delete_takes_the_account_and_every_push_with_payloads_and_files(runtime, people):
    root, bob = people
    bob_client = Client(ip="192.0.2.10", user_agent="Mozilla/5.0 (bob)", user_id=bob.id)
    text_push = create_push(runtime, NewPush(payload="bob-canary-payload", note="bob-canary-note"), bob_client, now=T0)
    expired = create_push(runtime, NewPush(payload="bob-old-secret", expire_after_views=1), bob_client, now=T0)
    reveal_push(runtime, expired.url_token, ALICE, now=T0)
    files = push_files(runtime, bob_client, [("a.txt", b"file-canary" * 100)], expire_after_views=1)
    # Its last viewer is inside the download window: the blob is still kept for them.
    reveal_push(runtime, files.url_token, RECIPIENT, now=T0)
    assert len(blob_files(runtime)) == 1
    other = create_push(runtime, NewPush(payload="root-payload"), Client(user_id=root.id), now=T0)
    session = accounts.log_in(runtime, "bob@example.com", PASSWORD, IP, now=T0).session_token

    done = admin_actions.delete_user(runtime, root.id, bob.id, ADMIN_CLIENT, T0)
    assert done.detail == "3 pushes deleted"
    assert accounts.get_user(runtime, bob.id) is None
    assert accounts.user_for_session(runtime, session, T0) is None
    assert [r["id"] for r in _rows(runtime, "SELECT id FROM push")] == [other.push.id]
    assert blob_files(runtime) == []
    for push in (text_push, expired, files):
        assert _rows(runtime, "SELECT * FROM audit_event WHERE push_id = :id", id=push.push.id) == []
    with pytest.raises(AccountError):
        accounts.log_in(runtime, "bob@example.com", PASSWORD, IP, now=T0)
    [row] = _rows(runtime, "SELECT * FROM admin_action")
    assert (row["admin_email"], row["action"], row["target_email"], row["target_id"]) == (
        "root@example.com", "delete", "bob@example.com", bob.id)
    assert (row["ip"], row["user_agent"]) == ("198.51.100.9", "Mozilla/5.0 (admin)")
    assert "canary" not in repr(_rows(runtime, "SELECT * FROM admin_action"))
    with pytest.raises(AdminRefused, match="no longer exists"):
        admin_actions.delete_user(runtime, root.id, bob.id, ADMIN_CLIENT, T0)
    with pytest.raises(AdminRefused, match="your own account"):
        admin_actions.delete_user(runtime, root.id, root.id, ADMIN_CLIENT, T0)


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: a.__name__)
def test_a_non_admin_is_refused_every_action_and_nothing_changes(runtime, people, action):
    root, bob = people
    carol = _sign_up(runtime, "carol@example.com")
    _enrol(runtime, carol)
    accounts.log_in(runtime, "carol@example.com", PASSWORD, IP, now=T0)
    before = _snapshot(runtime)
    for who in (bob.id, None, "", "no-such-user", 42, carol.id):
        for target in (carol.id, root.id, bob.id):
            with pytest.raises(admin.NotAdmin):
                action(runtime, who, target, Client(ip=IP), T0)
    assert _snapshot(runtime) == before
    for reader in (admin_actions.audit_log, admin_figures.instance_figures, admin.list_users):
        with pytest.raises(admin.NotAdmin):
            reader(runtime, bob.id)


@pytest.mark.parametrize("target", ["", None, 7, "x" * 33, "no-such-user", ["a"]])
def test_a_bad_target_is_refused_with_words_and_changes_nothing(runtime, people, target):
    root, _bob = people
    before = _snapshot(runtime)
    for action in ACTIONS:
        with pytest.raises(AdminRefused, match="reload the list"):
            action(runtime, root.id, target, ADMIN_CLIENT, T0)
    assert _snapshot(runtime) == before


def test_disable_logins_closes_the_admin_area(make_runtime):
    runtime = make_runtime()
    root, bob = _sign_up(runtime, "root@example.com"), _sign_up(runtime, "bob@example.com")
    admin.set_admin(runtime, "root@example.com")
    closed = make_runtime(PWP__DISABLE_LOGINS="true")
    before = _snapshot(closed)
    for action in ACTIONS:
        with pytest.raises(admin.LoginsClosed, match="Logins are turned off"):
            action(closed, root.id, bob.id, ADMIN_CLIENT, T0)
    for reader in (admin_actions.audit_log, admin_figures.instance_figures, admin.list_users):
        with pytest.raises(admin.LoginsClosed):
            reader(closed, root.id)
    assert _snapshot(closed) == before


def test_the_audit_log_names_who_what_whom_when_and_where_never_a_secret(runtime, people):
    root, bob = people
    secret = _enrol(runtime, bob)
    token = accounts.log_in(runtime, "root@example.com", PASSWORD, IP, now=T0).session_token
    steps = [(admin_actions.promote, T0), (admin_actions.demote, T0 + timedelta(minutes=1)),
             (admin_actions.reset_two_factor, T0 + timedelta(minutes=2)),
             (admin_actions.sign_out_everywhere, T0 + timedelta(minutes=3)),
             (admin_actions.lock, T0 + timedelta(minutes=4)), (admin_actions.unlock, T0 + timedelta(minutes=5)),
             (admin_actions.delete_user, T0 + timedelta(minutes=6))]
    for action, at in steps:
        action(runtime, root.id, bob.id, ADMIN_CLIENT, at)
    log = admin_actions.audit_log(runtime, root.id)
    assert [r.action for r in log] == ["delete", "unlock", "lock", "sign_out", "reset_2fa", "demote", "promote"]
    assert [r.created_at for r in log] == [at for _a, at in reversed(steps)]
    assert {(r.admin_email, r.target_email, r.ip) for r in log} == {("root@example.com", "bob@example.com", "198.51.100.9")}
    assert log[-1].words == "Made administrator"
    stored = repr(_rows(runtime, "SELECT * FROM admin_action"))
    for needle in (secret, token, PASSWORD, bob.password_hash, root.password_hash):
        assert needle not in stored


def _push(runtime: Runtime, kind="text", **fields):
    payload = "https://example.com/x" if kind == "url" else "payload"
    return create_push(runtime, NewPush(payload=payload, kind=kind, **fields), Client(ip=IP), now=T0)


def test_instance_figures_count_pushes_views_files_mail_and_the_purge(runtime, people):
    from pwpush_app.core.purge import purge_expired
    from pwpush_app.jobs import purge_once

    root, bob = people
    assert admin_figures.instance_figures(runtime, root.id, T0).last_purge is None
    texts = [_push(runtime) for _ in range(3)]
    _push(runtime, "url")
    reveal_push(runtime, texts[0].url_token, ALICE, now=T0)  # one view, on T0's day
    once = _push(runtime, expire_after_views=1)
    reveal_push(runtime, once.url_token, ALICE, now=T0 + timedelta(days=2))  # expired by its view, two days later
    files = push_files(runtime, Client(ip=IP, user_id=bob.id), [("a.bin", b"x" * 3000), ("b.bin", b"y" * 1000)])
    figures = admin_figures.instance_figures(runtime, root.id, T0 + timedelta(days=2))
    assert figures.pushes[("text", "active")] == 3 and figures.pushes[("text", "expired")] == 1
    assert figures.pushes[("url", "active")] == 1 and figures.pushes[("file", "active")] == 1
    assert figures.pushes[("qr", "expired")] == 0
    assert len(figures.views_per_day) == admin_figures.VIEW_DAYS
    days = dict(figures.views_per_day)
    assert days[T0.date()] == 1 and days[(T0 + timedelta(days=2)).date()] == 1
    assert days[(T0 + timedelta(days=1)).date()] == 0 and sum(days.values()) == 2
    assert figures.views_per_day[-1][0] == (T0 + timedelta(days=2)).date()
    assert (figures.file_bytes, figures.files) == (4000, 2)
    assert (figures.mail_queued, figures.mail_failed) == (0, 0)
    # Views older than the window are not counted.
    later = admin_figures.instance_figures(runtime, root.id, T0 + timedelta(days=15))
    assert sum(n for _d, n in later.views_per_day) == 1
    # The purge job's last run; its expiry of the file push deletes the files from the count.
    assert purge_once(runtime, "worker-1") is not None
    assert admin_figures.instance_figures(runtime, root.id).last_purge is not None
    purge_expired(runtime, T0 + timedelta(days=30))
    gone = admin_figures.instance_figures(runtime, root.id, T0 + timedelta(days=30))
    assert (gone.file_bytes, gone.files) == (0, 0) and gone.pushes[("file", "expired")] == 1
    assert files.push.id
