"""A generation of the app: one process that imports it and runs Granian's workers, forked
from it, on a socket the keeper (pwpush_app/server.py) hands over.

Its start, in order: the settings (a bad one stops it with a message), the database
migrations (Alembic, unless the database is known to be current: core/schema_version.py),
the frontend build for these sources and settings (found, or made: pwpush_app/frontend.py),
the app imported and its ASGI callable built, then the workers forked. That is what
`reflex run --env prod` does, minus the compile and the JS build: Reflex's own switches
(REFLEX_SKIP_COMPILE, the compiled frontend mounted in the backend, REFLEX_WEB_WORKDIR
pointing at the build) and its preload-and-fork of the app. The generation reports to the
keeper through READY_FD_ENV: `workers N`, then `ready PID` from each worker once its
lifespan has started (it accepts right after).

A warm standby (STANDBY_FD_ENV set) stops short of forking its workers: it reports
`standby` and waits on the keeper's pipe; `serve` (the serving generation died) lets it go
on, and its workers accept on the dead generation's socket.

A worker told to drain (DRAIN_SIGNAL, from the keeper before a reload stops it) answers
every request with `Connection: close`: a kept-alive client then opens a new connection,
which goes to the new generation, instead of sending its next request on a connection that
is about to close (HTTP/1.1's keep-alive race).
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import socket
import sys
import time

log = logging.getLogger("pwpush.server")

LISTEN_FD_ENV = "PWPUSH_LISTEN_FD"  # the socket to accept on
READY_FD_ENV = "PWPUSH_READY_FD"  # where the generation reports its workers' readiness
# Set for a warm standby: the pipe on which the keeper says `serve` (pwpush_app/server.py).
STANDBY_FD_ENV = "PWPUSH_STANDBY_FD"
DRAIN_SIGNAL = signal.SIGUSR1
# A stopping generation's workers finish their requests; then they are killed. Open
# websockets are closed at once (the pages reconnect to the new generation).
GRACEFUL_STOP_S = 20
PR_SET_PDEATHSIG = 1
# A database that starts beside the app (compose, a reboot) gets this long to answer.
DATABASE_WAIT_S = 60


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
    write_bytecode(os.path.dirname(os.path.abspath(__file__)), os.path.join(os.getcwd(), "rxconfig.py"))

    from reflex_base import constants
    from reflex_base.environment import environment

    from pwpush_app.frontend import (
        FrontendBuildError,
        app_root,
        build_frontend,
        mark_in_use,
        served_copy,
        use_local_bun,
    )
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
    # The schema first; on a reload while the old generation still serves: migrations only
    # add (tables, columns, indexes).
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    failed = _migrate(settings.db_url)
    if failed:
        return failed
    phases.done("migrations")
    try:
        use_local_bun(app_root())  # in case the build must be made
        build = build_frontend(settings, log=log.info)
        mark_in_use(build)
        build = served_copy(build)
    except FrontendBuildError as error:
        print(error, file=sys.stderr)
        return 2
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
    forkable = _import_app_for_fork()
    phases.done("app imported")
    if forkable:
        _prebuilt_app = prerequisites.get_app().app()
        _warm_up(_prebuilt_app, host, port)
        phases.done("app built")
    gc.enable()
    gc.freeze()
    standby_fd = os.environ.pop(STANDBY_FD_ENV, None)
    if standby_fd is not None:
        log.info("standby generation %s warm, waiting to serve: %s", os.getpid(), phases)
        if not _wait_for_turn(int(standby_fd), ready_fd):
            return 0  # the keeper replaced or stopped the standby before it served
        log.info("standby generation %s takes over", os.getpid())
    else:
        log.info("generation %s ready to fork its workers: %s", os.getpid(), phases)
    if not forkable:  # a telemetry thread was still running: fork is unsafe
        multiprocessing.set_start_method("spawn", force=True)
    os.write(ready_fd, f"workers {workers}\n".encode())

    server = _SharedSocketGranian(
        listen_fd,
        target="pwpush_app.generation:worker_app",
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


def _import_app_for_fork() -> bool:
    """Reflex's preload for forked workers (`reflex.utils.exec._preload_for_fork`: the app
    imported, the serializers' lazy imports done, the telemetry thread stopped) without the
    full collection it runs before freezing the heap: after an import with the collector
    off, that pass walks ~190,000 objects to free ~400 (0.13-0.15 s of every start, here).
    The heap is frozen once the app is built (run_generation). False when a telemetry
    thread is still alive: forking is then unsafe."""
    from reflex.utils import prerequisites, telemetry
    from reflex_base.utils import serializers

    prerequisites.get_app()
    serializers._prepare_serializers_for_fork()
    return telemetry._shutdown_executor()


def _warm_up(asgi, host: str, port: int) -> None:
    """One `GET /ping` through the app before its workers are forked: what a first request
    imports and builds (anyio's backend, the middleware stack: ~50 ms, several times that
    on a busy machine) is then done once and inherited, instead of delaying the first answer
    of every new worker, a standby's taking over included. /ping touches neither the
    database nor a thread (none is left running: the fork stays safe)."""
    import asyncio

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": "/ping", "raw_path": b"/ping", "query_string": b"", "root_path": "",
             "headers": [(b"host", f"localhost:{port}".encode())], "client": ("127.0.0.1", 0), "server": (host, port)}

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_message):
        pass

    try:
        asyncio.run(asyncio.wait_for(asgi(scope, receive, send), 10))
    except Exception as error:  # noqa: BLE001  (only a head start: each worker would do it itself)
        log.warning("the app's warm-up request failed (%s): its workers' first requests do the same", error)


def write_bytecode(package_dir: str, *files: str) -> None:
    """The app's bytecode (a package's folder and single files), written where Python would
    write it at a first import unless told not to (PYTHONDONTWRITEBYTECODE, set on many
    machines and images): importing ~150 modules from source instead costs ~0.3 s of every
    start. Only what changed is compiled (checking the rest takes ~8 ms); a folder that
    can't be written is left as it is, and a file that doesn't compile is left to the import
    to report."""
    import compileall

    compileall.compile_dir(package_dir, quiet=2)
    for file in files:
        compileall.compile_file(file, quiet=2)


def _migrate(db_url: str) -> int | None:
    """Bring the schema to the newest revision (Alembic), unless it is known to be there
    already (core/schema_version.py, a few milliseconds instead of Alembic's ~0.4 s); the
    exit status if that fails."""
    from pwpush_app.core.schema_version import is_current

    if is_current(db_url):
        return None
    from sqlalchemy.exc import OperationalError, SQLAlchemyError

    from pwpush_app.core.db import migrate

    waited_since = time.monotonic()
    while True:
        try:
            migrate(db_url)
            return None
        except OperationalError as error:  # not reachable (yet): a database starting beside us
            if db_url.startswith("sqlite") or time.monotonic() - waited_since > DATABASE_WAIT_S:
                print(f"The database is unavailable: {error}", file=sys.stderr)
                return 3
            log.warning("the database is not reachable yet; retrying (%s)", str(error).splitlines()[0])
            time.sleep(1)
        except SQLAlchemyError as error:
            print(f"The database cannot be migrated: {error}", file=sys.stderr)
            return 3


def _wait_for_turn(standby_fd: int, ready_fd: int) -> bool:
    """A warm standby: everything is imported and built, no worker forked. Tell the keeper,
    then wait for its `serve` (the serving generation died): True; False if the keeper
    closed the pipe instead. Forking the workers is all that is left (a fraction of a
    second), and they accept on the socket the dead generation left, queue included."""
    os.write(ready_fd, b"standby\n")
    with os.fdopen(standby_fd, "rb", buffering=0) as control:
        return control.readline().strip() == b"serve"


class _Phases:
    """Seconds spent in each step of a generation's start, for its log line, and the CPU
    time of the whole start (its Python's own start included): on a machine shared with
    other work the wall-clock phases stretch, the CPU time says what a quiet one takes."""

    def __init__(self):
        self.last = time.monotonic()
        self.steps: list[str] = []

    def done(self, step: str) -> None:
        now = time.monotonic()
        self.steps.append(f"{step} {now - self.last:.2f} s")
        self.last = now

    def __str__(self) -> str:
        return ", ".join([*self.steps, f"cpu {time.process_time():.2f} s"])


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
    from pwpush_app.generation import run_generation as run

    sys.exit(run(arguments.host, arguments.port))
