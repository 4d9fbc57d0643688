"""What the reliability tests share: the core opened on a live server's database, HTTP
helpers, and canary scans over folders."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable

import httpx
from sqlalchemy import text

from pwpush_app.core.runtime import Runtime, open_runtime
from pwpush_app.settings import load_settings


def server_runtime(server) -> Runtime:
    """The core on the server's own database and key: to look at what the server stored."""
    return open_runtime(load_settings(server.env))


def counts(runtime) -> dict[str, int]:
    """Rows a failed request must not have written: pushes, audit events, and pushes
    without their creation record."""
    with runtime.engine.connect() as db:
        return {
            "pushes": db.execute(text("SELECT count(*) FROM push")).scalar_one(),
            "events": db.execute(text("SELECT count(*) FROM audit_event")).scalar_one(),
            "pushes without creation record": db.execute(text(
                "SELECT count(*) FROM push WHERE id NOT IN (SELECT push_id FROM audit_event WHERE kind = 'creation')"
            )).scalar_one(),
        }


def create_via_api(base_url: str, payload: str, headers: dict | None = None, client: httpx.Client | None = None,
                   **fields) -> dict:
    body = {"push": {"payload": payload, **fields}}
    response = (client or httpx).post(f"{base_url}/api/v2/pushes", json=body, headers=headers or {}, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()


def all_at_once(count: int, base_url: str, request: Callable[[httpx.Client], httpx.Response]) -> list:
    """`count` clients, each on its own open connection, fire `request` together.

    Every thread first opens its connection (a version request), then waits at a barrier,
    so the requests reach the server within a few milliseconds of each other.  Returns a
    response or the exception for each client.
    """
    barrier = threading.Barrier(count, timeout=120)
    results: list = [None] * count
    finished: list[float] = [0.0] * count

    def one(i: int) -> None:
        # Plain HTTP on loopback: verify=False skips building a certificate store per client.
        with httpx.Client(base_url=base_url, timeout=120, verify=False) as client:
            client.get("/api/v2/version")
            barrier.wait()
            try:
                results[i] = request(client)
            except httpx.HTTPError as error:
                results[i] = error
            finished[i] = time.monotonic()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    print(f"{count} requests sent together: all answered within {max(finished) - min(finished):.2f} s of each other")
    return results


# --- canary scans ------------------------------------------------------------------------------

def encodings(text: str) -> dict[str, bytes]:
    return {"utf-8": text.encode("utf-8"), "utf-16-le": text.encode("utf-16-le"), "utf-16-be": text.encode("utf-16-be")}


def pieces(blob: bytes, size: int = 32, most: int = 16) -> list[bytes]:
    """Up to `most` evenly spread slices of a value (SQLite splits large values over
    overflow pages, so a whole value need not be contiguous in its file)."""
    starts = range(0, max(len(blob) - size, 0) + 1, size)
    step = max(1, len(starts) // most)
    return [blob[i:i + size] for i in starts[::step]]


def files_in(*folders: Path) -> dict[str, bytes]:
    found = {}
    for folder in folders:
        if folder.is_file():
            found[str(folder)] = folder.read_bytes()
            continue
        if not folder.exists():
            continue
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                try:
                    found[str(path)] = path.read_bytes()
                except OSError:
                    pass  # a socket or a file removed while we looked
    return found


def hits(needles: dict[str, bytes], haystacks: dict[str, bytes]) -> list[tuple[str, str]]:
    return [(what, where) for what, needle in needles.items() for where, hay in haystacks.items() if needle in hay]
