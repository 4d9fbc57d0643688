"""Restarts that refuse nothing, on the default shape (one worker, SQLite, memory state):

- a reload (SIGHUP, `systemctl reload pwpush`) under steady traffic: the new generation
  starts beside the old one, which drains and stops: not one request fails;
- a reload whose new generation cannot start (here: a broken key file) leaves the running
  one serving;
- a full restart with the listening socket held across it (systemd's socket activation,
  deploy/pwpush.socket): requests wait for the new process instead of being refused;
- systemd hears when the server is ready, reloading and stopping (Type=notify).

Each test writes its figures (failed requests, the longest wait) to test-artifacts/.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import time

import httpx
import pytest

from tests.conftest import ARTIFACTS
from tests.servers import LiveServer, SocketHolder, free_port, make_env
from tests.traffic import Traffic

# They measure restart gaps and how workers share the load: run with the machine to themselves.
pytestmark = pytest.mark.alone

# One port and the same page settings for every server here: they share one frontend build.
PORT = free_port()


def record(name: str, figures: dict) -> None:
    print(json.dumps(figures))
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"{name}.json").write_text(json.dumps(figures, indent=2))


def create(url: str, payload: str) -> str:
    answer = httpx.post(f"{url}/api/v2/pushes", json={"push": {"payload": payload, "expire_after_views": 5}},
                        timeout=30)
    assert answer.status_code == 201, answer.text
    return answer.json()["url_token"]


def reveal(url: str, token: str) -> str | None:
    return httpx.get(f"{url}/api/v2/pushes/{token}", timeout=30).json()["payload"]


# One reload always; several in the soak run (`pytest -m soak`).
@pytest.mark.parametrize("reloads", [1, pytest.param(4, marks=pytest.mark.soak)])
def test_reload_of_one_worker_on_sqlite_under_traffic_fails_no_request(tmp_path, reloads):
    server = LiveServer(tmp_path / "data", PORT)
    server.start()
    try:
        token = create(server.url, "created-before-the-reloads")
        before = set(server.generations())
        traffic = Traffic(server.url).start()
        started = time.monotonic()
        for _ in range(reloads):
            time.sleep(1)
            server.reload()
        time.sleep(1)
        traffic.stop()
        after = set(server.generations())
        assert reveal(server.url, token) == "created-before-the-reloads"
    finally:
        server.stop()
    record("reload-1-worker-sqlite", {"reloads": reloads, "seconds": round(time.monotonic() - started, 1),
                                      **traffic.summary()})
    assert traffic.failures == {}
    assert traffic.cycles > 40
    assert len(after) == 1 and not after & before  # the app's process was replaced


def test_a_reload_tells_kept_alive_clients_to_reconnect_before_their_connection_closes(tmp_path):
    """While the old generation drains, its answers say `Connection: close`: a client in a
    steady exchange reconnects (to the new generation) after an answer, instead of sending
    its next request on a connection the server is about to close (HTTP/1.1's keep-alive
    race: the request is lost without an answer)."""
    server = LiveServer(tmp_path / "data", PORT)
    server.start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        answers = []
        os.kill(server.process.pid, signal.SIGHUP)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            connection.request("GET", "/ping")
            response = connection.getresponse()
            response.read()
            answers.append((response.status, response.getheader("connection")))
            if response.getheader("connection") == "close":
                break
            time.sleep(0.02)
        connection.close()
    finally:
        server.stop()
    assert answers[-1] == (200, "close"), answers[-5:]  # told to reconnect, on a full answer
    assert {status for status, _ in answers} == {200}  # every request on the connection was answered


def test_a_reload_that_cannot_start_leaves_the_running_server_serving(tmp_path):
    key_file = tmp_path / "master.key"
    key_file.write_text(make_env(tmp_path)["PWPUSH_MASTER_KEY"] + "\n")
    key_file.chmod(0o600)
    server = LiveServer(tmp_path / "data", PORT, {"PWPUSH_MASTER_KEY": "", "PWPUSH_MASTER_KEY_FILE": str(key_file)})
    server.start()
    try:
        token = create(server.url, "still-here")
        serving = set(server.generations())
        good_key = key_file.read_text()
        key_file.write_text("not a key\n")  # a bad deploy: the new generation refuses to start
        traffic = Traffic(server.url).start()
        log_size = len(server.log_text())
        os.kill(server.process.pid, signal.SIGHUP)
        deadline = time.monotonic() + 300
        while "reload failed" not in server.log_text()[log_size:]:
            assert time.monotonic() < deadline, server.log_text()[-3000:]
            time.sleep(0.2)
        time.sleep(1)
        traffic.stop()
        assert set(server.generations()) == serving  # the running generation goes on
        assert "PWPUSH_MASTER_KEY_FILE" in server.log_text()[log_size:]  # the reason is logged
        assert reveal(server.url, token) == "still-here"

        key_file.write_text(good_key)  # fixed: the next reload goes through
        server.reload()
        assert set(server.generations()) != serving
        assert reveal(server.url, token) == "still-here"
    finally:
        server.stop()
    assert traffic.failures == {}
    assert traffic.cycles > 5


def test_full_restart_on_a_socket_held_across_it_refuses_nothing(tmp_path):
    """`systemctl restart pwpush` with socket activation: the old server finishes its
    requests and exits, the new one starts; meanwhile connections queue on systemd's
    socket. The longest wait is the restart's cost (test-artifacts/, bench/README.md)."""
    server = LiveServer(tmp_path / "data", PORT)
    server.data_dir.mkdir(parents=True)
    holder = SocketHolder(server)
    try:
        holder.start_service()
        server.wait_until_serving()
        assert "listening on the 2 socket(s) systemd passed" in server.log_text()
        token = create(server.url, "across-the-restart")
        traffic = Traffic(server.url).start()
        time.sleep(1)
        restarted = time.monotonic()
        old = server.process
        old.send_signal(signal.SIGTERM)  # systemctl stop: the keeper, not its group
        old.wait(60)
        holder.start_service()  # systemctl start, on the same socket
        server.wait_until_serving()
        time.sleep(1)
        traffic.stop()
        assert reveal(server.url, token) == "across-the-restart"
    finally:
        server.stop()
        holder.close()
    record("restart-socket-activation-1-worker", {
        **traffic.summary(), "longest_wait_during_restart_s": round(traffic.longest_wait(restarted - 5), 3)})
    assert traffic.failures == {}
    assert traffic.cycles > 10


def test_systemd_hears_ready_reloading_and_stopping(tmp_path):
    """deploy/pwpush.service is Type=notify: `systemctl start` returns once the server
    answers, `reload` and `stop` are reported (sd_notify(3) datagrams on $NOTIFY_SOCKET)."""
    notify_path = tmp_path / "notify"
    notifications = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notifications.bind(str(notify_path))
    notifications.settimeout(300)
    server = LiveServer(tmp_path / "data", PORT, {"NOTIFY_SOCKET": str(notify_path)})
    try:
        server.start()
        ready = notifications.recv(4096).decode()
        assert ready == f"READY=1\nMAINPID={server.process.pid}"
        assert httpx.get(server.url + "/ping").status_code == 200
        os.kill(server.process.pid, signal.SIGHUP)
        assert notifications.recv(4096).decode().startswith("RELOADING=1")
        assert notifications.recv(4096).decode().startswith("READY=1")  # the new generation serves
        server.process.send_signal(signal.SIGTERM)
        assert notifications.recv(4096).decode() == "STOPPING=1"
        assert server.process.wait(60) == 0
    finally:
        server.stop()
        notifications.close()
