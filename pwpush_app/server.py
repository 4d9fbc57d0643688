"""The production server, `python -m pwpush_app serve`: pages, websocket and API on one port,
started from a prebuilt frontend, reloaded and restarted without losing a connection.

Two layers:

- the **keeper** (this module) holds the listening sockets for the server's whole life
  (its own, or the ones systemd passes: deploy/pwpush.socket; pwpush_app/listeners.py) and
  runs one *generation* of the app at a time. It imports nothing of the app, so it binds
  the port within a few milliseconds of its start.
- a **generation** (pwpush_app/generation.py) is a fresh Python process: it migrates the
  database, finds (or makes) the frontend build for its sources and settings, imports the
  app once and runs Granian's workers, forked from it, on one of the keeper's sockets.

While no worker accepts, connections wait in the socket's queue (the kernel completes
their handshake); they are answered when a worker is ready, not refused. So:

- `SIGHUP` reloads without a gap: a new generation starts on the standby socket beside the
  old one (new code, a new build if the pages changed, settings read again from the
  environment and key files). Once every one of its workers is ready, new connections are
  steered to it; the old generation drains (DRAIN_S: its answers say `Connection: close`),
  accepts what was queued on its socket, then finishes its requests and exits. A new
  generation that fails to start is stopped and the old one keeps serving.
- a worker that dies is forked again by Granian from the loaded app (a fraction of a
  second; the other workers go on).
- a generation that dies is replaced by the **warm standby**: a second generation, started
  once the serving one is ready, that has imported the app and built it and then waits,
  without a worker, until told `serve`. It forks its workers on the dead generation's
  socket, whose queue kept the connections that arrived meanwhile (~0.3 s after a kill -9
  instead of a cold start of several seconds), and a new standby starts behind it. A
  reload replaces the standby (its code and settings would be stale); `--no-standby`
  saves its memory, and a crash then costs a cold start.
- `SIGTERM`: the generation finishes its requests and stops, then the keeper. With socket
  activation new connections are first steered to systemd's other socket, where they wait
  for the next start, and the generation drains (accepting what its own socket queued).
"""

from __future__ import annotations

import logging
import os
import select
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from pwpush_app.generation import DRAIN_SIGNAL, GRACEFUL_STOP_S, LISTEN_FD_ENV, READY_FD_ENV, STANDBY_FD_ENV
from pwpush_app.listeners import Listeners, open_listeners

log = logging.getLogger("pwpush.server")

GENERATION_READY_TIMEOUT_S = 600  # a first start may build the frontend (a minute on 2 cores)
# Before a reload or a stop ends the old generation, its answers carry `Connection: close`
# for this long: clients in a steady exchange move to new connections.
DRAIN_S = 2.0
# ... and the connections already queued on its socket are accepted; rarely needed longer.
QUEUE_DRAIN_TIMEOUT_S = 10.0
# A standby that dies before it serves is started again after this long, doubled at each
# failure in a row (a broken key file must not make the keeper start one per second).
STANDBY_RETRY_S = 5.0
STANDBY_RETRY_MAX_S = 300.0


@dataclass
class Generation:
    process: subprocess.Popen
    socket_index: int
    ready_pipe: int  # read end
    standby_pipe: int | None = None  # a warm standby's: write `serve` to make it serve
    warm: bool = False  # a standby that has imported the app and waits
    workers: int | None = None
    ready_pids: set[int] = field(default_factory=set)
    buffer: bytes = b""

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def ready(self) -> bool:
        return self.workers is not None and len(self.ready_pids) >= self.workers

    def read_reports(self) -> None:
        """Take what the generation and its workers wrote: `workers N`, `ready PID`."""
        try:
            chunk = os.read(self.ready_pipe, 4096)
        except BlockingIOError:
            return
        self.buffer += chunk
        *lines, self.buffer = self.buffer.split(b"\n")
        for line in lines:
            word, _, value = line.decode(errors="replace").partition(" ")
            if word == "standby":
                self.warm = True
            elif word == "workers":
                self.workers = int(value)
            elif word == "ready":
                self.ready_pids.add(int(value))

    def take_over(self) -> None:
        """Tell a standby to fork its workers (now, or as soon as it is warm)."""
        try:
            os.write(self.standby_pipe, b"serve\n")
        except OSError:
            pass  # it died meanwhile: the keeper sees it exit and starts a new generation
        os.close(self.standby_pipe)
        self.standby_pipe = None

    def close(self) -> None:
        os.close(self.ready_pipe)
        if self.standby_pipe is not None:
            os.close(self.standby_pipe)
            self.standby_pipe = None


class Keeper:
    def __init__(self, listeners: Listeners, standby: bool = True):
        self.listeners = listeners
        host, port = listeners.address()
        self.generation_args = ["--host", host, "--port", str(port)]
        self.current: Generation | None = None
        self.use_standby = standby
        self.standby: Generation | None = None  # warm, on the current generation's socket
        self._standby_failures = 0
        self._standby_not_before = 0.0
        self.signals: list[int] = []
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)

    def start_generation(self, socket_index: int, standby: bool = False) -> Generation:
        ready_r, ready_w = os.pipe()
        os.set_blocking(ready_r, False)
        listen_fd = self.listeners.fileno(socket_index)
        env = {**os.environ, LISTEN_FD_ENV: str(listen_fd), READY_FD_ENV: str(ready_w)}
        passed = [listen_fd, ready_w]
        if standby:
            control_r, control_w = os.pipe()
            env[STANDBY_FD_ENV] = str(control_r)
            passed.append(control_r)
        process = subprocess.Popen(
            [sys.executable, "-m", "pwpush_app.generation", *self.generation_args],
            env=env, pass_fds=passed,
        )
        os.close(ready_w)
        if standby:
            os.close(control_r)
            return Generation(process, socket_index, ready_r, standby_pipe=control_w)
        return Generation(process, socket_index, ready_r)

    def wait_until_ready(self, generation: Generation, timeout: float) -> bool:
        """True once every worker of the generation reported ready; False if it exited,
        took too long, or the keeper was told to stop."""
        deadline = time.monotonic() + timeout
        while not generation.ready:
            if generation.process.poll() is not None or time.monotonic() > deadline or self._stopping():
                return False
            self._wait([generation], 0.5)
        return True

    def _stopping(self) -> bool:
        return signal.SIGTERM in self.signals or signal.SIGINT in self.signals

    def _wait(self, generations: list[Generation], timeout: float) -> None:
        pipes = [g.ready_pipe for g in generations]
        readable, _, _ = select.select([*pipes, self._wake_r], [], [], max(timeout, 0))
        for generation in generations:
            if generation.ready_pipe in readable:
                generation.read_reports()
        if self._wake_r in readable:
            os.read(self._wake_r, 512)

    def drain(self, generation: Generation) -> None:
        """Tell the generation's workers to close each connection after its next answer,
        give the clients DRAIN_S to move over, and let the workers take what is queued on
        their socket (nothing new lands there once new connections are steered away)."""
        for pid in generation.ready_pids:
            try:
                os.kill(pid, DRAIN_SIGNAL)
            except ProcessLookupError:
                pass  # a worker that died and was replaced (its replacement reported too)
        deadline = time.monotonic() + DRAIN_S
        while time.monotonic() < deadline and generation.process.poll() is None:
            self._wait([generation, self.current], deadline - time.monotonic())
        if generation.socket_index != self.listeners.active:  # a reload with two sockets
            if not self.listeners.wait_until_drained(generation.socket_index, QUEUE_DRAIN_TIMEOUT_S):
                log.warning("connections still queued on the old generation's socket after %.0f s",
                            DRAIN_S + QUEUE_DRAIN_TIMEOUT_S)

    def stop(self, generation: Generation, graceful: bool = True) -> None:
        """Let the generation finish its requests and exit (Granian stops its workers,
        killing those still busy after GRACEFUL_STOP_S); kill it if it hangs."""
        if generation.process.poll() is None:
            generation.process.send_signal(signal.SIGTERM if graceful else signal.SIGKILL)
            try:
                generation.process.wait(GRACEFUL_STOP_S + 10)
            except subprocess.TimeoutExpired:
                log.warning("generation %s did not stop: killing it", generation.pid)
                generation.process.kill()
                generation.process.wait()
        generation.close()

    def _on_signal(self, signum, _frame) -> None:
        if signum != signal.SIGCHLD:  # a child exited: only wake up and look
            self.signals.append(signum)
        try:
            os.write(self._wake_w, b"!")
        except BlockingIOError:
            pass

    def run(self) -> int:
        for signum in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
            signal.signal(signum, self._on_signal)
        self.current = self.start_generation(self.listeners.active)
        if not self.wait_until_ready(self.current, GENERATION_READY_TIMEOUT_S):
            return self._give_up("the server did not start")
        _notify("READY=1")
        log.info("serving (generation %s)", self.current.pid)
        while True:
            self._tend_standby()
            self._wait([g for g in (self.current, self.standby) if g], 1.0)
            while self.signals:
                signum = self.signals.pop(0)
                if signum == signal.SIGHUP:
                    self.reload()
                else:
                    _notify("STOPPING=1")
                    log.info("stopping: finishing the requests in flight")
                    self._drop_standby()
                    if signum == signal.SIGTERM and self.listeners.held_by_systemd:
                        # Most likely a restart: clients move to new connections, which wait
                        # on systemd's other socket for the next start (it serves the busier
                        # one), so the stopping workers accept nothing they could drop.
                        self.listeners.steer_to(self.listeners.standby)
                        self.drain(self.current)
                    self.stop(self.current)
                    return 0
            if (self.current.process.poll() is not None and not self._replace_dead_generation()
                    and not self._stopping()):  # told to stop meanwhile: the signal is handled next
                return self._give_up("the restarted server did not start")

    def _replace_dead_generation(self) -> bool:
        """The serving generation died (a crash, kill -9, the OOM killer): the warm standby
        forks its workers on the same socket, whose queue kept the connections that arrived
        meanwhile; without one, a new generation starts cold. True once one serves."""
        died = time.monotonic()
        dead = self.current
        dead.close()
        standby, self.standby = self.standby, None
        if standby is not None and standby.process.poll() is None:
            log.error("the app's generation %s exited (%s): the standby generation %s takes over%s", dead.pid,
                      dead.process.returncode, standby.pid, "" if standby.warm else " (still starting)")
            standby.take_over()
            self.current = standby
            if self.wait_until_ready(standby, GENERATION_READY_TIMEOUT_S):
                log.info("generation %s serves, %.2f s after the crash", standby.pid, time.monotonic() - died)
                return True
            if self._stopping():
                return False
            log.error("the standby generation %s did not take over (%s): starting a new one", standby.pid,
                      standby.process.poll())
            self.stop(standby, graceful=False)
        else:
            if standby is not None:
                standby.close()
            log.error("the app's generation %s exited (%s): starting a new one", dead.pid, dead.process.returncode)
        self.current = self.start_generation(dead.socket_index)
        if not self.wait_until_ready(self.current, GENERATION_READY_TIMEOUT_S):
            return False
        log.info("generation %s serves, %.2f s after the crash", self.current.pid, time.monotonic() - died)
        return True

    def _tend_standby(self) -> None:
        """Keep a warm standby beside the serving generation (started after it is ready, so
        that it never slows a start down), and start it again if it dies."""
        if not self.use_standby or self._stopping():
            return
        standby = self.standby
        if standby is not None and standby.process.poll() is not None:
            log.warning("the standby generation %s exited (%s)", standby.pid, standby.process.returncode)
            standby.close()
            self.standby = None
            self._standby_failures += 1
            self._standby_not_before = time.monotonic() + min(
                STANDBY_RETRY_S * 2 ** (self._standby_failures - 1), STANDBY_RETRY_MAX_S)
        elif standby is not None and standby.warm:
            self._standby_failures = 0
        if self.standby is None and time.monotonic() >= self._standby_not_before:
            self.standby = self.start_generation(self.current.socket_index, standby=True)

    def _drop_standby(self) -> None:
        """Stop the standby: it serves nothing, and after a reload its code is stale."""
        if self.standby is not None:
            self.stop(self.standby)
            self.standby = None
        self._standby_failures = 0
        self._standby_not_before = 0.0

    def reload(self) -> None:
        _notify("RELOADING=1")
        self._drop_standby()  # the new code gets a standby of its own once it serves
        started = time.monotonic()
        log.info("reload: starting a new generation beside the running one")
        new = self.start_generation(self.listeners.standby)
        if self.wait_until_ready(new, GENERATION_READY_TIMEOUT_S):
            old, self.current = self.current, new
            self.listeners.steer_to(new.socket_index)
            log.info("reload: new generation %s ready after %.1f s; draining the old one", new.pid,
                     time.monotonic() - started)
            self.drain(old)
            self.stop(old)
        else:
            if new.process.poll() is not None:
                log.error("reload failed: the new generation exited (%s); the running one keeps serving",
                          new.process.returncode)
            elif not self._stopping():
                log.error("reload failed: the new generation was not ready in time; the running one keeps serving")
            self.stop(new, graceful=False)
        _notify("READY=1")

    def _give_up(self, why: str) -> int:
        self._drop_standby()
        code = self.current.process.poll()
        if code is None:
            self.stop(self.current)
        log.error("%s (exit status %s)", why, code)
        return code or 1


def _notify(message: str) -> None:
    """Tell systemd (Type=notify) our state: sd_notify(3)'s datagram to $NOTIFY_SOCKET."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        if message == "READY=1" or message.startswith("RELOADING"):
            message += f"\nMAINPID={os.getpid()}"
        notify.sendto(message.encode(), address)


def serve(host: str, port: int, standby: bool = True) -> int:
    """Run the keeper until SIGTERM/SIGINT; the exit status."""
    logging.basicConfig(level=logging.INFO, format="[%(levelname)s] %(name)s: %(message)s")
    root = Path.cwd()
    if not (root / "rxconfig.py").is_file():
        print(f"No rxconfig.py in {root}: run the server from the app's folder.", file=sys.stderr)
        return 2
    try:
        listeners = open_listeners(host, port)
    except OSError as error:
        print(f"Cannot listen on {host}:{port}: {error}", file=sys.stderr)
        return 2
    return Keeper(listeners, standby=standby).run()
