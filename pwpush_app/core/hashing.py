"""Argon2id (passwords and passphrases) with a bound on how much of it runs at once.

Each hash or check takes ~30 ms of a core and 19 MiB of memory, on purpose.  Unbounded, a
burst of logins or passphrase guesses from many addresses (each within its own rate
limit) would take every worker thread and gigabytes, and starve the cheap requests:
reveals without a passphrase, pages, the API.  So at most `slots` run at once, a few
more callers wait their turn, and past that the caller is told the server is busy
(`HashingBusy`: 503 with Retry-After in the API) at once, holding no thread.
"""

from __future__ import annotations

import threading

from pwpush_app.core import crypto
from pwpush_app.core.errors import ServerBusy

# Callers that may wait for a slot, per slot; how long one waits at most.
WAITERS_PER_SLOT = 8
WAIT_SECONDS = 5.0


class HashingBusy(ServerBusy):
    def __init__(self):
        super().__init__("too many password checks at once")


class SlowHashes:
    """Argon2id hashing and checking, `slots` at a time."""

    def __init__(self, slots: int, waiters_per_slot: int = WAITERS_PER_SLOT, wait_seconds: float = WAIT_SECONDS):
        self.slots = slots
        self._running = threading.BoundedSemaphore(slots)
        self._admitted = threading.BoundedSemaphore(slots * (1 + waiters_per_slot))
        self._wait_seconds = wait_seconds

    def hash(self, password: str) -> str:
        return self._run(crypto.hash_password, password)

    def verify(self, password: str, phc_hash: str) -> bool:
        return self._run(crypto.verify_password, password, phc_hash)

    def _run(self, function, *args):
        if not self._admitted.acquire(blocking=False):
            raise HashingBusy()
        try:
            if not self._running.acquire(timeout=self._wait_seconds):
                raise HashingBusy()
            try:
                return function(*args)
            finally:
                self._running.release()
        finally:
            self._admitted.release()
