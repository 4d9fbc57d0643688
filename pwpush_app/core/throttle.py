"""Rate limits per client (create, reveal, login), shared by pages and API.

A client is an IPv4 address or an IPv6 network (`network.client_network`).

Counts live in memory for one worker, or in Redis when REFLEX_REDIS_URL is set so that
several workers share them.
"""

from __future__ import annotations

import math
import threading
import time

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import SlidingWindowCounterRateLimiter

from pwpush_app.core.errors import PushError
from pwpush_app.core.i18n import N_, said
from pwpush_app.core.network import DEFAULT_IPV6_PREFIX, client_network


class RateLimited(PushError):
    def __init__(self, retry_after_seconds: int, message: str = ""):
        self.retry_after_seconds = max(1, retry_after_seconds)
        super().__init__(message or said(N_("Too many requests from your network. Wait {wait_seconds} and try again."),
                                         wait_seconds=self.retry_after_seconds))


class SweptMemoryStorage(MemoryStorage):
    """`limits`' MemoryStorage without its timer thread.

    MemoryStorage starts a `threading.Timer` (a new thread) whenever one is not running,
    10 ms after the last: under load, a thread start every ~10 ms, each waited for by the
    request that started it.  Here expired counters are dropped by the requests themselves,
    at most once per `SWEEP_SECONDS` (an expired counter already reads as zero: `get`
    drops it on sight; the sweep only frees the memory of clients that went away)."""

    SWEEP_SECONDS = 10.0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timer.cancel()
        self._next_sweep = time.monotonic() + self.SWEEP_SECONDS
        self._sweep_lock = threading.Lock()

    def _MemoryStorage__schedule_expiry(self) -> None:  # replaces the timer (name-mangled in the base)
        now = time.monotonic()
        if now < self._next_sweep or not self._sweep_lock.acquire(blocking=False):
            return
        try:
            self._next_sweep = now + self.SWEEP_SECONDS
            self._MemoryStorage__expire_events()
        finally:
            self._sweep_lock.release()


class Throttle:
    def __init__(self, per_minute: int, redis_url: str | None = None, ipv6_prefix: int = DEFAULT_IPV6_PREFIX):
        storage = RedisStorage(redis_url) if redis_url else SweptMemoryStorage()
        # A sliding window of two counters per client: O(1) a hit, where a moving window
        # keeps (and scans) one entry per request of the last minute.
        self._limiter = SlidingWindowCounterRateLimiter(storage)
        self._item = RateLimitItemPerMinute(per_minute)
        self._ipv6_prefix = ipv6_prefix

    def hit_account(self, action: str, user_id: str, per_minute: int, message: str = "") -> None:
        """Count one `action` by an account (wherever it calls from), at a rate of its own."""
        item = RateLimitItemPerMinute(per_minute)
        if self._limiter.hit(item, "pwpush-account", action, user_id):
            return
        reset_at = self._limiter.get_window_stats(item, "pwpush-account", action, user_id).reset_time
        raise RateLimited(math.ceil(reset_at - time.time()), message)

    def hit(self, action: str, ip: str) -> None:
        """Count one `action` from `ip`'s network; raise RateLimited when over the limit."""
        client = client_network(ip, self._ipv6_prefix)
        if self._limiter.hit(self._item, "pwpush", action, client):
            return
        reset_at = self._limiter.get_window_stats(self._item, "pwpush", action, client).reset_time
        raise RateLimited(math.ceil(reset_at - time.time()))
