"""Rate limits per client (create, reveal, login), shared by pages and API.

A client is an IPv4 address or an IPv6 network (`network.client_network`).

Counts live in memory for one worker, or in Redis when REFLEX_REDIS_URL is set so that
several workers share them.  A Redis that is down or does not answer costs a count at
most `REDIS_WAIT_SECONDS` a try (two tries), then the request is refused as
`RateLimitsUnavailable` (busy: try again shortly), changing nothing; and the callers on an
event loop run in a thread (`Throttle.remote`), so a slow Redis never holds up the loop's
other requests.
"""

from __future__ import annotations

import math
import threading
import time

from limits import RateLimitItemPerMinute
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import SlidingWindowCounterRateLimiter
from redis.backoff import NoBackoff
from redis.retry import Retry

from pwpush_app.core.errors import PushError, ServerBusy
from pwpush_app.core.i18n import N_, said
from pwpush_app.core.network import DEFAULT_IPV6_PREFIX, client_network


class RateLimited(PushError):
    def __init__(self, retry_after_seconds: int, message: str = ""):
        self.retry_after_seconds = max(1, retry_after_seconds)
        super().__init__(message or said(N_("Too many requests from your network. Wait {wait_seconds} and try again."),
                                         wait_seconds=self.retry_after_seconds))


class RateLimitsUnavailable(ServerBusy):
    """The shared rate-limit counts (Redis) did not answer: nothing was counted or changed."""


# How long a request waits for Redis to connect, or to answer one command.
REDIS_WAIT_SECONDS = 1.0


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
        # redis-py's defaults would wait forever for an answer, and retry a dropped
        # connection three times with back-off (~7 s): here one try and one retry, each bounded.
        storage = (RedisStorage(redis_url, wrap_exceptions=True, socket_connect_timeout=REDIS_WAIT_SECONDS,
                                socket_timeout=REDIS_WAIT_SECONDS, retry=Retry(NoBackoff(), 1))
                   if redis_url else SweptMemoryStorage())
        self.remote = redis_url is not None  # a hit is a network round trip
        # A sliding window of two counters per client: O(1) a hit, where a moving window
        # keeps (and scans) one entry per request of the last minute.
        self._limiter = SlidingWindowCounterRateLimiter(storage)
        self._item = RateLimitItemPerMinute(per_minute)
        self._ipv6_prefix = ipv6_prefix

    def hit_account(self, action: str, user_id: str, per_minute: int, message: str = "") -> None:
        """Count one `action` by an account (wherever it calls from), at a rate of its own."""
        self._count(RateLimitItemPerMinute(per_minute), ("pwpush-account", action, user_id), message)

    def hit(self, action: str, ip: str) -> None:
        """Count one `action` from `ip`'s network; raise RateLimited when over the limit."""
        self._count(self._item, ("pwpush", action, client_network(ip, self._ipv6_prefix)))

    def _count(self, item: RateLimitItemPerMinute, key: tuple[str, ...], message: str = "") -> None:
        try:
            if self._limiter.hit(item, *key):
                return
            reset_at = self._limiter.get_window_stats(item, *key).reset_time
        except StorageError as error:
            failure = type(error.storage_error).__name__
            raise RateLimitsUnavailable(f"the rate limits could not be counted: {failure}") from None
        raise RateLimited(math.ceil(reset_at - time.time()), message)
