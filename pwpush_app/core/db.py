"""The database engine, with the SQLite settings that make exactly-once counting hold."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import stat
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import event
from sqlalchemy.engine import Engine, create_engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as NoConnectionFree
from sqlmodel import Session

from pwpush_app.core.writers import DatabaseUnavailable, WriterLock, queued_writer, writer_turn_async

log = logging.getLogger("pwpush")

BUSY_TIMEOUT_MS = 15_000
# The file whose flock queues the writers of every process on one SQLite database.
WRITER_LOCK_SUFFIX = "-writer"
# WAL checkpoints: ours in the background every so many commits (a create+reveal writes
# ~30 pages); SQLite's inline one past this many pages, as a backstop.
CHECKPOINT_EVERY_COMMITS = 100
AUTOCHECKPOINT_PAGES = 20_000
# How long a request waits on a PostgreSQL server that stopped answering (its host froze, or
# the network between dropped): libpq's defaults wait ~2 minutes for a connection and ~15
# (the kernel's retransmissions) for an answer on an open one; then the request gets the
# "database busy or unreachable" answer.  Parameters given in REFLEX_DB_URL win.
POSTGRESQL_WAITS = {
    "connect_timeout": 5,  # seconds to connect
    "tcp_user_timeout": 10_000,  # ms a sent request may stay unacknowledged
    "keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3,  # idle: ~60 s
}

# SQLite has one writer at a time.  Writers queue on our own lock (a fast hand-over: the
# next one wakes as soon as the last lets go) rather than on SQLite's busy handler, which
# sleeps up to 100 ms between tries: threads of this process on a Python lock, processes
# (several workers, the admin commands) on an flock of a file beside the database.
sqlite_writers: "weakref.WeakKeyDictionary[Engine, WriterLock]" = weakref.WeakKeyDictionary()
_wal_flushers: "weakref.WeakKeyDictionary[Engine, WalFlusher]" = weakref.WeakKeyDictionary()
_checkpointers: "weakref.WeakKeyDictionary[Engine, Checkpointer]" = weakref.WeakKeyDictionary()
_begin = threading.local()
# Where commits wait for their fsync: None = in the committing call; a list = collected,
# awaited (`settle`) before anyone is answered.
_deferred: contextvars.ContextVar["list | None"] = contextvars.ContextVar("pwpush_deferred_fsyncs", default=None)


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
        # Waiters on event loops: one fsync at a time in one thread, shared by all of them.
        self._executor: ThreadPoolExecutor | None = None
        self._waiting: dict[asyncio.AbstractEventLoop, list] = {}

    def ticket(self) -> int:
        """For a commit just made: the number of the first fsync that covers it."""
        with self._count_lock:
            return self._started + 1

    def flush(self) -> None:
        """Return once everything committed before this call is on disk."""
        self.flush_until(self.ticket())

    def flush_until(self, needed: int) -> None:
        """Return once fsync number `needed` (or a later one) has completed."""
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

    async def wait(self, needed: int) -> None:
        """`flush_until` for a coroutine: the event loop goes on meanwhile, and every commit
        that waits on this loop shares the next fsync (one thread hop per fsync, not per commit)."""
        if self._finished >= needed:
            return
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        waiting = self._waiting.get(loop)
        if waiting is None:
            waiting = self._waiting[loop] = []
            loop.create_task(self._sync_for(loop, waiting))
        waiting.append((needed, future))
        await future

    async def _sync_for(self, loop: asyncio.AbstractEventLoop, waiting: list) -> None:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="pwpush-fsync")
        try:
            while waiting:
                needed = max(number for number, _ in waiting)
                error = None
                try:
                    await loop.run_in_executor(self._executor, self.flush_until, needed)
                except Exception as failure:  # noqa: BLE001 - handed to every waiter
                    error = failure
                still = []
                for number, future in waiting:
                    if future.done():
                        continue
                    if error is not None:
                        future.set_exception(error)
                    elif self._finished >= number:
                        future.set_result(None)
                    else:
                        still.append((number, future))
                waiting[:] = still
        finally:
            if self._waiting.get(loop) is waiting:
                del self._waiting[loop]


class Checkpointer:
    """Copies the WAL back into the database (a PASSIVE checkpoint: writers go on meanwhile)
    in a thread of its own, every `CHECKPOINT_EVERY_COMMITS` commits.

    SQLite's own checkpoint runs inside whichever commit crosses its page mark, with an
    fsync of the WAL and one of the database: that commit's caller (on the hot path an
    event loop, every request of the worker behind it) would wait for both.  SQLite's
    stays on as a backstop, at `AUTOCHECKPOINT_PAGES`."""

    def __init__(self, engine: Engine):
        self._engine = weakref.ref(engine)
        self._commits = 0
        self._wake = threading.Event()
        self._pid = -1

    def committed(self) -> None:
        self._commits += 1
        if self._commits >= CHECKPOINT_EVERY_COMMITS:
            self._commits = 0
            if self._pid != os.getpid():  # one thread per process (a forked worker starts its own)
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="pwpush-checkpoint", daemon=True).start()
            self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            engine = self._engine()
            if engine is None:
                return
            try:
                connection = engine.raw_connection()
                try:
                    connection.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                finally:
                    connection.close()
            except Exception as error:  # noqa: BLE001 - the backstop checkpoint still runs
                log.warning("background checkpoint failed: %s", error)
            del engine


def committed(engine: Engine) -> None:
    """A write transaction committed: on disk before the caller answers anyone, now or
    (inside `deferred_fsyncs()`) before the answer leaves."""
    checkpointer = _checkpointers.get(engine)
    if checkpointer is not None:
        checkpointer.committed()
    flusher = _wal_flushers.get(engine)
    if flusher is None:
        return
    pending = _deferred.get()
    if pending is None:
        flusher.flush()
    else:
        pending.append((flusher, flusher.ticket()))


def make_engine(db_url: str, sqlite_synchronous: str = "FULL", busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> Engine:
    if sqlite_synchronous not in ("FULL", "NORMAL"):
        raise ValueError(f"sqlite_synchronous must be FULL or NORMAL, not {sqlite_synchronous!r}")
    if db_url.startswith("sqlite"):
        _make_database_file_private(make_url(db_url).database)
        engine = create_engine(
            db_url,
            connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
            pool_size=8,
            max_overflow=16,
            pool_timeout=busy_timeout_ms / 1000,  # every connection out: wait as long as for the writer
        )
        _configure_sqlite(engine, busy_timeout_ms)
        on_disk = engine.url.database not in (None, "", ":memory:") and not engine.url.database.startswith("file:")
        path = os.path.abspath(engine.url.database) if on_disk else None
        sqlite_writers[engine] = WriterLock(busy_timeout_ms / 1000, path + WRITER_LOCK_SUFFIX if path else None)
        if sqlite_synchronous == "FULL" and path:
            _wal_flushers[engine] = WalFlusher(path)
        if path:
            _checkpointers[engine] = Checkpointer(engine)
        return engine
    url = make_url(db_url)
    bounded = {name: value for name, value in POSTGRESQL_WAITS.items() if name not in url.query}
    engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, pool_timeout=busy_timeout_ms / 1000,
                           connect_args=bounded)
    if "lock_timeout" not in str(url.query.get("options", "")):
        _bound_lock_waits(engine, busy_timeout_ms)
    return engine


def _bound_lock_waits(engine: Engine, busy_timeout_ms: int) -> None:
    """A row or table another transaction holds is waited for as long as SQLite's lock is.
    Set on each new connection rather than as a startup `options` (PgBouncer refuses those)."""
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = {int(busy_timeout_ms)}")
        dbapi_connection.commit()


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
    for name in (path, path + "-wal", path + "-shm", path + "-journal", path + WRITER_LOCK_SUFFIX):
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
        # Checkpoints run in the background (Checkpointer); SQLite's own only as a backstop.
        cursor.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
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
    with queued_writer(sqlite_writers.get(engine) if write else None):
        _begin.statement = "BEGIN IMMEDIATE" if write else "BEGIN"
        session = Session(engine, expire_on_commit=False)
        try:
            yield session
            session.commit()
        except (OperationalError, NoConnectionFree) as error:
            session.rollback()
            raise unavailable(error) from error
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
    # Committed: on disk before the caller answers anyone (outside the writer's turn).
    if write:
        committed(engine)


def unavailable(error: Exception) -> DatabaseUnavailable:
    """The busy answer (nothing done) for a database that could not be had: every pooled
    connection out for as long as a writer waits (a burst of slow requests, a database that
    stopped answering), or the driver's OperationalError (locked, down, unreachable).  Its
    text is for the log: the first line of the driver's reason."""
    if isinstance(error, NoConnectionFree):
        return DatabaseUnavailable(f"no database connection came free in time ({str(error).split(',')[0]})")
    reason = str(getattr(error, "orig", None) or error)
    return DatabaseUnavailable(reason.splitlines()[0] if reason.strip() else "database error")


# --- waiting for the disk without blocking an event loop ------------------------------------------


@contextmanager
def deferred_fsyncs() -> Iterator[list]:
    """Collect the fsyncs this context's commits need instead of waiting for each: the
    caller awaits them (`settle`) before answering anyone.  For code on an event loop."""
    pending: list = []
    token = _deferred.set(pending)
    try:
        yield pending
    finally:
        _deferred.reset(token)


def on_the_loop() -> bool:
    """Whether this code runs on an event loop's hot path (inside `deferred_fsyncs()`)."""
    return _deferred.get() is not None


async def settle(pending: list) -> None:
    """Wait, without blocking the loop, until every commit in `pending` is on disk."""
    while pending:
        flusher, needed = pending.pop()
        await flusher.wait(needed)


async def writer_turn(engine: Engine):
    """Take the writer's turn on `engine` for this context without blocking the event loop
    (see writers.writer_turn_async); returns its release function, or None."""
    return await writer_turn_async(sqlite_writers.get(engine))


def writes_on_loop(engine: Engine) -> bool:
    """Whether a write transaction may run on an event loop: only SQLite's never waits on the
    network or the disk there (writers queue on our lock, fsyncs are shared and awaited)."""
    return engine in sqlite_writers


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
