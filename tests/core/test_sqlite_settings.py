"""SQLite runs in WAL mode with the configured durability, and writers queue in-process."""

import asyncio
import os
import threading

import pytest
from sqlalchemy import event, func, select

from pwpush_app.api.hot import run_core
from pwpush_app.core import audit, db_fast
from pwpush_app.core import db as database
from pwpush_app.core.audit import Client
from pwpush_app.core.create import NewPush, create_push
from pwpush_app.core.models import AuditEvent
from pwpush_app.core.reveal import reveal_push
from pwpush_app.settings import SettingsError, load_settings

from .common import run_at_once


def _pragma(runtime, name):
    connection = runtime.engine.raw_connection()
    try:
        return connection.cursor().execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        connection.close()


@pytest.mark.sqlite_only
@pytest.mark.parametrize(("setting", "flushed"), [(None, True), ("FULL", True), ("normal", False)])
def test_durability_follows_the_setting(make_runtime, setting, flushed):
    runtime = make_runtime(**({"PWPUSH_SQLITE_SYNCHRONOUS": setting} if setting else {}))
    # FULL is SQLite's NORMAL plus our own fsync of the WAL after each write transaction.
    assert _pragma(runtime, "synchronous") == 1
    assert (runtime.engine in database._wal_flushers) is flushed
    assert _pragma(runtime, "journal_mode") == "wal"
    assert _pragma(runtime, "secure_delete") == 1


@pytest.mark.sqlite_only
def test_secure_delete_is_set_by_us_not_left_to_how_sqlite_was_built(tmp_path, monkeypatch):
    # Debian builds SQLite with secure_delete on by default, which hid the removal of our
    # PRAGMA from the test above.  Here every new connection starts with it off, as on a
    # SQLite built with the upstream default, before our settings run.
    original = database.create_engine

    def engine_whose_sqlite_defaults_to_off(*args, **kwargs):
        engine = original(*args, **kwargs)
        event.listen(engine, "connect", lambda connection, _record: connection.execute("PRAGMA secure_delete=OFF"),
                     insert=True)
        return engine

    monkeypatch.setattr(database, "create_engine", engine_whose_sqlite_defaults_to_off)
    engine = database.make_engine(f"sqlite:///{tmp_path / 'secure.db'}")
    connection = engine.raw_connection()
    try:
        assert connection.cursor().execute("PRAGMA secure_delete").fetchone()[0] == 1
    finally:
        connection.close()
        engine.dispose()


@pytest.mark.sqlite_only
def test_every_writer_answers_only_after_an_fsync_begun_after_its_commit(make_runtime, monkeypatch):
    """Durability FULL with shared fsyncs: no write transaction returns before the WAL
    holding its commit was synced by an fsync that started after that commit."""
    runtime = make_runtime()
    wal = os.path.abspath(runtime.engine.url.database) + "-wal"
    clock = iter(range(1, 10**9)).__next__
    lock = threading.Lock()
    fsyncs, commits = [], {}

    real_fsync = os.fsync

    def recording_fsync(descriptor):  # the real fsync, with its start and end noted
        with lock:
            start = clock()
        real_fsync(descriptor)
        with lock:
            fsyncs.append((start, clock(), os.readlink(f"/proc/self/fd/{descriptor}")))

    real_ticket = database.WalFlusher.ticket

    def ticket_after_commit(flusher):  # every write transaction asks for its ticket right after COMMIT
        with lock:
            commits[threading.get_ident()] = clock()
        return real_ticket(flusher)

    monkeypatch.setattr(database.os, "fsync", recording_fsync)
    monkeypatch.setattr(database.WalFlusher, "ticket", ticket_after_commit)
    checked, errors = [], []

    def writer(i):
        try:
            for _ in range(10):
                create_push(runtime, NewPush(payload=f"s{i}", expire_after_views=1), Client(ip="192.0.2.9"))
                with lock:
                    answered, committed = clock(), commits[threading.get_ident()]
                    synced = [f for f in fsyncs if f[2] == wal and f[0] > committed and f[1] < answered]
                checked.append(bool(synced))
        except Exception as error:  # noqa: BLE001 - any failure is the finding
            errors.append(repr(error))

    run_at_once(writer, range(12))
    assert errors == []
    assert len(checked) == 120 and all(checked)
    # Writers that committed while an fsync ran shared the next one.
    assert len([f for f in fsyncs if f[2] == wal]) < 120


@pytest.mark.sqlite_only
def test_normal_durability_does_not_fsync_after_each_commit(make_runtime, monkeypatch):
    runtime = make_runtime(PWPUSH_SQLITE_SYNCHRONOUS="NORMAL")
    calls = []
    monkeypatch.setattr(database.os, "fsync", lambda descriptor: calls.append(descriptor))
    create_push(runtime, NewPush(payload="s", expire_after_views=1), Client(ip="192.0.2.9"))
    assert calls == []


def test_a_bad_durability_value_names_the_variable():
    with pytest.raises(SettingsError, match="PWPUSH_SQLITE_SYNCHRONOUS"):
        load_settings({"PWPUSH_SQLITE_SYNCHRONOUS": "OFF", "PWPUSH_MASTER_KEY": "a" * 43 + "="})


def test_the_busy_timeout_is_read_by_its_name_and_its_earlier_sqlite_name():
    key = {"PWPUSH_MASTER_KEY": "a" * 43 + "="}
    assert load_settings(key).busy_timeout_ms == 15_000
    assert load_settings({**key, "PWPUSH_BUSY_TIMEOUT_MS": "2500"}).busy_timeout_ms == 2_500
    assert load_settings({**key, "PWPUSH_SQLITE_BUSY_TIMEOUT_MS": "700"}).busy_timeout_ms == 700  # its name before
    both = {**key, "PWPUSH_BUSY_TIMEOUT_MS": "2500", "PWPUSH_SQLITE_BUSY_TIMEOUT_MS": "700"}
    assert load_settings(both).busy_timeout_ms == 2_500
    with pytest.raises(SettingsError, match="PWPUSH_BUSY_TIMEOUT_MS"):
        load_settings({**key, "PWPUSH_BUSY_TIMEOUT_MS": "5"})


def test_many_threads_creating_and_revealing_at_once_all_succeed(runtime):
    """Writers queue on a lock instead of failing with 'database is locked'."""
    errors, served = [], []

    def sender(i):
        try:
            created = create_push(runtime, NewPush(payload=f"secret-{i}", expire_after_views=1), Client(ip="192.0.2.1"))
            served.append(reveal_push(runtime, created.url_token, Client(ip="192.0.2.2")).payload)
        except Exception as error:  # noqa: BLE001 - any failure is the finding
            errors.append(repr(error))

    run_at_once(sender, range(40))
    assert errors == []
    assert sorted(served) == sorted(f"secret-{i}" for i in range(40))



@pytest.mark.sqlite_only
def test_the_loops_kept_connection_is_dropped_after_a_failure_and_nothing_half_done_stays(runtime):
    """On an event loop the hot path keeps its SQLite connection between transactions
    (core/db_fast.py); a transaction that fails half-way is rolled back whole and the next
    one runs on a fresh connection, on the same data."""
    client = Client(ip="192.0.2.7")

    def events(push_id):
        with database.transaction(runtime.engine, write=False) as db:
            return db.execute(select(func.count()).where(AuditEvent.push_id == push_id)).scalar_one()

    def fail_half_way(push):
        with db_fast.fast_transaction(runtime.engine) as tx:
            audit.record(tx, push.id, audit.VIEW, client, push.created_at)
            raise RuntimeError("half-way")

    async def scenario():
        created = await run_core(runtime, create_push, runtime, NewPush(payload="kept", expire_after_views=2), client)
        kept = db_fast._loop_connections[runtime.engine].fairy
        assert kept is not None and kept.is_valid
        with pytest.raises(RuntimeError):
            await run_core(runtime, fail_half_way, created.push)
        assert db_fast._loop_connections[runtime.engine].fairy is None
        assert events(created.push.id) == 1  # the creation only: the half-done row is gone
        revealed = await run_core(runtime, reveal_push, runtime, created.url_token, client)
        assert revealed.payload == "kept"
        assert db_fast._loop_connections[runtime.engine].fairy not in (None, kept)
        assert events(created.push.id) == 2

    asyncio.run(scenario())
