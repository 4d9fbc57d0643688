"""Which worker process answers a connection: for tests that must cross workers on purpose.

Granian's workers accept from one shared listening socket. `ss` names the process that
holds the server end of each established connection, so a kept-alive client connection
can be pinned to the worker behind it.
"""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import time


class Conn:
    """One kept-alive HTTP/1.1 connection, and the pid of the worker that accepted it."""

    def __init__(self, port: int):
        self.http = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.http.connect()
        self.local_port = self.http.sock.getsockname()[1]
        self.pid: int | None = None

    def request(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        all_headers = {"Content-Type": "application/json", **(headers or {})} if data else dict(headers or {})
        self.http.request(method, path, body=data, headers=all_headers)
        response = self.http.getresponse()
        raw = response.read()
        return response.status, dict(response.getheaders()), (json.loads(raw) if raw.startswith(b"{") else raw)

    def close(self) -> None:
        self.http.close()


def server_side_pids(port: int) -> dict[int, int]:
    """{client port: pid of the process holding the server end} for connections to `port`."""
    out = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
                         capture_output=True, text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        match = re.search(r":(\d+)\s+users:\(\(\"[^\"]*\",pid=(\d+)", line)
        if match:
            found[int(match.group(1))] = int(match.group(2))
    return found


def connections_by_worker(port: int, count: int = 15) -> dict[int, list[Conn]]:
    """Open `count` kept-alive connections (one request each) and group them by worker pid."""
    conns = [Conn(port) for _ in range(count)]
    for conn in conns:
        assert conn.request("GET", "/ping")[0] == 200
    time.sleep(0.2)
    pids = server_side_pids(port)
    groups: dict[int, list[Conn]] = {}
    for conn in conns:
        conn.pid = pids.get(conn.local_port)
        assert conn.pid is not None, f"no server-side owner for client port {conn.local_port}: {pids}"
        groups.setdefault(conn.pid, []).append(conn)
    return groups


def close_all(groups: dict[int, list[Conn]]) -> None:
    for conns in groups.values():
        for conn in conns:
            conn.close()


def descendants(pid: int) -> set[int]:
    """Every process below `pid` (granian's workers sit under `reflex run`)."""
    found, frontier = set(), [pid]
    while frontier:
        parent = frontier.pop()
        try:
            children = open(f"/proc/{parent}/task/{parent}/children").read().split()
        except OSError:
            continue
        for child in map(int, children):
            if child not in found:
                found.add(child)
                frontier.append(child)
    return found
