"""SQLite's single writer as a queue: threads of a process on a lock, processes on a file lock.

SQLite lets one connection write at a time; the others wait in its busy handler, which
sleeps (up to 100 ms a try) instead of waking when the writer is done.  Our writers queue
here instead, and each wakes as soon as the one before it lets go: the threads of one
process on a `threading.Lock`, the processes (several Granian workers, the admin
commands) on an flock of a file beside the database.  A context that holds the turn
(`_turn`) runs its transactions without queueing behind itself.
"""

from __future__ import annotations

import asyncio
import contextvars
import fcntl
import os
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator

from pwpush_app.core.errors import ServerBusy


class DatabaseUnavailable(ServerBusy):
    """The database is locked or unreachable; nothing was changed. Try again shortly."""


# The writer's turn this context holds (so its transactions don't queue behind themselves).
_turn: contextvars.ContextVar["_Turn | None"] = contextvars.ContextVar("pwpush_writer_turn", default=None)


class _ProcessLock:
    """An exclusive flock of `path` for this process; a waiter wakes as soon as it is free.

    flock has no timeout, so when the lock is taken a helper thread blocks in flock (on
    its own open file: flocks belong to open files) while the thread that wants the lock
    waits, with a timeout, for the helper to hand it over.  Only one thread per process
    asks at a time: they queue on the thread lock first."""

    def __init__(self, path: str):
        self.path = path
        self._pid = -1

    def _start(self) -> None:
        # A forked worker opens its own files: an inherited open file would share its lock.
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        self._helper_fd = os.open(self.path, os.O_RDWR | os.O_CLOEXEC)
        self._held = -1
        self._cond = threading.Condition()
        self._wanted = self._handed = False
        self._pid = os.getpid()
        threading.Thread(target=self._helper, name="pwpush-writer-flock", daemon=True).start()

    def acquire(self, timeout: float) -> bool:
        if self._pid != os.getpid():
            self._start()
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self._held = self._fd
            return True
        except BlockingIOError:
            pass
        with self._cond:
            self._wanted = True
            self._cond.notify_all()
            got = self._cond.wait_for(lambda: self._handed, timeout if timeout > 0 else 0)
            if got:
                self._held = self._helper_fd
            self._wanted = self._handed = False
            self._cond.notify_all()
        return got

    def release(self) -> None:
        held, self._held = self._held, -1
        fcntl.flock(held, fcntl.LOCK_UN)

    def _helper(self) -> None:
        cond = self._cond
        while True:
            with cond:
                cond.wait_for(lambda: self._wanted)
            fcntl.flock(self._helper_fd, fcntl.LOCK_EX)  # the kernel wakes us when the holder lets go
            with cond:
                if self._wanted:
                    self._handed = True
                    cond.notify_all()
                    cond.wait_for(lambda: not self._handed)  # taken (or given up: then ours to drop)
                    if self._held == self._helper_fd:
                        continue
                fcntl.flock(self._helper_fd, fcntl.LOCK_UN)


class WriterLock:
    """SQLite's single writer, as a queue: threads on a lock, processes on a file lock."""

    def __init__(self, wait_seconds: float, lock_path: str | None):
        self.wait_seconds = wait_seconds
        self._threads = threading.Lock()
        self._processes = _ProcessLock(lock_path) if lock_path else None

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        wait = (self.wait_seconds if timeout is None else timeout) if blocking else 0
        if not self._threads.acquire(blocking, wait if blocking else -1):
            return False
        if self._processes is not None and not self._processes.acquire(wait):
            self._threads.release()
            return False
        return True

    def release(self) -> None:
        if self._processes is not None:
            self._processes.release()
        self._threads.release()

    def wait_free(self, timeout: float) -> bool:
        """Block until the lock could be taken (within `timeout`); leave it free."""
        if not self.acquire(timeout=timeout):
            return False
        self.release()
        return True


class _Turn:
    def __init__(self, lock: WriterLock):
        self.lock = lock
        self.active = True


def _holds(lock: WriterLock) -> bool:
    turn = _turn.get()
    return turn is not None and turn.active and turn.lock is lock


@contextmanager
def queued_writer(lock: WriterLock | None) -> Iterator[None]:
    if lock is None or _holds(lock):
        yield
        return
    if not lock.acquire():
        raise DatabaseUnavailable("the database is busy")
    turn = _Turn(lock)
    token = _turn.set(turn)
    try:
        yield
    finally:
        turn.active = False
        _turn.reset(token)
        lock.release()


async def writer_turn_async(lock: WriterLock | None) -> Callable[[], None] | None:
    """Take the writer's turn for the calling context without blocking the loop: at once
    when free, else waiting in a thread.  Returns a release function (None: no writer lock)."""
    if lock is None or _holds(lock):
        return None
    deadline = time.monotonic() + lock.wait_seconds
    while not lock.acquire(blocking=False):
        # Wait in a thread until it is free, then take it here: a lock taken in that thread
        # would be held across the hop back, while other code on this loop might block on it.
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not await asyncio.get_running_loop().run_in_executor(None, lock.wait_free, remaining):
            raise DatabaseUnavailable("the database is busy")
    turn = _Turn(lock)
    token = _turn.set(turn)

    def release() -> None:
        turn.active = False
        _turn.reset(token)
        lock.release()

    return release
