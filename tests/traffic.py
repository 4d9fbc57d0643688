"""Steady traffic for restart tests and benchmarks: clients that create a push and reveal it,
one cycle after another, and note every request that failed and how long each one took.

Two kinds of client, as a server meets them:
- `keep-alive`: one connection reused for every request (browsers, nginx's upstream
  keepalive, scripts with a session);
- `fresh`: a new connection per request (curl, the pwpush CLI, scripts without a session).

A failed request is any that raised (refused, reset, closed without an answer, timed out)
or was answered with a status other than the expected one. Clients do not retry.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx


@dataclass
class Traffic:
    url: str
    keep_alive_clients: int = 2
    fresh_clients: int = 2
    timeout: float = 60.0
    cycles: int = 0
    failures: Counter = field(default_factory=Counter)
    latencies: list[tuple[float, float]] = field(default_factory=list)  # (started, seconds)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> "Traffic":
        for index in range(self.keep_alive_clients + self.fresh_clients):
            keep_alive = index < self.keep_alive_clients
            thread = threading.Thread(target=self._client, args=(keep_alive,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> "Traffic":
        self._stop.set()
        for thread in self._threads:
            thread.join(self.timeout + 10)
        return self

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    def longest_wait(self, since: float = 0.0) -> float:
        """The slowest request that started after `since` (time.monotonic())."""
        return max((seconds for started, seconds in self.latencies if started >= since), default=0.0)

    def _client(self, keep_alive: bool) -> None:
        limits = httpx.Limits(max_keepalive_connections=1 if keep_alive else 0)
        with httpx.Client(base_url=self.url, timeout=self.timeout, limits=limits) as client:
            while not self._stop.is_set():
                secret = f"traffic-{os.urandom(6).hex()}"
                answer = self._request(client, "POST", "/api/v2/pushes", 201,
                                       json={"push": {"payload": secret, "expire_after_views": 1}})
                if answer is None:
                    continue
                revealed = self._request(client, "GET", f"/api/v2/pushes/{answer.json()['url_token']}", 200)
                if revealed is None:
                    continue
                if revealed.json().get("payload") != secret:
                    self._fail("reveal returned another payload")
                    continue
                with self._lock:
                    self.cycles += 1

    def _request(self, client: httpx.Client, method: str, path: str, expected: int, **kwargs):
        started = time.monotonic()
        try:
            answer = client.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            self._fail(f"{method} {path.split('/')[3]}: {type(error).__name__}: {error}", started)
            return None
        finally:
            with self._lock:
                self.latencies.append((started, time.monotonic() - started))
        if answer.status_code != expected:
            self._fail(f"{method} {path.split('/')[3]}: HTTP {answer.status_code}", started)
            return None
        return answer

    def _fail(self, what: str, started: float | None = None) -> None:
        with self._lock:
            self.failures[what] += 1
        time.sleep(0.05)  # a refused connection would otherwise spin

    def summary(self) -> dict:
        return {"cycles": self.cycles, "failed_requests": self.failed, "failures": dict(self.failures),
                "longest_wait_s": round(self.longest_wait(), 3)}
