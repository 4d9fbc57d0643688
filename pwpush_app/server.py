"""The production server, `python -m pwpush_app serve`: one port for pages, websocket and API,
started from a prebuilt frontend, restarted without refusing a connection.

Two layers, so that neither a reload nor a crash refuses a connection:

- the **keeper** (`serve`) holds the listening socket for the server's whole life (its own,
  or the one systemd hands over with socket activation: `deploy/pwpush.socket`) and runs
  one *generation* of the app at a time. It imports nothing of the app, so it binds the
  port within a few milliseconds of its start.
- a **generation** (`run_generation`) is a fresh Python process: it applies the database
  migrations, finds the frontend build for its sources and settings (and builds it if
  there is none: pwpush_app/frontend.py), imports the app once, and runs Granian's workers, forked from it, on the keeper's socket
  (the app, its lifespan tasks and its workers exactly as `reflex run --env prod` runs
  them, minus the compile and the frontend build).

While no worker accepts, connections wait in the socket's queue (the kernel completes
their handshake); they are answered when a worker is ready, never refused. So:

- `SIGHUP` reloads without a gap: a new generation starts beside the old one (new code, a
  new build if the pages changed, settings read again from the environment and key
  files); once every one of its workers is ready, the old one drains (DRAIN_S: each of
  its keep-alive connections is closed after its next answer, so no client sends a
  request on a connection that is about to close), then stops accepting, finishes its
  requests and exits. A new generation that fails to start is stopped and the old one
  keeps serving.
- a worker that dies is forked again by Granian from the loaded app (a fraction of a
  second; the other workers go on); a generation that dies is started again at once.
- `SIGTERM`: the generation drains (DRAIN_S), finishes its requests and stops, then the
  keeper; with socket activation the connections made meanwhile wait for the next start.
  `SIGINT` (Ctrl-C) skips the drain.
"""

from __future__ import annotations

import gc
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

log = logging.getLogger("pwpush.server")

# Environment of a generation and its workers.
LISTEN_FD_ENV = "PWPUSH_LISTEN_FD"  # the keeper's socket
READY_FD_ENV = "PWPUSH_READY_FD"  # where a generation reports its workers' readiness
GENERATION_READY_TIMEOUT_S = 600  # a first start may build the frontend (a minute on 2 cores)
# A stopping generation's workers finish their requests; then they are killed. Open
# websockets are closed at once (the pages reconnect to the new generation).
GRACEFUL_STOP_S = 20
# Before a reload stops the old generation, its answers carry `Connection: close` for this
# long: clients in a steady exchange move to new connections (a connection closed while
# idle can meet a request already on its way: HTTP/1.1's keep-alive race).
DRAIN_S = 2.0
DRAIN_SIGNAL = signal.SIGUSR1
PR_SET_PDEATHSIG = 1


# --- the keeper ----------------------------------------------------------------------------

@dataclass
class Generation:
    process: subprocess.Popen
    ready_pipe: int  # read end
    started: float = field(default_factory=time.monotonic)
    workers: int | None = None
    ready_pids: set[int] = field(default_factory=set)
    buffer: bytes = b""

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
            if word == "workers":
                self.workers = int(value)
            elif word == "ready":
                self.ready_pids.add(int(value))

    def close(self) -> None:
        os.close(self.ready_pipe)


class Keeper:
    def __init__(self, listener: socket.socket, generation_args: list[str]):
        self.listener = listener
        self.generation_args = generation_args
        self.current: Generation | None = None
        self.signals: list[int] = []
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)

    def start_generation(self) -> Generation:
        ready_r, ready_w = os.pipe()
        os.set_blocking(ready_r, False)
        env = {**os.environ, LISTEN_FD_ENV: str(self.listener.fileno()), READY_FD_ENV: str(ready_w)}
        process = subprocess.Popen(
            [sys.executable, "-m", "pwpush_app.server", *self.generation_args],
            env=env, pass_fds=(self.listener.fileno(), ready_w),
        )
        os.close(ready_w)
        return Generation(process, ready_r)

    def wait_until_ready(self, generation: Generation, timeout: float) -> bool:
        """True once every worker of the generation reported ready; False if it exited
        (or took too long, or the keeper was told to stop)."""
        deadline = time.monotonic() + timeout
        while not generation.ready:
            if generation.process.poll() is not None or time.monotonic() > deadline:
                return False
            if self._stopping():
                return False
            self._wait([generation], 0.5)
        return True

    def _stopping(self) -> bool:
        return signal.SIGTERM in self.signals or signal.SIGINT in self.signals

    def _wait(self, generations: list[Generation], timeout: float) -> None:
        pipes = [g.ready_pipe for g in generations]
        readable, _, _ = select.select([*pipes, self._wake_r], [], [], timeout)
        for generation in generations:
            if generation.ready_pipe in readable:
                generation.read_reports()
        if self._wake_r in readable:
            os.read(self._wake_r, 512)

    def stop(self, generation: Generation, graceful: bool = True) -> None:
        """Let the generation finish its requests and exit (Granian stops its workers,
        killing those still busy after GRACEFUL_STOP_S); kill it if it hangs."""
        if generation.process.poll() is None:
            generation.process.send_signal(signal.SIGTERM if graceful else signal.SIGKILL)
            try:
                generation.process.wait(GRACEFUL_STOP_S + 10)
            except subprocess.TimeoutExpired:
                log.warning("generation %s did not stop: killing it", generation.process.pid)
                generation.process.kill()
                generation.process.wait()
        generation.close()

    def drain(self, generation: Generation) -> None:
        """Tell the generation's workers to close each connection after its next answer,
        and give the clients DRAIN_S to move over (new connections go to any worker)."""
        for pid in generation.ready_pids:
            try:
                os.kill(pid, DRAIN_SIGNAL)
            except ProcessLookupError:
                pass  # a worker that died and was replaced (its replacement reported too)
        deadline = time.monotonic() + DRAIN_S
        while time.monotonic() < deadline and generation.process.poll() is None:
            self._wait([generation, self.current], deadline - time.monotonic())

    def _on_signal(self, signum, _frame) -> None:
        self.signals.append(signum)
        try:
            os.write(self._wake_w, b"!")
        except BlockingIOError:
            pass

    def run(self) -> int:
        for signum in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)
        self.current = self.start_generation()
        if not self.wait_until_ready(self.current, GENERATION_READY_TIMEOUT_S):
            return self._give_up("the server did not start")
        _notify("READY=1")
        log.info("serving (generation %s)", self.current.process.pid)
        while True:
            self._wait([self.current], 1.0)
            while self.signals:
                signum = self.signals.pop(0)
                if signum == signal.SIGHUP:
                    self.reload()
                else:
                    _notify("STOPPING=1")
                    log.info("stopping: finishing the requests in flight")
                    if signum == signal.SIGTERM:
                        # A service manager's stop, often a restart: clients move to new
                        # connections, which wait on the socket (systemd's outlives us).
                        self.drain(self.current)
                    self.stop(self.current)
                    return 0
            if self.current.process.poll() is not None:
                code = self.current.process.returncode
                log.error("the app's generation %s exited (%s): starting a new one", self.current.process.pid, code)
                self.current.close()
                self.current = self.start_generation()
                if not self.wait_until_ready(self.current, GENERATION_READY_TIMEOUT_S):
                    return self._give_up("the restarted server did not start")

    def reload(self) -> None:
        _notify("RELOADING=1")
        started = time.monotonic()
        log.info("reload: starting a new generation beside the running one")
        new = self.start_generation()
        if self.wait_until_ready(new, GENERATION_READY_TIMEOUT_S):
            old, self.current = self.current, new
            log.info("reload: new generation %s ready after %.1f s; draining the old one", new.process.pid,
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
        generation = self.current
        code = generation.process.poll()
        if code is None:
            self.stop(generation)
        log.error("%s (exit status %s)", why, code)
        return code or 1


def listening_socket(host: str, port: int) -> socket.socket:
    """The socket systemd passes (socket activation: LISTEN_FDS, see sd_listen_fds(3)), or
    our own. Without SO_REUSEPORT: a second server on the same port fails to start instead
    of silently sharing it."""
    if os.environ.get("LISTEN_PID") == str(os.getpid()) and int(os.environ.get("LISTEN_FDS", "0")) >= 1:
        for name in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):
            os.environ.pop(name, None)
        listener = socket.socket(fileno=3)
        log.info("listening on the socket systemd passed: %s", listener.getsockname())
    else:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listener = socket.create_server((host, port), family=family, backlog=1024)
    listener.set_inheritable(True)
    return listener


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


def serve(host: str, port: int) -> int:
    """Run the keeper until SIGTERM/SIGINT; the exit status."""
    logging.basicConfig(level=logging.INFO, format="[%(levelname)s] %(name)s: %(message)s")
    root = Path.cwd()
    if not (root / "rxconfig.py").is_file():
        print(f"No rxconfig.py in {root}: run the server from the app's folder.", file=sys.stderr)
        return 2
    # bun from the npm registry (make install puts it in .tools): a generation may build.
    bun_bin = root / ".tools" / "node_modules" / ".bin"
    if (bun_bin / "bun").exists():
        os.environ["PATH"] = f"{bun_bin}{os.pathsep}{os.environ.get('PATH', '')}"
        os.environ.setdefault("REFLEX_USE_SYSTEM_BUN", "1")
    try:
        listener = listening_socket(host, port)
    except OSError as error:
        print(f"Cannot listen on {host}:{port}: {error}", file=sys.stderr)
        return 2
    # The pages embed the port (pwpush_app/frontend.py): the socket's own, systemd's included.
    bound_host, bound_port = listener.getsockname()[:2]
    return Keeper(listener, ["--host", bound_host, "--port", str(bound_port)]).run()


# --- a generation --------------------------------------------------------------------------

def run_generation(host: str, port: int) -> int:
    """Find or build the frontend, import the app once, run Granian's workers on the
    keeper's socket. Returns when Granian stops (SIGTERM from the keeper)."""
    logging.basicConfig(level=logging.INFO, format="[%(levelname)s] %(name)s: %(message)s")
    _die_with_parent(signal.SIGTERM)
    listen_fd = int(os.environ.pop(LISTEN_FD_ENV))
    ready_fd = int(os.environ[READY_FD_ENV])
    # Everything below imports the app's world once: the collector is off meanwhile (~10 %
    # of the import time), and the heap is frozen before the workers are forked.
    gc.disable()
    phases = _Phases()

    from reflex_base import constants
    from reflex_base.environment import environment

    from pwpush_app.frontend import FrontendBuildError, build_frontend, mark_in_use
    from pwpush_app.settings import SettingsError, get_settings

    # What `reflex run --env prod` sets before it builds and starts the backend.
    environment.REFLEX_ENV_MODE.set(constants.Env.PROD)
    for name in ("REFLEX_FRONTEND_PORT", "REFLEX_BACKEND_PORT"):
        os.environ[name] = str(port)
    try:
        settings = get_settings()
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    phases.done("settings")
    # The schema first (Alembic, a no-op when it is current); on a reload while the old
    # generation still serves: migrations only add (tables, columns, indexes).
    from sqlalchemy.exc import SQLAlchemyError

    from pwpush_app.core.db import migrate

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        migrate(settings.db_url)
    except SQLAlchemyError as error:
        print(f"The database is unavailable or cannot be migrated: {error}", file=sys.stderr)
        return 3
    phases.done("migrations")
    try:
        build = build_frontend(settings, log=log.info)
    except FrontendBuildError as error:
        print(error, file=sys.stderr)
        return 2
    mark_in_use(build)
    phases.done("frontend build")
    # Serve that build: Reflex reads its web folder from REFLEX_WEB_WORKDIR; the workers
    # evaluate the pages' states without writing them (the build holds their markers).
    os.environ["REFLEX_WEB_WORKDIR"] = str(build)
    environment.REFLEX_SKIP_COMPILE.set(True)
    environment.REFLEX_MOUNT_FRONTEND_COMPILED_APP.set(True)

    import multiprocessing

    from granian.constants import Interfaces
    from granian.log import LogLevels
    from reflex.utils import exec as reflex_exec
    from reflex.utils import prerequisites, processes

    global _prebuilt_app
    workers = int(os.environ.get("GRANIAN_WORKERS") or processes.get_num_workers())
    # Import the app once and build its ASGI callable (App.__call__ evaluates the pages'
    # states; the compile is skipped) before the workers are forked from this process, as
    # Reflex's gunicorn server does (`--preload` with the app factory); each worker's
    # lifespan then opens its own connections. The frozen heap stays shared with them.
    multiprocessing.set_start_method("fork", force=True)
    forkable = reflex_exec._preload_for_fork(None)
    phases.done("app imported")
    if forkable:
        _prebuilt_app = prerequisites.get_app().app()
        phases.done("app built")
    gc.enable()
    gc.freeze()
    log.info("generation %s ready to fork its workers: %s", os.getpid(), phases)
    if not forkable:  # a telemetry thread was still running: fork is unsafe
        multiprocessing.set_start_method("spawn", force=True)
    os.write(ready_fd, f"workers {workers}\n".encode())

    server = _SharedSocketGranian(
        listen_fd,
        target="pwpush_app.server:worker_app",
        address=host,  # for Granian's log line: the socket is the keeper's
        port=port,
        factory=True,
        interface=Interfaces.ASGI,
        workers=workers,
        log_level=LogLevels(os.environ.get("GRANIAN_LOG_LEVEL", "info")),
        log_dictconfig=reflex_exec._granian_log_dictconfig(),
        respawn_failed_workers=True,
        workers_kill_timeout=GRACEFUL_STOP_S,
    )
    server.serve()
    return 0


class _Phases:
    """Seconds spent in each step of a generation's start, for its log line."""

    def __init__(self):
        self.last = time.monotonic()
        self.steps: list[str] = []

    def done(self, step: str) -> None:
        now = time.monotonic()
        self.steps.append(f"{step} {now - self.last:.2f} s")
        self.last = now

    def __str__(self) -> str:
        return ", ".join(self.steps)


_draining = False
_prebuilt_app = None  # the generation's ASGI callable, built before its workers are forked


def worker_app():
    """Granian's factory, in each worker: the app's ASGI callable, reporting readiness once
    its lifespan has started (the worker accepts right after), and closing each connection
    after its answer once the keeper says the worker drains."""
    _die_with_parent(signal.SIGKILL)  # a worker must not outlive its generation
    asgi = _prebuilt_app
    if asgi is None:  # a spawned worker: nothing was inherited
        from reflex.utils import prerequisites

        asgi = prerequisites.get_app().app()
    ready_fd = int(os.environ[READY_FD_ENV])
    signal.signal(DRAIN_SIGNAL, _start_draining)

    async def app(scope, receive, send):
        if scope["type"] == "http" and _draining:
            return await asgi(scope, receive, _closing_connection(send))
        if scope["type"] != "lifespan":
            return await asgi(scope, receive, send)

        async def send_and_report(message):
            await send(message)
            if message["type"] == "lifespan.startup.complete":
                try:
                    os.write(ready_fd, f"ready {os.getpid()}\n".encode())
                except OSError:
                    pass  # the keeper stopped listening (it no longer waits for this generation)

        return await asgi(scope, receive, send_and_report)

    return app


def _start_draining(_signum, _frame) -> None:
    global _draining
    _draining = True


def _closing_connection(send):
    async def send_with_close(message):
        if message["type"] == "http.response.start":
            headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != b"connection"]
            message = {**message, "headers": [*headers, (b"connection", b"close")]}
        await send(message)
    return send_with_close


def _die_with_parent(signum: int) -> None:
    """Ask Linux to send `signum` when the parent process dies (prctl PR_SET_PDEATHSIG):
    no generation outlives its keeper, no worker its generation."""
    import ctypes

    parent = os.getppid()
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os.kill(os.getpid(), signum)


def _shared_socket_server_class():
    from granian._granian import SocketHolder
    from granian.server.mp import MPServer

    class SharedSocketGranian(MPServer):
        """Granian's process server whose workers all accept on one socket handed in (the
        keeper's) instead of each binding its own with SO_REUSEPORT: connections queued on
        it outlive a worker and a generation. Granian 2.8 keeps the socket this way on
        platforms without SO_REUSEPORT; this sets the same fields from the given socket."""

        def __init__(self, listen_fd: int, **kwargs):
            super().__init__(**kwargs)
            self._listen_fd = listen_fd

        def _init_shared_socket(self):
            self._ssp = None
            self._sso = socket.socket(fileno=self._listen_fd)
            self._sso.set_inheritable(True)
            self._sfd = self._sso.fileno()
            self._shd = SocketHolder(self._sfd, False, self.backlog)

    return SharedSocketGranian


def _SharedSocketGranian(listen_fd: int, **kwargs):
    return _shared_socket_server_class()(listen_fd, **kwargs)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="one generation of the app (started by `python -m pwpush_app serve`)")
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    arguments = parser.parse_args()
    # Run from the module proper, not __main__: Granian's workers load this module by name
    # and must find what the generation prepared in it.
    from pwpush_app.server import run_generation as run

    sys.exit(run(arguments.host, arguments.port))
