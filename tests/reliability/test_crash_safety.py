"""kill -9 under load: the production server on SQLite, killed at random moments while
clients create and reveal pushes. Three kinds of crash, in turn:

- `worker`: the worker process dies (a segfault, the OOM killer); Granian forks a new one
  from the loaded app;
- `app`: the app's generation (Granian and its worker) dies; the keeper, which holds the
  listening socket, lets its warm standby serve (or, if the standby is still starting,
  waits for it: a kill soon after the previous one);
- `server`: everything dies, the keeper included; the test starts it again at once, as
  systemd's `Restart=` does (without its socket unit: connections are refused meanwhile).

Each kill's restart time (kill to the first `/ping` answered, polled every 20 ms) is
reported, per kind, with the requests refused while down.

What must hold afterwards (SPEC section 6):
- every create that was answered 201 is in the database and its views are all there,
  except views whose reveal was in flight when the server died (sent, never answered);
- no push was served more often than its view limit;
- SQLite's integrity check passes, and no push lacks its creation record.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
import pytest

from pwpush_app.core.records import find_push
from tests.conftest import ARTIFACTS
from tests.servers import LiveServer, free_port

from .support import server_runtime

SEED = 20261125
LOAD_THREADS = 3


@dataclass
class Ledger:
    """What the clients saw: answered creates, payloads served, reveals left unanswered."""

    views: dict[str, int] = field(default_factory=dict)  # token -> its view limit (answered 201)
    payloads: dict[str, str] = field(default_factory=dict)
    served: Counter = field(default_factory=Counter)
    in_flight: Counter = field(default_factory=Counter)  # reveals sent that got no answer
    creates_unanswered: int = 0
    refused: int = 0  # requests that found the server down (connection refused)
    lock: threading.Lock = field(default_factory=threading.Lock)


def client_load(url: str, ledger: Ledger, rng: random.Random, stop: threading.Event) -> None:
    with httpx.Client(base_url=url, timeout=10, verify=False) as client:
        n = 0
        while not stop.is_set():
            n += 1
            with ledger.lock:
                tokens = list(ledger.views)
            if tokens and rng.random() < 0.55:
                token = rng.choice(tokens)
                try:
                    answer = client.get(f"/api/v2/pushes/{token}")
                except httpx.ConnectError:
                    ledger.refused += 1  # never reached the server
                    time.sleep(0.05)
                    continue
                except httpx.HTTPError:
                    with ledger.lock:
                        ledger.in_flight[token] += 1
                    continue
                assert answer.status_code == 200, answer.text
                payload = answer.json()["payload"]
                if payload is not None:
                    assert payload == ledger.payloads[token]
                    with ledger.lock:
                        ledger.served[token] += 1
            else:
                payload = f"crash-{threading.get_ident()}-{n}-{rng.getrandbits(64):x}"
                views = rng.randint(1, 3)
                try:
                    answer = client.post("/api/v2/pushes", json={"push": {"payload": payload, "expire_after_views": views}})
                except httpx.ConnectError:
                    ledger.refused += 1
                    time.sleep(0.05)
                    continue
                except httpx.HTTPError:
                    ledger.creates_unanswered += 1
                    continue
                assert answer.status_code == 201, answer.text
                token = answer.json()["url_token"]
                with ledger.lock:
                    ledger.views[token] = views
                    ledger.payloads[token] = payload


KINDS = ("worker", "app", "server")


def kill_and_restart(server: LiveServer, kills: int, rng: random.Random) -> list[tuple[str, float]]:
    """Kill -9 `kills` times, the kinds in turn; (kind, seconds until /ping answers) each."""
    restarts = []
    for index in range(kills):
        time.sleep(rng.uniform(0.3, 3.0))
        kind = KINDS[index % len(KINDS)]
        generations = server.generations()
        (generation, workers), = generations.items()
        if kind == "worker":
            os.kill(rng.choice(workers), 9)
        elif kind == "app":
            os.kill(generation, 9)  # its workers get SIGKILL from the kernel (PR_SET_PDEATHSIG)
        else:
            os.killpg(server.process.pid, 9)  # the keeper and everything under it
            server.process.wait(30)
        killed = time.monotonic()
        if kind == "server":
            server.start()  # reuses the built frontend
        else:
            wait_for_ping(server.url)
        restarts.append((kind, time.monotonic() - killed))
    return restarts


def wait_for_ping(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/ping", timeout=timeout).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.02)
    raise AssertionError(f"no answer {timeout} s after a kill")


def run_crash_scenario(tmp_path, kills: int) -> dict:
    rng = random.Random(SEED + kills)
    server = LiveServer(tmp_path / "data", free_port())
    server.start()
    ledger, stop = Ledger(), threading.Event()
    threads = [
        threading.Thread(target=client_load, args=(server.url, ledger, random.Random(rng.random()), stop), daemon=True)
        for _ in range(LOAD_THREADS)
    ]
    errors: list[BaseException] = []
    for thread in threads:
        thread.run = _catching(thread.run, errors)
        thread.start()
    try:
        restarts = kill_and_restart(server, kills, rng)
        time.sleep(1.0)  # some load on the last restart too
        stop.set()
        for thread in threads:
            thread.join(30)
        assert errors == []

        runtime = server_runtime(server)
        lost, over_served, drained_total = [], [], 0
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for token, limit in ledger.views.items():
                stored = find_push(runtime, token)
                assert stored is not None, "a create answered 201 is missing"
                assert ledger.served[token] <= limit
                # Drain what is left: the total served must be the limit, less in-flight reveals.
                drained = 0
                for _ in range(limit + 1):
                    payload = client.get(f"/api/v2/pushes/{token}").json()["payload"]
                    if payload is None:
                        break
                    assert payload == ledger.payloads[token]
                    drained += 1
                drained_total += drained
                total = ledger.served[token] + drained
                if total > limit:
                    over_served.append(token)
                if total + ledger.in_flight[token] < limit:
                    lost.append(token)
                assert find_push(runtime, token).expired
        runtime.engine.dispose()
    finally:
        stop.set()
        server.stop()

    with sqlite3.connect(server.data_dir / "pwpush.db") as db:
        integrity = db.execute("PRAGMA integrity_check").fetchall()
        orphans = db.execute(
            "SELECT count(*) FROM push WHERE id NOT IN (SELECT push_id FROM audit_event WHERE kind = 'creation')"
        ).fetchone()[0]
        stored_pushes = db.execute("SELECT count(*) FROM push").fetchone()[0]
    figures = {
        "kills": kills,
        **{f"restart_seconds_{kind}": [round(seconds, 2) for k, seconds in restarts if k == kind] for kind in KINDS},
        "restart_seconds_max": round(max(seconds for _, seconds in restarts), 2),
        "creates_answered_201": len(ledger.views),
        "creates_unanswered": ledger.creates_unanswered,
        "pushes_stored": stored_pushes,
        "payloads_served_under_load": sum(ledger.served.values()),
        "reveals_unanswered": sum(ledger.in_flight.values()),
        "requests_refused_while_down": ledger.refused,
        "views_drained_after": drained_total,
        "pushes_over_served": len(over_served),
        "pushes_with_a_view_lost": len(lost),
        "integrity_check": integrity[0][0],
        "pushes_without_creation_record": orphans,
    }
    print(json.dumps(figures))
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"crash-safety-{kills}-kills.json").write_text(json.dumps(figures, indent=2))
    assert over_served == [] and lost == []
    assert integrity == [("ok",)]
    assert orphans == 0
    assert len(ledger.views) > 10 * kills  # the load was real
    return figures


def _catching(run, errors):
    def wrapped():
        try:
            run()
        except BaseException as error:  # noqa: BLE001  (reported by the test)
            errors.append(error)
    return wrapped


def test_three_kills_under_load_lose_nothing(tmp_path):
    run_crash_scenario(tmp_path, kills=3)


@pytest.mark.soak
@pytest.mark.timeout(1800)
def test_ten_kills_under_load_lose_nothing(tmp_path):
    run_crash_scenario(tmp_path, kills=10)
