"""The hot path's transactions: a pooled driver connection and statements compiled once.

An ORM Session costs ~0.2 ms a transaction and a SQLModel object ~0.1 ms to build: more
than SQLite takes to run a create or a reveal.  `fast_transaction` gives the core the same
unit of work as `db.transaction` (the writer queue, BEGIN IMMEDIATE, the same errors, the
same durability) without them, for the statements the create and the reveal run.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import weakref
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from pwpush_app.core.db import NoConnectionFree, committed, on_the_loop, sqlite_writers, unavailable
from pwpush_app.core.writers import queued_writer


class Rows:
    """What `Tx.execute` returns: the subset of SQLAlchemy's Result the core uses."""

    __slots__ = ("_rows",)

    def __init__(self, rows: list):
        self._rows = rows

    def first(self):
        return self._rows[0] if self._rows else None

    def scalar_one(self):
        (row,) = self._rows
        return row[0]

    def all(self) -> list:
        return self._rows


class Row(tuple):
    """A returned row: by position, and by column name through `_mapping` (as SQLAlchemy's)."""

    _keys: tuple = ()

    @property
    def _mapping(self) -> dict:
        return dict(zip(self._keys, self))


class _Compiled:
    """A statement compiled once for one dialect: its SQL, how each parameter is bound and
    each returned column read (SQLAlchemy's own processors: the same values on disk)."""

    def __init__(self, statement, dialect, keys: tuple[str, ...]):
        compiled = statement.compile(dialect=dialect, column_keys=list(keys) if statement.is_insert else None)
        self.sql = compiled.string
        self.positional = dialect.positional
        self.order = tuple(compiled.positiontup or ()) if self.positional else None
        binds = compiled.binds
        self.defaults = {name: bind.effective_value for name, bind in binds.items() if not bind.required}
        self.binders = {name: p for name, bind in binds.items()
                        if (p := bind.type._cached_bind_processor(dialect)) is not None}
        returning = statement.exported_columns if getattr(statement, "_returning", ()) else ()
        self.row_class = type("Row", (Row,), {"_keys": tuple(column.key for column in returning)})
        self.readers = tuple(column.type._cached_result_processor(dialect, None) for column in returning)
        self.returns = bool(returning)

    def parameters(self, given: dict):
        values = {**self.defaults, **given} if self.defaults else dict(given)
        for name, bind in self.binders.items():  # a few (datetimes, on SQLite): not every value
            if name in values:
                values[name] = bind(values[name])
        return tuple(values[name] for name in self.order) if self.positional else values

    def rows(self, fetched: list) -> list:
        readers, make = self.readers, self.row_class
        return [make(reader(value) if reader else value for reader, value in zip(readers, row)) for row in fetched]


# Statements the hot path runs, compiled per dialect on first use.  Only module-level
# statements belong here (a statement built per call would grow it without end).
_compiled: dict[tuple, _Compiled] = {}
_MAX_COMPILED = 256


class Tx:
    """A transaction without an ORM session: `execute` runs statements built once at
    module level (SQLAlchemy Core), compiled once per dialect, on the pooled driver
    connection.  What a Session costs per transaction (~0.2 ms) is most of a reveal."""

    def __init__(self, engine: Engine, cursor):
        self.engine = engine
        self._dialect = engine.dialect
        self._cursor = cursor
        self._logger = engine.logger

    def execute(self, statement, params: dict | None = None) -> Rows:
        params = params or {}
        key = (id(statement), self._dialect.name, tuple(params) if statement.is_insert else ())
        compiled = _compiled.get(key)
        if compiled is None:
            if len(_compiled) >= _MAX_COMPILED:
                raise RuntimeError("Tx.execute takes statements built once, at module level")
            compiled = _compiled[key] = _Compiled(statement, self._dialect, key[2])
            compiled.statement = statement  # keeps id(statement) from being reused
        parameters = compiled.parameters(params)
        if self._logger.isEnabledFor(logging.INFO):  # as SQLAlchemy logs what it sends (echo)
            self._logger.info("%s", compiled.sql)
            self._logger.info("[hot path] %r", parameters)
        self._cursor.execute(compiled.sql, parameters)
        return Rows(compiled.rows(self._cursor.fetchall()) if compiled.returns else [])


class _LoopConnection(threading.local):
    """The SQLite connection an event loop's thread keeps between its hot-path transactions
    (the pool's check-out and check-in, with its rollback, cost ~50 µs a transaction).
    One per thread that runs the core on its loop: a worker's one loop thread."""

    fairy = None
    pool = None
    pid = -1


_loop_connections: "weakref.WeakKeyDictionary[Engine, _LoopConnection]" = weakref.WeakKeyDictionary()


def _held(engine: Engine) -> _LoopConnection:
    """This thread's kept connection for `engine`, a stale one (of a disposed pool, or of
    the parent of a forked worker) dropped."""
    held = _loop_connections.get(engine)
    if held is None:
        held = _loop_connections.setdefault(engine, _LoopConnection())
    if held.fairy is not None and (held.pool is not engine.pool or held.pid != os.getpid()):
        if held.pid == os.getpid():
            held.fairy.close()  # the engine was disposed: back to its old pool
        held.fairy = None  # (a forked child leaves its parent's connection alone)
    return held


def _connection(engine: Engine, keep: bool):
    """A pooled connection: the loop thread's kept one (`keep`), else checked out now."""
    if not keep:
        return engine.raw_connection()
    held = _held(engine)
    if held.fairy is None:
        held.fairy, held.pool, held.pid = engine.raw_connection(), engine.pool, os.getpid()
    return held.fairy


async def keep_a_connection(engine: Engine) -> None:
    """Make sure the calling loop's thread keeps a connection for the hot path, checked out
    in a thread when it has none: with every pooled connection out, the wait for one (up to
    the busy timeout, then the busy answer) holds up this request, not the whole loop."""
    if _held(engine).fairy is not None:
        return
    try:
        fairy = await asyncio.get_running_loop().run_in_executor(None, engine.raw_connection)
    except (NoConnectionFree, OperationalError, engine.dialect.loaded_dbapi.OperationalError) as error:
        raise unavailable(error) from error
    held = _held(engine)
    if held.fairy is not None:  # another request on this loop got one meanwhile
        fairy.close()
        return
    held.fairy, held.pool, held.pid = fairy, engine.pool, os.getpid()


def _forget(engine: Engine, fairy) -> None:
    held = _loop_connections.get(engine)
    if held is not None and held.fairy is fairy:
        held.fairy = None


@contextmanager
def fast_transaction(engine: Engine, write: bool = True) -> Iterator[Tx]:
    """`transaction()` for the hot path: the same writer queue, BEGIN IMMEDIATE, errors and
    durability, on a pooled driver connection instead of an ORM session (on SQLite, on an
    event loop: the connection the loop's thread keeps)."""
    sqlite = engine.dialect.name == "sqlite"
    keep = sqlite and on_the_loop()
    with queued_writer(sqlite_writers.get(engine) if write else None):
        try:
            fairy = _connection(engine, keep)
        except (NoConnectionFree, OperationalError, engine.dialect.loaded_dbapi.OperationalError) as error:
            raise unavailable(error) from error
        driver = fairy.driver_connection
        cursor = driver.cursor()
        failed = True
        try:
            if sqlite:
                cursor.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            yield Tx(engine, cursor)
            driver.commit()
            failed = False
        except BaseException as error:
            try:
                driver.rollback()
            except Exception:  # noqa: BLE001 - the connection is gone: the pool drops it below
                pass
            if isinstance(error, engine.dialect.loaded_dbapi.Error):
                if engine.dialect.is_disconnect(error, driver, cursor):
                    fairy.invalidate()
                if isinstance(error, engine.dialect.loaded_dbapi.OperationalError):
                    raise unavailable(error) from error
            raise
        finally:
            cursor.close()
            if not keep or failed:
                if keep:
                    _forget(engine, fairy)  # after a failure: back to the pool, a fresh one next time
                fairy.close()
    if write:
        committed(engine)
