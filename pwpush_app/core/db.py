"""The database engine, with the SQLite settings that make exactly-once counting hold."""

from __future__ import annotations

import logging
import os
import stat
import threading
import weakref
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import event
from sqlalchemy.engine import Engine, create_engine, make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from pwpush_app.core.errors import ServerBusy

log = logging.getLogger("pwpush")

SQLITE_BUSY_TIMEOUT_MS = 15_000

# SQLite has one writer at a time.  Writers of this process queue on a Python lock (a
# fast hand-over) rather than on SQLite's busy handler, which sleeps up to 100 ms
# between tries; other processes still meet the busy timeout.
_sqlite_writers: "weakref.WeakKeyDictionary[Engine, tuple[threading.RLock, float]]" = weakref.WeakKeyDictionary()
_wal_flushers: "weakref.WeakKeyDictionary[Engine, WalFlusher]" = weakref.WeakKeyDictionary()
_begin = threading.local()


class WalFlusher:
    """Makes committed WAL frames durable; writers that committed meanwhile share one fsync.

    Durability FULL without fsyncing inside the single writer's turn: SQLite commits with
    synchronous=NORMAL (frames written to the WAL, not synced), and each writer, after
    giving up the write lock, waits for an fsync of the WAL file that *started after* its
    commit.  One fsync covers every commit before it, so concurrent writers share it
    (group commit), and the next writer runs its transaction while the disk syncs.
    If the WAL file is gone, SQLite checkpointed it into the database and synced that.
    """

    def __init__(self, database_path: str):
        self.wal_path = database_path + "-wal"
        self._count_lock = threading.Lock()
        self._fsync_lock = threading.Lock()
        self._started = 0  # fsyncs begun so far, numbered from 1
        self._finished = 0  # the number of the last fsync that completed

    def flush(self) -> None:
        """Return once everything committed before this call is on disk."""
        with self._count_lock:
            needed = self._started + 1  # any fsync numbered from here began after our commit
        with self._fsync_lock:
            if self._finished >= needed:
                return  # someone else's fsync, begun after our commit, covered it
            with self._count_lock:
                self._started += 1
                number = self._started
            try:
                descriptor = os.open(self.wal_path, os.O_RDONLY)
            except FileNotFoundError:
                self._finished = number
                return
            try:
                os.fsync(descriptor)
            except OSError as error:
                raise DatabaseUnavailable(f"could not sync the database to disk: {error}") from error
            finally:
                os.close(descriptor)
            self._finished = number


class DatabaseUnavailable(ServerBusy):
    """The database is locked or unreachable; nothing was changed. Try again shortly."""


def make_engine(db_url: str, sqlite_synchronous: str = "FULL", busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> Engine:
    if sqlite_synchronous not in ("FULL", "NORMAL"):
        raise ValueError(f"sqlite_synchronous must be FULL or NORMAL, not {sqlite_synchronous!r}")
    if db_url.startswith("sqlite"):
        _make_database_file_private(make_url(db_url).database)
        engine = create_engine(
            db_url,
            connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
            pool_size=8,
            max_overflow=16,
        )
        _configure_sqlite(engine, busy_timeout_ms)
        _sqlite_writers[engine] = (threading.RLock(), busy_timeout_ms / 1000)
        if sqlite_synchronous == "FULL" and engine.url.database not in (None, "", ":memory:"):
            _wal_flushers[engine] = WalFlusher(os.path.abspath(engine.url.database))
        return engine
    return create_engine(db_url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _make_database_file_private(database: str | None) -> None:
    """The SQLite file and its -wal, -shm and -journal: readable by their owner only (0600).

    SQLite creates a new database file 0644 minus the umask (world-readable under the usual
    022), and gives each -wal, -shm and -journal file it creates the database file's own
    mode, whatever the umask.  So the file is created here, 0600, before SQLite opens it, and
    the others follow; an existing one left open to others (an older install, or one made by
    `reflex db migrate`) is closed to them.  Its folder, when it has to be made, is 0700."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = os.path.abspath(database)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    os.close(os.open(path, os.O_RDONLY | os.O_CREAT, 0o600))
    for name in (path, path + "-wal", path + "-shm", path + "-journal"):
        try:
            mode = stat.S_IMODE(os.stat(name).st_mode)
            if mode & 0o077:
                os.chmod(name, mode & 0o700)
        except FileNotFoundError:
            continue
        except PermissionError:  # someone else's file: say so, and let the admin decide
            log.warning("%s is open to its group or others and not ours to change: run chmod 600 %s", name, name)


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event below issue BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # NORMAL: a commit survives a crash of the app.  The FULL setting (a commit is on
        # disk before we answer, even across a power cut: a consumed view stays consumed)
        # adds a WalFlusher's shared fsync after each write transaction (make_engine).
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        # Deleted secrets are overwritten, not left in free pages.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # IMMEDIATE takes the write lock up front: a transaction that reads and then
        # writes can never fail half-way with SQLITE_BUSY on a stale snapshot.
        connection.exec_driver_sql(getattr(_begin, "statement", "BEGIN IMMEDIATE"))


@contextmanager
def transaction(engine: Engine, write: bool = True) -> Iterator[Session]:
    """One unit of work: committed whole or rolled back whole.

    `write=False` is for transactions that only read: on SQLite they don't wait for the
    writer (WAL readers see the last committed state).
    """
    writers, wait_seconds = _sqlite_writers.get(engine, (None, 0.0)) if write else (None, 0.0)
    if writers is not None and not writers.acquire(timeout=wait_seconds):
        raise DatabaseUnavailable("the database is busy")
    _begin.statement = "BEGIN IMMEDIATE" if write else "BEGIN"
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except OperationalError as error:
        session.rollback()
        raise DatabaseUnavailable(str(error.orig).splitlines()[0] if error.orig else "database error") from error
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        if writers is not None:
            writers.release()
    # Committed: on disk before the caller answers anyone (outside the writer's turn).
    flusher = _wal_flushers.get(engine) if write else None
    if flusher is not None:
        flusher.flush()


def migrate(db_url: str) -> None:
    """Apply the Alembic migrations up to head (what `reflex db migrate` does)."""
    from pathlib import Path

    from alembic.config import Config

    from alembic import command

    root = Path(__file__).resolve().parents[2]
    config = Config(str(root / "alembic.ini"))
    config.set_main_option("script_location", str(root / "alembic"))
    config.attributes["db_url"] = db_url
    command.upgrade(config, "head")
