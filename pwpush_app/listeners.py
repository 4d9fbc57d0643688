"""The server's listening sockets: two on the same port, and the kernel told which one gets
new connections, so that a reload hands over without closing a connection it accepted.

A generation's workers accept on one socket. When a worker stops, the connections it has
accepted but not yet read a request from are closed (that is how Granian's graceful stop
treats an idle connection), and a client whose request was on its way gets no answer.
So a reload must not let the old generation accept anything shortly before it stops:

- the keeper holds two sockets bound to the same address (SO_REUSEPORT, one group);
- a one-instruction classic BPF program on the group (SO_ATTACH_REUSEPORT_CBPF, Linux 4.5)
  picks the socket for every new connection: the active generation's;
- a reload starts the new generation on the other socket and steers new connections to it
  once it is ready; the old generation accepts what was already queued on its socket
  while it drains, and stops only when that queue is empty.

The pair is the keeper's own, or the two that systemd passes (deploy/pwpush.socket lists
the address twice with ReusePort=true: systemd binds as root, and a socket of the service's
user could not join root's group). Given a single socket (LISTEN_FDS=1), the keeper uses it
alone: a reload then shares it between the two generations, and a fresh connection that
the old one accepts in its last milliseconds can be lost.
"""

from __future__ import annotations

import ctypes
import logging
import os
import socket
import struct
import time

log = logging.getLogger("pwpush.server")

SO_ATTACH_REUSEPORT_CBPF = 51  # <asm-generic/socket.h>
BPF_RET_K = 0x06  # BPF_RET | BPF_K: "return this constant"
SD_LISTEN_FDS_START = 3  # sd_listen_fds(3)
BACKLOG = 1024


class Listeners:
    """One or two listening sockets on the server's address; `active` takes new connections."""

    def __init__(self, sockets: list[socket.socket], held_by_systemd: bool = False):
        self.sockets = sockets
        # systemd's sockets outlive this process: connections made while it restarts wait.
        self.held_by_systemd = held_by_systemd
        for sock in sockets:
            sock.set_inheritable(True)
        self.active = 0
        self._group_index: list[int] = list(range(len(sockets)))
        if len(sockets) == 2:
            self._group_index = self._probe_group_order()
            self.steer_to(self._busier())

    @property
    def pair(self) -> bool:
        return len(self.sockets) == 2

    @property
    def standby(self) -> int:
        """The socket a new generation starts on during a reload."""
        return 1 - self.active if self.pair else self.active

    def address(self) -> tuple[str, int]:
        return self.sockets[0].getsockname()[:2]

    def fileno(self, index: int) -> int:
        return self.sockets[index].fileno()

    def steer_to(self, index: int) -> None:
        """Every new connection from now on goes to socket `index` (the kernel's choice for
        a connection already in its handshake stays)."""
        if self.pair:
            self._attach_program(self._group_index[index])
        self.active = index

    def queued(self, index: int) -> int:
        """Connections waiting in the socket's accept queue (TCP_INFO's tcpi_unacked)."""
        info = self.sockets[index].getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
        return struct.unpack_from("I", info, 24)[0]

    def wait_until_drained(self, index: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.queued(index):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def _probe_group_order(self) -> list[int]:
        """Which position in the kernel's group each socket holds (the BPF program returns
        a position): steer to position 0, connect, see whose queue grew. The probe's
        connection stays queued; a worker accepts it and sees it closed."""
        host, port = self.address()
        probe_host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
        for _ in range(20):
            self._attach_program(0)
            before = [self.queued(i) for i in range(2)]
            with socket.create_connection((probe_host, port), timeout=2):
                pass
            grew = [self.queued(i) > before[i] for i in range(2)]
            if grew.count(True) == 1:  # unambiguous (no client connected meanwhile)
                first = grew.index(True)
                return [0, 1] if first == 0 else [1, 0]
        raise OSError("could not tell the two listening sockets apart")

    def _attach_program(self, position: int) -> None:
        """`return position`, as the group's program (it serves every socket in the group)."""
        program = ctypes.create_string_buffer(struct.pack("HBBI", BPF_RET_K, 0, 0, position))  # sock_filter
        fprog = struct.pack("HP", 1, ctypes.addressof(program))  # struct sock_fprog {len, *filter}
        self.sockets[0].setsockopt(socket.SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, fprog)

    def _busier(self) -> int:
        """After a crash of the keeper, connections may wait on either socket: serve first
        the one with more of them."""
        return max(range(2), key=self.queued)


def systemd_sockets() -> list[socket.socket] | None:
    """The sockets systemd passed to this process (socket activation), or None."""
    if os.environ.get("LISTEN_PID") != str(os.getpid()):
        return None
    count = int(os.environ.get("LISTEN_FDS", "0"))
    for name in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):
        os.environ.pop(name, None)
    return [socket.socket(fileno=SD_LISTEN_FDS_START + n) for n in range(count)] or None


def own_sockets(host: str, port: int) -> list[socket.socket]:
    """Two sockets bound to host:port in one SO_REUSEPORT group. A port another server
    holds is refused first: SO_REUSEPORT alone would let ours share it silently."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as check:
        check.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        check.bind((host, port))  # fails with EADDRINUSE if anyone listens there
        port = check.getsockname()[1]
    sockets = []
    for _ in range(2):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
        sockets.append(sock)
    return sockets


def open_listeners(host: str, port: int) -> Listeners:
    passed = systemd_sockets()
    if passed:
        log.info("listening on the %d socket(s) systemd passed: %s", len(passed), passed[0].getsockname()[:2])
        if len(passed) == 1:
            log.warning("one listening socket: a reload shares it between the old and the new generation "
                        "(deploy/pwpush.socket passes two, so that a reload loses no connection)")
        return Listeners(passed[:2], held_by_systemd=True)
    return Listeners(own_sockets(host, port))
