"""One call of a webhook endpoint: to public addresses only, within one deadline, its answer unread.

- Any account names the endpoint, so a call must not be a way into this server's networks:
  the host is resolved at each call and every address it gives must be public (globally
  routable: not loopback, private, link-local, shared 100.64/10, multicast, reserved or
  unspecified, also when wrapped as IPv4-mapped, 6to4 or NAT64 IPv6); the connection then
  goes to the address that was checked, so a second DNS answer (rebinding) cannot swap it.
  TLS still checks the certificate against the endpoint's name, and Host names it.
  PWPUSH_WEBHOOK_ALLOW_PRIVATE lifts the rule (development, the tests' local receivers).
- The whole call (connect, TLS, send, answer) has PWPUSH_WEBHOOK_TIMEOUT_SECONDS: every
  socket wait gets what is left of it, and a watchdog shuts the socket at the deadline
  (a TLS handshake fed one byte at a time).  httpx's own timeout is per read: an endpoint
  sending a byte every few seconds held the sender, and everyone's webhooks, for ever.
- Only the status counts: at most ANSWER_BYTES of the body are read, then the connection
  is closed (a 256 MiB answer grew the worker by as much before).
- What the account's delivery log may say is one of a few fixed sentences: never a socket
  error's text (refused, reset, unreachable tell a port scanner what is behind the address).
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from dataclasses import dataclass, field

import httpcore

from pwpush_app.core.i18n import N_
from pwpush_app.core.webhook_addresses import NOT_PUBLIC, is_public, literal_address, obviously_not_public

# The delivery log's sentences for a call that got no HTTP status.
TIMED_OUT = N_("The endpoint did not answer in time.")
NO_CONNECTION = N_("Could not reach the endpoint: no connection, or no valid HTTP answer.")

ANSWER_BYTES = 4096


class AddressNotPublic(httpcore.ConnectError):
    """The endpoint's host is (or resolves to) an address webhooks may not call."""


def checked_addresses(host: str, port: int, allow_private: bool) -> list[str]:
    """The addresses to connect to for `host`, every one checked; AddressNotPublic if any is not public."""
    if not allow_private and obviously_not_public(host):
        raise AddressNotPublic(host)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise httpcore.ConnectError("no address") from None
    addresses = list(dict.fromkeys(str(literal_address(info[4][0])) for info in found))
    # One address that is not public refuses the name: a mixed answer is a name pointed inside.
    if not allow_private and not all(is_public(literal_address(a)) for a in addresses):
        raise AddressNotPublic(host)
    return addresses


@dataclass
class _Call:
    """One call's deadline and the sockets its watchdog shuts when it passes."""
    deadline: float
    sockets: list[socket.socket] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    over: bool = False

    def left(self, timeout: float | None, late: type[Exception]) -> float:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise late("the call's deadline passed")
        return remaining if timeout is None else min(timeout, remaining)

    def watch(self, stream: httpcore.NetworkStream) -> None:
        sock = stream.get_extra_info("socket")
        with self.lock:
            if sock is not None:
                self.sockets.append(sock)
            if self.over:
                self._shut()

    def end(self) -> None:
        with self.lock:
            self.over = True
            self._shut()

    def _shut(self) -> None:
        for sock in self.sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, call: _Call):
        self._inner, self._call = inner, call

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._call.left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._call.left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        tls = self._inner.start_tls(ssl_context, server_hostname, self._call.left(timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(tls, self._call)

    def get_extra_info(self, info: str):
        return self._inner.get_extra_info(info)


class _CheckedBackend(httpcore.NetworkBackend):
    """Connects to the checked address of the URL's host, within the call's deadline."""

    def __init__(self, call: _Call, allow_private: bool):
        self._call, self._allow_private = call, allow_private
        self._sockets = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options=None) -> httpcore.NetworkStream:
        failure: Exception = httpcore.ConnectError("no address")
        for address in checked_addresses(host, port, self._allow_private):
            try:
                stream = self._sockets.connect_tcp(address, port, self._call.left(timeout, httpcore.ConnectTimeout),
                                                   local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
                continue
            self._call.watch(stream)
            return _DeadlineStream(stream, self._call)
        raise failure

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options=None):
        raise httpcore.ConnectError("not a network address")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass(frozen=True)
class Answer:
    """An endpoint's HTTP status (None when it gave none) and why not, or its reason phrase."""
    status: int | None
    reason: str


def post(ssl_context: ssl.SSLContext, url: str, body: bytes, headers: dict[str, str], timeout: float,
         allow_private: bool) -> Answer:
    """POST `body` to `url` once, no redirect followed; at most `timeout` seconds for everything."""
    call = _Call(time.monotonic() + timeout)
    watchdog = threading.Timer(timeout, call.end)
    watchdog.daemon = True
    watchdog.start()
    pool = httpcore.ConnectionPool(ssl_context=ssl_context, max_connections=1, max_keepalive_connections=0,
                                   network_backend=_CheckedBackend(call, allow_private))
    try:
        with pool, pool.stream("POST", url, headers=list(headers.items()), content=body,
                               extensions={"timeout": {"connect": timeout, "read": timeout, "write": timeout,
                                                       "pool": timeout}}) as response:
            read = 0
            for chunk in response.iter_stream():
                read += len(chunk)
                if read >= ANSWER_BYTES:
                    break  # leaving the block closes the connection: the rest is never read
            reason = response.extensions.get("reason_phrase", b"")
            return Answer(response.status, reason.decode("ascii", "replace")[:100])
    except AddressNotPublic:
        return Answer(None, NOT_PUBLIC)
    except httpcore.TimeoutException:
        return Answer(None, TIMED_OUT)
    except (httpcore.ProtocolError, httpcore.NetworkError, httpcore.UnsupportedProtocol, OSError, ssl.SSLError):
        return Answer(None, TIMED_OUT if time.monotonic() >= call.deadline else NO_CONNECTION)
    finally:
        watchdog.cancel()
