"""The database engine, with the SQLite settings that make exactly-once counting hold."""

from __future__ import annotations

import threading
import weakref
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import event
from sqlalchemy.engine import Engine, create_engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

SQLITE_BUSY_TIMEOUT_MS = 15_000

# SQLite has one writer at a time.  Writers of this process queue on a Python lock (a
# fast hand-over) rather than on SQLite's busy handler, which sleeps up to 100 ms
# between tries; other processes still meet the busy timeout.
_sqlite_writers: "weakref.WeakKeyDictionary[Engine, threading.RLock]" = weakref.WeakKeyDictionary()
_begin = threading.local()


class DatabaseUnavailable(RuntimeError):
    """The database is locked or unreachable; nothing was changed. Try again shortly."""


def make_engine(db_url: str, sqlite_synchronous: str = "FULL") -> Engine:
    if db_url.startswith("sqlite"):
        engine = create_engine(
            db_url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_size=8,
            max_overflow=16,
        )
        _configure_sqlite(engine, sqlite_synchronous)
        _sqlite_writers[engine] = threading.RLock()
        return engine
    return create_engine(db_url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _configure_sqlite(engine: Engine, synchronous: str) -> None:
    assert synchronous in ("FULL", "NORMAL")
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event below issue BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk before we answer, even across a power cut (a
        # consumed view stays consumed).  NORMAL survives process crashes only.
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
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
    writers = _sqlite_writers.get(engine) if write else None
    if writers is not None and not writers.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
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


def migrate(db_url: str) -> None:
    """Apply the Alembic migrations up to head (what `reflex db migrate` does)."""
    from pathlib import Path

    from alembic import command
    from alembic.config import Config

    root = Path(__file__).resolve().parents[2]
    config = Config(str(root / "alembic.ini"))
    config.set_main_option("script_location", str(root / "alembic"))
    config.attributes["db_url"] = db_url
    command.upgrade(config, "head")
