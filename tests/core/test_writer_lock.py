"""SQLite's writers of several processes (Granian workers, admin commands) queue on our
writer lock (an flock beside the database), not in SQLite's busy handler, which sleeps
between tries: the next writer goes as soon as the last one lets go."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest
from sqlalchemy import event, text

from pwpush_app.core import db as database
from pwpush_app.core.audit import Client
from pwpush_app.core.create import NewPush, create_push
from pwpush_app.core.reveal import reveal_push

from .common import run_at_once

pytestmark = pytest.mark.sqlite_only

# Another process takes the writer's turn through our own `transaction()` and keeps it.
HOLDER = textwrap.dedent("""
    import sys, time
    from sqlalchemy import text
    from pwpush_app.core.db import make_engine, transaction
    engine = make_engine(sys.argv[1])
    with transaction(engine) as db:
        db.execute(text("UPDATE job_lease SET holder = holder"))
        print("holding", flush=True)
        time.sleep(float(sys.argv[2]))
    print("released", flush=True)
""")


def _hold(db_url: str, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, db_url, str(seconds)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "holding"
    return holder


def _without_sqlites_busy_handler(engine) -> None:
    """SQLite would fail at once with 'database is locked' rather than wait: a writer that
    got past our lock while another process writes would fail this test."""
    event.listen(engine, "connect", lambda connection, _record: connection.execute("PRAGMA busy_timeout=0"))


def test_a_writer_of_another_process_waits_for_the_lock_not_in_sqlite(make_runtime):
    runtime = make_runtime()
    _without_sqlites_busy_handler(runtime.engine)
    holder = _hold(runtime.settings.db_url, 0.5)
    started = time.monotonic()
    created = create_push(runtime, NewPush(payload="after the other process", expire_after_views=1), Client())
    waited = time.monotonic() - started
    assert holder.wait(10) == 0 and holder.stdout.read().strip() == "released"
    assert reveal_push(runtime, created.url_token, Client()).payload == "after the other process"
    assert 0.3 < waited < 5  # it waited for the holder, and went once it was done


def test_writers_of_two_processes_and_many_threads_all_get_through(make_runtime):
    runtime = make_runtime()
    _without_sqlites_busy_handler(runtime.engine)
    holders = [_hold(runtime.settings.db_url, 0.2)]
    errors, served = [], []

    def sender(i):
        try:
            created = create_push(runtime, NewPush(payload=f"secret-{i}", expire_after_views=1), Client())
            served.append(reveal_push(runtime, created.url_token, Client()).payload)
        except Exception as error:  # noqa: BLE001 - any failure is the finding
            errors.append(repr(error))

    run_at_once(sender, range(24))
    assert all(holder.wait(10) == 0 for holder in holders)
    assert errors == [] and sorted(served) == sorted(f"secret-{i}" for i in range(24))


def test_a_writer_gives_up_after_the_busy_timeout_and_the_next_one_still_gets_the_lock(make_runtime):
    runtime = make_runtime(PWPUSH_BUSY_TIMEOUT_MS="200")
    holder = _hold(runtime.settings.db_url, 1.5)
    started = time.monotonic()
    with pytest.raises(database.DatabaseUnavailable):
        create_push(runtime, NewPush(payload="too late", expire_after_views=1), Client())
    assert time.monotonic() - started < 1.4  # 503 after the timeout, not after the holder
    assert holder.wait(10) == 0
    # The lock the helper thread got after the waiter gave up was let go again.
    created = create_push(runtime, NewPush(payload="in time", expire_after_views=1), Client())
    assert reveal_push(runtime, created.url_token, Client()).payload == "in time"
    with database.transaction(runtime.engine) as db:
        assert db.execute(text("SELECT count(*) FROM push")).scalar_one() == 1


def test_the_lock_file_is_private(make_runtime):
    runtime = make_runtime()
    create_push(runtime, NewPush(payload="x"), Client())
    lock = runtime.settings.data_dir / ("pwpush.db" + database.WRITER_LOCK_SUFFIX)
    assert lock.exists() and lock.stat().st_mode & 0o077 == 0
