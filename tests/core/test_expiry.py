"""Expiry deletes the secret material, whoever triggers it, and leaves an honest audit trail."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import text

from pwpush_app.core.audit import Client
from pwpush_app.core.create import NewPush, create_push
from pwpush_app.core.db import transaction
from pwpush_app.core.errors import NotAllowed, PushUnavailable
from pwpush_app.core.models import User
from pwpush_app.core.owners import expire_by_owner, owner_view
from pwpush_app.core.purge import purge_expired
from pwpush_app.core.records import find_managed, open_link_token, open_note
from pwpush_app.core.reveal import expire_by_viewer, landing, reveal_push

from .common import ALICE, SENDER, T0, audit_kinds, audit_rows, push_row, run_at_once

SECRET_COLUMNS = ("payload_sealed", "note_sealed", "wrapped_key", "passphrase_hash", "link_sealed")


def add_user(runtime, user_id: str = "u" * 32) -> Client:
    """An account holder as the sender: their pushes keep a sealed copy of the link."""
    with transaction(runtime.engine) as db:
        db.add(User(id=user_id, email=f"{user_id[:8]}@example.com", created_at=T0, updated_at=T0))
    return Client(ip=SENDER.ip, user_agent=SENDER.user_agent, user_id=user_id)


def assert_secrets_deleted(runtime, push_id: str) -> None:
    row = push_row(runtime, push_id)
    assert row["expired"]
    assert {c: row[c] for c in SECRET_COLUMNS} == dict.fromkeys(SECRET_COLUMNS)


def test_the_last_view_returns_the_payload_and_deletes_the_secret_in_the_same_call(runtime, make_push):
    owner = add_user(runtime)
    created = make_push("last one", note="sender's note", passphrase="pass", expire_after_views=1, client=owner)
    assert all(push_row(runtime, created.push.id)[c] for c in SECRET_COLUMNS)

    revealed = reveal_push(runtime, created.url_token, ALICE, passphrase="pass", now=T0)

    assert revealed.payload == "last one"
    assert revealed.push.expired and revealed.push.expired_reason == "views"
    assert_secrets_deleted(runtime, created.push.id)
    rows = audit_rows(runtime, created.push.id)
    assert [(r["kind"], r["actor"]) for r in rows] == [
        ("creation", None), ("view", None), ("expire_auto", "views")
    ]


# Each push below lives 5 minutes; people act at minute 2, time runs out at minute 5.
def _expire_by_owner(runtime, created):
    expire_by_owner(runtime, find_managed(runtime, created.manage_token), SENDER, now=T0 + timedelta(minutes=2))


def _expire_by_viewer(runtime, created):
    expire_by_viewer(runtime, created.url_token, ALICE, passphrase="pass", now=T0 + timedelta(minutes=2))


def _expire_by_time_on_access(runtime, created):
    with pytest.raises(PushUnavailable):
        reveal_push(runtime, created.url_token, ALICE, passphrase="pass", now=T0 + timedelta(minutes=5))


def _expire_by_purge(runtime, created):
    assert purge_expired(runtime, now=T0 + timedelta(minutes=5)) == 1


@pytest.mark.parametrize(
    "expire, reason, trail",
    [
        (_expire_by_owner, "owner", [("expire", "owner", SENDER.ip)]),
        (_expire_by_viewer, "viewer", [("expire", "viewer", ALICE.ip)]),
        (_expire_by_time_on_access, "time", [("expire_auto", "time", ""), ("failed_view", None, ALICE.ip)]),
        (_expire_by_purge, "time", [("expire_auto", "time", "")]),
    ],
    ids=["owner", "viewer", "time-on-access", "purge"],
)
def test_every_way_of_expiring_deletes_the_same_fields_and_logs_who(runtime, make_push, expire, reason, trail):
    owner = add_user(runtime)
    created = make_push("to be deleted", note="a note", passphrase="pass", expire_after_minutes=5, client=owner)
    reveal_push(runtime, created.url_token, ALICE, passphrase="pass", now=T0 + timedelta(minutes=1))

    expire(runtime, created)

    assert_secrets_deleted(runtime, created.push.id)
    assert push_row(runtime, created.push.id)["expired_reason"] == reason
    rows = audit_rows(runtime, created.push.id)
    assert [r["kind"] for r in rows[:2]] == ["creation", "view"]
    assert [(r["kind"], r["actor"], r["ip"]) for r in rows[2:]] == trail
    # Afterwards the recipient sees the same answer as for any dead link.
    with pytest.raises(PushUnavailable):
        reveal_push(runtime, created.url_token, ALICE, passphrase="pass", now=T0 + timedelta(minutes=6))
    # The owner still sees what happened, but no note or link any more.
    managed = owner_view(runtime, find_managed(runtime, created.manage_token), SENDER, now=T0 + timedelta(minutes=7))
    assert managed.note == "" and open_link_token(runtime, managed.push) is None
    assert managed.push.expired and managed.events[-1].kind == "owner_view"


def test_a_deletable_push_can_be_deleted_by_its_recipient(runtime, make_push):
    created = make_push(deletable_by_viewer=True)

    gone = expire_by_viewer(runtime, created.url_token, ALICE, now=T0)

    assert gone.expired and gone.deleted
    with pytest.raises(PushUnavailable):
        expire_by_viewer(runtime, created.url_token, ALICE, now=T0)


def test_a_push_not_deletable_by_viewers_refuses_and_stays_readable(runtime, make_push):
    created = make_push("stays", deletable_by_viewer=False)

    with pytest.raises(NotAllowed) as refused:
        expire_by_viewer(runtime, created.url_token, ALICE, now=T0)

    assert "did not allow" in str(refused.value)
    assert reveal_push(runtime, created.url_token, ALICE, now=T0).payload == "stays"
    assert "expire" not in audit_kinds(runtime, created.push.id)


def test_a_url_push_is_never_deletable_by_its_viewer(runtime, make_push):
    created = make_push("https://example.com/reset?t=1", kind="url", deletable_by_viewer=True)

    assert not push_row(runtime, created.push.id)["deletable_by_viewer"]
    with pytest.raises(NotAllowed):
        expire_by_viewer(runtime, created.url_token, ALICE, now=T0)


def test_owner_view_shows_the_note_and_trail_and_is_itself_logged(runtime, make_push):
    owner = add_user(runtime)
    created = make_push(note="for the sender only", client=owner)
    reveal_push(runtime, created.url_token, ALICE, now=T0)

    managed = owner_view(runtime, find_managed(runtime, created.manage_token), SENDER, now=T0)

    assert managed.note == "for the sender only"
    assert open_note(runtime, managed.push) == "for the sender only"
    assert open_link_token(runtime, managed.push) == created.url_token
    assert [e.kind for e in managed.events] == ["creation", "view", "owner_view"]
    assert managed.events[-1].user_id is None and managed.events[0].user_id == owner.user_id


def test_audit_rows_keep_the_client_details_cut_to_the_column_sizes(runtime, make_push):
    noisy = Client(ip="2001:db8::" + "f" * 200, user_agent="UA" * 400, referrer="https://r.example/" + "x" * 600,
                   user_id=None)
    created = make_push(expire_after_views=2)

    reveal_push(runtime, created.url_token, noisy, now=T0)

    view = audit_rows(runtime, created.push.id)[-1]
    assert view["kind"] == "view"
    assert view["user_agent"] == noisy.user_agent[:255]
    assert view["referrer"] == noisy.referrer[:255]
    assert view["ip"] == noisy.ip[:64]
    assert view["created_at"] is not None


# --- unknown and expired links look the same ------------------------------------------------

def _unavailable_message(runtime, token: str) -> set[str]:
    messages = set()
    for attempt in (
        lambda: landing(runtime, token, now=T0 + timedelta(minutes=1)),
        lambda: reveal_push(runtime, token, ALICE, now=T0 + timedelta(minutes=1)),
        lambda: reveal_push(runtime, token, ALICE, passphrase="x", now=T0 + timedelta(minutes=1)),
        lambda: expire_by_viewer(runtime, token, ALICE, now=T0 + timedelta(minutes=1)),
    ):
        with pytest.raises(PushUnavailable) as refused:
            attempt()
        assert type(refused.value) is PushUnavailable
        messages.add(str(refused.value))
    return messages


def test_unknown_malformed_expired_and_deleted_links_get_one_and_the_same_answer(runtime, make_push):
    viewed = make_push(expire_after_views=1)
    reveal_push(runtime, viewed.url_token, ALICE, now=T0)
    timed_out = make_push(expire_after_minutes=5, now=T0 - timedelta(minutes=5))
    deleted = make_push()
    expire_by_viewer(runtime, deleted.url_token, ALICE, now=T0)
    owner_deleted = make_push()
    expire_by_owner(runtime, owner_deleted.push, SENDER, now=T0)
    # A live push's manage token opens nothing through the recipient's door.
    live = make_push()

    tokens = {
        "unknown": "A" * 22,
        "malformed: short": "abc",
        "malformed: path": "../../etc/passwd",
        "malformed: huge": "a" * 10_000,
        "malformed: empty": "",
        "malformed: unicode": "é" * 22,
        "malformed: surrogate": "\ud800" * 22,
        "viewed out": viewed.url_token,
        "timed out": timed_out.url_token,
        "deleted by viewer": deleted.url_token,
        "deleted by owner": owner_deleted.url_token,
        "manage token": live.manage_token,
    }
    messages = {name: _unavailable_message(runtime, token) for name, token in tokens.items()}

    assert set().union(*messages.values()) == {"This secret link has expired or never existed."}


def test_a_purge_expires_each_overdue_push_once_and_changes_nothing_on_a_second_run(runtime, make_push):
    due = [make_push(f"due {i}", expire_after_minutes=5) for i in range(6)]
    later = make_push("not yet", expire_after_minutes=10)

    assert purge_expired(runtime, now=T0 + timedelta(minutes=5)) == 6
    assert purge_expired(runtime, now=T0 + timedelta(minutes=5)) == 0

    for created in due:
        assert_secrets_deleted(runtime, created.push.id)
        assert audit_kinds(runtime, created.push.id) == ["creation", "expire_auto"]
    assert reveal_push(runtime, later.url_token, ALICE, now=T0 + timedelta(minutes=9)).payload == "not yet"


def test_two_purges_at_once_expire_and_log_each_push_exactly_once(runtime, make_push):
    due = [make_push(f"due {i}", expire_after_minutes=5) for i in range(100)]
    start = threading.Barrier(2)
    counts: list[int] = []
    errors: list[BaseException] = []

    def purge(_worker):
        start.wait()
        try:
            counts.append(purge_expired(runtime, now=T0 + timedelta(minutes=6)))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    run_at_once(purge, range(2))

    assert errors == []
    assert sum(counts) == len(due)
    with runtime.engine.connect() as connection:
        per_push = connection.execute(
            text("SELECT push_id, count(*) FROM audit_event WHERE kind = 'expire_auto' GROUP BY push_id")
        ).all()
    assert len(per_push) == len(due) and {n for _, n in per_push} == {1}


def test_expiring_twice_logs_one_expiry_and_keeps_the_first_reason(runtime, make_push):
    created = make_push()
    expire_by_viewer(runtime, created.url_token, ALICE, now=T0)

    expire_by_owner(runtime, find_managed(runtime, created.manage_token), SENDER, now=T0 + timedelta(minutes=1))
    purge_expired(runtime, now=T0 + timedelta(days=30))

    assert push_row(runtime, created.push.id)["expired_reason"] == "viewer"
    assert audit_kinds(runtime, created.push.id) == ["creation", "expire"]


def test_the_secret_link_and_the_manage_link_open_only_their_own_door(runtime, make_push):
    created = make_push()

    with pytest.raises(PushUnavailable):
        find_managed(runtime, created.url_token)
    with pytest.raises(PushUnavailable):
        reveal_push(runtime, created.manage_token, ALICE, now=T0)
    assert find_managed(runtime, created.manage_token).id == created.push.id


@pytest.mark.parametrize("retention, old_record_kept", [("0", True), ("30", False)])
def test_expired_records_are_kept_unless_a_retention_is_set(make_runtime, retention, old_record_kept):
    runtime = make_runtime(PWP__PURGE_AFTER_DAYS=retention)
    old = create_push(runtime, NewPush(payload="old"), SENDER, now=T0)
    expire_by_owner(runtime, old.push, SENDER, now=T0)
    recent = create_push(runtime, NewPush(payload="recent"), SENDER, now=T0 + timedelta(days=29))
    expire_by_owner(runtime, recent.push, SENDER, now=T0 + timedelta(days=29))

    purge_expired(runtime, now=T0 + timedelta(days=30, minutes=1))

    with runtime.engine.connect() as connection:
        remaining = set(connection.execute(text("SELECT id FROM push")).scalars())
        trails = set(connection.execute(text("SELECT DISTINCT push_id FROM audit_event")).scalars())
    assert (old.push.id in remaining) is old_record_kept
    assert recent.push.id in remaining
    assert trails == remaining  # an audit trail never outlives its push


@pytest.mark.parametrize(
    "payload",
    ["  leading and trailing spaces  ", "line one\r\nline two\n", "🔑 ünïcödé\u200b\t", "\\x00 not a NUL", "a" * 70_000],
    ids=["spaces", "newlines", "unicode", "escapes", "long"],
)
def test_the_recipient_gets_exactly_the_bytes_that_were_sent(runtime, make_push, payload):
    created = make_push(payload)

    assert reveal_push(runtime, created.url_token, ALICE, now=T0).payload == payload
