"""The warm standby (issue 23: a crash costs ≤ 1 s): beside the serving generation the keeper
keeps a second one that has imported the app and waits, without a worker. When the serving
generation dies (kill -9 here; the OOM killer, a segfault), the standby forks its workers on
the same socket at once; a new standby starts behind it.

- under steady traffic, kill -9 of the serving generation: `/ping` answers again within a
  second, no connection is refused (the socket's queue waits), and only requests in flight
  on the killed worker are lost;
- a reload (SIGHUP) replaces the standby by one started after it (new code, new settings):
  the old standby never serves;
- a standby that cannot start (a broken key file) is tried again later, not in a loop, and
  the serving generation goes on; once fixed, a standby is warm again.

Each test writes its figures to test-artifacts/ (bench/README.md quotes them).
"""

from __future__ import annotations

import os
import signal
import time

import httpx
import pytest

from tests.reliability.test_reload import create, record, reveal
from tests.servers import LiveServer, free_port, make_env
from tests.traffic import Traffic

# They measure restart gaps and how workers share the load: run with the machine to themselves.
pytestmark = pytest.mark.alone

# One port and the same page settings for every server here: they share one frontend build.
PORT = free_port()
CLIENTS = 4  # tests/traffic.py's default: 2 kept-alive, 2 fresh-connection clients




def seconds_until_answered(url: str, since: float, timeout: float = 120) -> float:
    """Seconds from `since` (time.monotonic()) to the first `/ping` answered 200, polled every 10 ms."""
    deadline = since + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/ping", timeout=timeout).status_code == 200:
                return time.monotonic() - since
        except httpx.HTTPError:
            time.sleep(0.01)
    raise AssertionError(f"no answer {timeout} s after the kill")


def serving_after_kill(server: LiveServer, killed: int, timeout: float = 30) -> set[int]:
    """The serving generations once the killed one is gone from the keeper's children (a
    zombie until the keeper reaps it, and its workers may outlive it by a moment)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        serving = set(server.generations())
        if serving and killed not in serving:
            return serving
        time.sleep(0.05)
    return set(server.generations())


def started_at(pid: int) -> float:
    """The process's start, in seconds since boot (/proc/PID/stat, field 22)."""
    stat = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(stat[19]) / os.sysconf("SC_CLK_TCK")


def seconds_since_boot() -> float:
    return float(open("/proc/uptime").read().split()[0])


def alive(pid: int) -> bool:
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_kill_9_of_the_serving_generation_under_traffic_costs_less_than_a_second(tmp_path):
    kills = 2
    server = LiveServer(tmp_path / "data", PORT)
    server.start()
    gaps, promoted = [], []
    try:
        token = create(server.url, "created-before-the-crashes")
        traffic = Traffic(server.url).start()
        for _ in range(kills):
            standby = server.standby()
            time.sleep(1)
            (serving, _workers), = server.generations().items()
            os.kill(serving, signal.SIGKILL)
            killed = time.monotonic()
            gaps.append(round(seconds_until_answered(server.url, killed), 3))
            promoted.append(serving_after_kill(server, serving) == {standby})
        longest_after_kill = traffic.longest_wait(killed - 0.5)
        time.sleep(1)
        traffic.stop()
        assert reveal(server.url, token) == "created-before-the-crashes"
        log = server.log_text()
    finally:
        server.stop()
    record("crash-standby-1-worker-sqlite", {
        "kills": kills, "kill_to_first_answer_s": gaps, "longest_wait_around_last_kill_s": round(longest_after_kill, 3),
        "load": round(os.getloadavg()[0], 2), **traffic.summary()})
    assert promoted == [True] * kills, log[-3000:]  # the warm standby took over each time
    assert max(gaps) < 1.0, gaps
    # Nothing refused (the socket kept its queue); lost: at most the request each client
    # had in flight on the killed worker.
    assert not any("ConnectError" in failure for failure in traffic.failures), traffic.failures
    assert traffic.failed <= CLIENTS * kills, traffic.failures
    assert traffic.cycles > 20


def test_a_reload_replaces_the_standby_by_one_started_after_it(tmp_path):
    server = LiveServer(tmp_path / "data", PORT)
    server.start()
    try:
        old_standby = server.standby()
        signalled = seconds_since_boot()
        server.reload()
        new_standby = server.standby(other_than={old_standby})
        assert not alive(old_standby)  # stale code and settings: stopped, never served
        assert started_at(new_standby) >= signalled - 0.01  # so it read the code and settings of the reload
        (serving, _workers), = server.generations().items()
        os.kill(serving, signal.SIGKILL)
        seconds_until_answered(server.url, time.monotonic())
        assert serving_after_kill(server, serving) == {new_standby}
    finally:
        server.stop()


def test_a_standby_that_cannot_start_is_tried_again_later_while_the_server_serves(tmp_path):
    key_file = tmp_path / "master.key"
    good_key = make_env(tmp_path)["PWPUSH_MASTER_KEY"] + "\n"
    key_file.write_text(good_key)
    key_file.chmod(0o600)
    server = LiveServer(tmp_path / "data", PORT, {"PWPUSH_MASTER_KEY": "", "PWPUSH_MASTER_KEY_FILE": str(key_file)})
    server.start()
    try:
        token = create(server.url, "still-served")
        first = server.standby()
        key_file.write_text("not a key\n")  # the standby started next cannot read its key
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 120
        while server.log_text().count("exited (2)") < 2:  # the first retry after 5 s, the next after 10 s
            assert time.monotonic() < deadline, server.log_text()[-3000:]
            assert httpx.get(f"{server.url}/api/v2/version", timeout=30).status_code == 200
            time.sleep(0.5)
        failed_starts = server.log_text().count("exited (2)")
        key_file.write_text(good_key)
        server.standby(timeout=120, other_than={first})  # the next try (20 s later) gets warm
        log = server.log_text()
        assert reveal(server.url, token) == "still-served"
    finally:
        server.stop()
    assert "PWPUSH_MASTER_KEY_FILE" in log  # the reason is logged
    assert log.count("exited (2)") == failed_starts == 2  # backed off, not a loop
