"""Webhooks cannot be turned against the server (security audit): no call reaches this machine
or a private network unless the operator allows it (PWPUSH_WEBHOOK_ALLOW_PRIVATE), by address
or by a name that resolves there; the delivery log says no socket error's text; one endpoint
cannot hold the sender past the timeout nor make it read a huge answer; test events are limited.

The endpoints here are real sockets on 127.0.0.1 (a listener that counts connections, one that
answers a byte at a time, one that answers 64 MiB)."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from pwpush_app.core import webhook_calls, webhooks
from pwpush_app.core.accounts import issue_api_token
from pwpush_app.core.webhooks import WebhookError, check_url
from tests.mail_servers import LOCAL_RECEIVERS

NOT_PUBLIC = "only to public addresses"


class Listener:
    """A TCP port on 127.0.0.1 that counts the connections it accepts (and closes them)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def stop(self):
        self.sock.close()


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.stop()


def answering(reply, stop: threading.Event) -> tuple[int, dict]:
    """A one-connection HTTP endpoint on 127.0.0.1 that runs `reply(conn, stop)` after the request;
    returns its port and what happened ({"finished": True} when reply wrote everything)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    seen: dict = {}

    def serve():
        conn, _ = srv.accept()
        conn.recv(65536)
        try:
            reply(conn, stop)
            seen["finished"] = True
        except OSError:
            seen["finished"] = False
        finally:
            conn.close()
            srv.close()
            seen["done"] = True
    seen["thread"] = threading.Thread(target=serve, daemon=True)
    seen["thread"].start()
    return srv.getsockname()[1], seen


def drip_body(conn, stop):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
    while not stop.is_set():
        conn.sendall(b"x")  # a byte every 0.5 s: no single read ever waits the timeout
        time.sleep(0.5)


def drip_headers(conn, stop):
    for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"x" * 1000:
        if stop.is_set():
            return
        conn.sendall(bytes([byte]))
        time.sleep(0.5)


BIG = 64 * 1024 * 1024


def big_answer(conn, stop):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % BIG)
    chunk = b"x" * (1 << 20)
    for _ in range(BIG >> 20):
        conn.sendall(chunk)


# --- where calls may go -------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/h", "http://localhost:8080/hook", "http://[::1]:8080/h", "https://127.0.0.2/",
    "https://10.0.0.5/", "https://192.168.1.1:8443/x", "https://172.16.0.1/", "https://169.254.169.254/latest/meta-data/",
    "https://[::1]:6443/", "https://100.64.0.1/", "https://[fd00::1]/", "https://[fe80::1]/", "https://0.0.0.0:9000/",
    "https://[::ffff:127.0.0.1]/", "https://[::ffff:10.0.0.1]/", "https://[2002:7f00:1::]/", "https://[64:ff9b::a9fe:a9fe]/",
    "https://224.0.0.1/", "https://240.0.0.1/", "https://metadata.localhost/",
])
def test_this_machine_and_private_networks_are_refused_at_registration(url):
    with pytest.raises(WebhookError) as refused:
        check_url(url)
    assert NOT_PUBLIC in str(refused.value)
    assert check_url(url, allow_private=True) == url  # the operator may allow them


@pytest.mark.parametrize("url", ["https://hooks.example.com/pwpush", "https://8.8.8.8/h", "https://[2606:4700::1111]/h"])
def test_public_addresses_and_names_are_accepted(url):
    assert check_url(url) == url


@pytest.fixture
def guarded(make_runtime):
    """A runtime with the default rule; endpoints put in by a runtime that allows local ones
    (as if registered before the name's DNS changed, or before the operator turned it off)."""
    runtime = make_runtime()
    allowing = make_runtime(PWPUSH_MASTER_KEY=runtime.settings.master_key, **LOCAL_RECEIVERS)
    users = [issue_api_token(runtime, f"owner{n}@example.com")[0] for n in range(2)]
    assert runtime.settings.mail.webhook_allow_private is False and allowing.settings.mail.webhook_allow_private

    def queue(url: str) -> None:
        user = next(u for u in users if len(webhooks.webhooks_of(runtime, u.id)) < webhooks.MAX_WEBHOOKS)
        endpoint, _secret = webhooks.add_webhook(allowing, user.id, url)
        webhooks.send_test_event(allowing, user.id, endpoint.id)

    def logs() -> list[webhooks.DeliveryView]:
        return [log for user in users for log in webhooks.deliveries_of(runtime, user.id)]
    return runtime, queue, logs


def test_nothing_reaches_this_machine_or_a_private_network_at_delivery(guarded, listener, monkeypatch):
    runtime, queue, logs = guarded
    real_getaddrinfo = socket.getaddrinfo
    # A name that passes registration but resolves to loopback (DNS rebinding): no internet needed.
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: real_getaddrinfo(
        "127.0.0.1" if host == "rebound.example.com" else host, *a, **k))
    for url in (f"http://127.0.0.1:{listener.port}/", f"http://localhost:{listener.port}/",
                f"http://[::1]:{listener.port}/", f"https://rebound.example.com:{listener.port}/",
                "https://10.0.0.5/", "https://169.254.169.254/latest/meta-data/"):
        queue(url)
    started = time.monotonic()
    assert webhooks.deliver_due(runtime, "w") == 6
    assert time.monotonic() - started < 5  # refused before any connection (10.0.0.5 would wait the timeout)
    assert [log.response_status for log in logs()] == [None] * 6
    assert {log.last_error for log in logs()} == {webhook_calls.NOT_PUBLIC}
    assert listener.accepted == 0


def test_the_delivery_log_says_no_socket_error(make_runtime, listener):
    runtime = make_runtime(**LOCAL_RECEIVERS)
    user, _token = issue_api_token(runtime, "owner@example.com")
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    for port in (closed_port, listener.port):  # refused; accepted then closed without an answer
        endpoint, _secret = webhooks.add_webhook(runtime, user.id, f"http://127.0.0.1:{port}/")
        webhooks.send_test_event(runtime, user.id, endpoint.id)
    assert webhooks.deliver_due(runtime, "w") == 2
    logs = webhooks.deliveries_of(runtime, user.id)
    assert [log.last_error for log in logs] == [webhooks.NO_CONNECTION] * 2
    assert webhooks.NO_CONNECTION == webhook_calls.NO_CONNECTION and webhooks.TIMED_OUT == webhook_calls.TIMED_OUT


# --- one endpoint cannot hold the sender ----------------------------------------------------------

@pytest.mark.parametrize("reply", [drip_body, drip_headers])
def test_a_slow_endpoint_times_out_and_the_next_endpoint_is_called_in_the_same_round(make_runtime, receiver, reply):
    runtime = make_runtime(PWPUSH_WEBHOOK_TIMEOUT_SECONDS="2", **LOCAL_RECEIVERS)
    attacker, _token = issue_api_token(runtime, "attacker@example.com")
    victim, _token = issue_api_token(runtime, "victim@example.com")
    stop = threading.Event()
    port, _seen = answering(reply, stop)
    slow, _secret = webhooks.add_webhook(runtime, attacker.id, f"http://127.0.0.1:{port}/")
    webhooks.send_test_event(runtime, attacker.id, slow.id)
    time.sleep(0.01)
    good, receiver.secret = webhooks.add_webhook(runtime, victim.id, receiver.url)
    webhooks.send_test_event(runtime, victim.id, good.id)
    try:
        started = time.monotonic()
        assert webhooks.deliver_due(runtime, "w") == 2
        assert time.monotonic() - started < 2 + 2.5  # the timeout, and the round's own work
    finally:
        stop.set()
    [slow_log] = webhooks.deliveries_of(runtime, attacker.id)
    assert (slow_log.status, slow_log.last_error) == ("pending", webhooks.TIMED_OUT)
    [good_log] = webhooks.deliveries_of(runtime, victim.id)
    assert (good_log.status, good_log.response_status) == ("delivered", 200)
    assert len(receiver.wait_for(1)) == 1


def test_a_huge_answer_is_not_read(make_runtime):
    runtime = make_runtime(**LOCAL_RECEIVERS)
    user, _token = issue_api_token(runtime, "owner@example.com")
    port, seen = answering(big_answer, threading.Event())
    endpoint, _secret = webhooks.add_webhook(runtime, user.id, f"http://127.0.0.1:{port}/")
    webhooks.send_test_event(runtime, user.id, endpoint.id)
    assert webhooks.deliver_due(runtime, "w") == 1
    [log] = webhooks.deliveries_of(runtime, user.id)
    assert (log.status, log.response_status) == ("delivered", 200)
    seen["thread"].join(10)
    assert seen == {"thread": seen["thread"], "finished": False, "done": True}  # closed before 64 MiB went


# --- test events -----------------------------------------------------------------------------------

def test_test_events_are_limited_per_account(make_runtime, receiver):
    runtime = make_runtime(**LOCAL_RECEIVERS)
    user, _token = issue_api_token(runtime, "owner@example.com")
    other, _token = issue_api_token(runtime, "other@example.com")
    endpoint, _secret = webhooks.add_webhook(runtime, user.id, receiver.url)
    for _ in range(webhooks.TEST_EVENTS_PER_MINUTE):
        webhooks.send_test_event(runtime, user.id, endpoint.id)
    with pytest.raises(WebhookError) as limited:
        webhooks.send_test_event(runtime, user.id, endpoint.id)
    assert f"At most {webhooks.TEST_EVENTS_PER_MINUTE} test events a minute" in str(limited.value)
    assert len(webhooks.deliveries_of(runtime, user.id)) == webhooks.TEST_EVENTS_PER_MINUTE
    other_endpoint, _secret = webhooks.add_webhook(runtime, other.id, receiver.url)
    webhooks.send_test_event(runtime, other.id, other_endpoint.id)  # another account has its own count


def test_https_connects_to_the_checked_address_but_names_and_verifies_the_host(tmp_path, monkeypatch):
    """The call goes to the address it checked, yet TLS is the endpoint's name's: SNI and Host
    name it and the certificate must be for it (one for another name that resolves to the same
    address is refused).  The suite's receivers are plain http; this is the https path."""
    import ssl
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from tests.mail_servers import make_certificate, server_tls_context

    cert, key = make_certificate(tmp_path, "hooks.example")
    names, hosts = [], []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("content-length", "0")))
            hosts.append(self.headers.get("host"))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tls = server_tls_context(cert, key)
    tls.sni_callback = lambda _sock, name, _ctx: names.append(name)
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    real_getaddrinfo = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: real_getaddrinfo(
        "127.0.0.1" if host in ("hooks.example", "other.example") else host, *a, **k))
    client_tls = ssl.create_default_context(cafile=str(cert))
    try:
        answer = webhook_calls.post(client_tls, f"https://hooks.example:{port}/in", b"{}",
                                    {"Content-Type": "application/json"}, 5, allow_private=True)
        assert answer.status == 204
        assert names == ["hooks.example"] and hosts == [f"hooks.example:{port}"]
        # The same address under a name the certificate is not for: no call.
        other = webhook_calls.post(client_tls, f"https://other.example:{port}/in", b"{}",
                                   {"Content-Type": "application/json"}, 5, allow_private=True)
        assert other.status is None and other.reason == webhook_calls.NO_CONNECTION
        assert hosts == [f"hooks.example:{port}"]
    finally:
        server.shutdown()
        server.server_close()
