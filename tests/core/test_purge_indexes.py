"""The purge job finds its work through index ranges, whatever the number of live pushes.

With only a lone `expired` index, SQLite answered "which live pushes are overdue?" by
walking every live push (and "which expired records are past retention?" by walking every
expired one), in batches of 500, under the write lock: at a million stored pushes each
periodic run blocked creates and reveals for seconds.  Migration 0005 adds
(expired, expires_at) and (expired, expired_at).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event

from pwpush_app.core.create import NewPush, create_push
from pwpush_app.core.owners import expire_by_owner
from pwpush_app.core.purge import purge_expired
from pwpush_app.core.reveal import reveal_push
from pwpush_app.master_key import generate_master_key_text

from .common import SENDER, T0

pytestmark = pytest.mark.sqlite_only


def plans_of_statements_run_by(runtime, action) -> list[tuple[str, list[str]]]:
    """SQLite's query plan of every statement `action` sends to the database."""
    statements = []

    def capture(_conn, _cursor, statement, parameters, _context, executemany):
        if not executemany and re.match(r"\s*(SELECT|UPDATE|DELETE)", statement, re.I):
            statements.append((statement, parameters))

    event.listen(runtime.engine, "before_cursor_execute", capture)
    try:
        action()
    finally:
        event.remove(runtime.engine, "before_cursor_execute", capture)
    connection = runtime.engine.raw_connection()
    try:
        return [
            (sql, [row[-1] for row in connection.cursor().execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()])
            for sql, params in statements
        ]
    finally:
        connection.close()


def test_the_purge_never_walks_the_live_or_expired_pushes(make_runtime, make_push):
    runtime = make_runtime(PWP__PURGE_AFTER_DAYS="1")
    for n in range(20):
        make_push(f"live {n}", expire_after_minutes=7 * 24 * 60)
    for n in range(3):
        make_push(f"overdue {n}", expire_after_minutes=5)

    expire_run = plans_of_statements_run_by(runtime, lambda: purge_expired(runtime, now=T0 + timedelta(minutes=10)))
    delete_run = plans_of_statements_run_by(runtime, lambda: purge_expired(runtime, now=T0 + timedelta(days=2)))

    on_push = [(sql, plan) for sql, plan in expire_run + delete_run if any(" push " in f"{line} " for line in plan)]
    assert any("ix_push_expired_expires_at (expired=? AND expires_at<?)" in " ".join(p) for _, p in on_push)
    assert any("ix_push_expired_expired_at (expired=? AND expired_at<?)" in " ".join(p) for _, p in on_push)
    for sql, plan in on_push:
        for line in plan:
            assert not re.match(r"SCAN push\b", line), (sql, plan)
            assert not line.endswith("(expired=?)"), (sql, plan)


def test_the_purge_still_expires_and_deletes_what_it_should(make_runtime, make_push):
    runtime = make_runtime(PWP__PURGE_AFTER_DAYS="1")
    live = make_push("live", expire_after_minutes=7 * 24 * 60)
    overdue = make_push("overdue", expire_after_minutes=5)

    assert purge_expired(runtime, now=T0 + timedelta(minutes=10)) == 1
    purge_expired(runtime, now=T0 + timedelta(days=2))

    with runtime.engine.connect() as connection:
        ids = {row[0] for row in connection.exec_driver_sql("SELECT id FROM push").all()}
    assert ids == {live.push.id}
    assert overdue.push.id not in ids


def test_a_reveal_finds_its_push_by_token_even_with_two_keys(make_runtime):
    """After a key rotation a token has two digests (an IN list): the view must still be
    taken through the unique token index, not by walking the live pushes."""
    old_key, new_key = generate_master_key_text(), generate_master_key_text()
    old = make_runtime(PWPUSH_MASTER_KEY=old_key)
    for n in range(20):
        create_push(old, NewPush(payload=f"live {n}", expire_after_minutes=7 * 24 * 60), SENDER, now=T0)
    made = create_push(old, NewPush(payload="to reveal", expire_after_views=1), SENDER, now=T0)
    other = create_push(old, NewPush(payload="to expire"), SENDER, now=T0)
    rotated = make_runtime(PWPUSH_MASTER_KEY=new_key, PWPUSH_MASTER_KEY_PREVIOUS=old_key)
    assert len(rotated.keyring.token_digests(made.url_token)) == 2

    runs = plans_of_statements_run_by(rotated, lambda: reveal_push(rotated, made.url_token, SENDER, now=T0))
    runs += plans_of_statements_run_by(rotated, lambda: expire_by_owner(rotated, other.push, SENDER, now=T0))
    assert any("UPDATE push" in sql for sql, _ in runs)
    for sql, plan in runs:
        for line in plan:
            assert not re.match(r"SCAN push\b", line), (sql, plan)
            assert "ix_push_expired" not in line, (sql, plan)
