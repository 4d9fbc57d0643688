"""Real servers on loopback for tests and benchmarks: ours (production mode), PostgreSQL, Redis.

Debian's packages (installed by `make test` through scripts/system-deps.sh). PostgreSQL
refuses to run as root, so as root the cluster belongs to the `postgres` system user.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from pwpush_app.master_key import generate_master_key_text

ROOT = Path(__file__).resolve().parents[1]


def make_env(data_dir: Path, **overrides: str) -> dict[str, str]:
    """Environment for a settings object or a server: its own data folder and key."""
    env = {
        "PWPUSH_DATA_DIR": str(data_dir),
        "PWPUSH_MASTER_KEY": generate_master_key_text(),
        # Rate limits get their own tests; elsewhere they would only add noise.
        "PWP__THROTTLING__MINUTE": "1000000",
    }
    env.update(overrides)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """The production server (`python -m pwpush_app serve`, as `make run`, the systemd unit
    and the container start it) on its own port and data folder.

    Every server runs from the project folder: its frontend build is found (or made, once)
    in .web/builds/ for its port and settings, so servers with different settings or ports
    live side by side and a restart serves the same build at once."""

    def __init__(self, data_dir: Path, port: int, extra_env: dict[str, str] | None = None,
                 backend_host: str | None = None):
        self.data_dir = data_dir
        self.port = port
        self.app_dir = ROOT
        # e.g. "127.0.0.1" behind a proxy, as deploy/pwpush.service runs it (default: all interfaces)
        self.backend_host = backend_host
        self.url = f"http://localhost:{port}"
        self.env = {
            **os.environ,
            # extra_env may move the public URL (a proxy in front): it wins over our own port.
            **make_env(data_dir, **{"PWP__OVERRIDE_BASE_URL": self.url, **(extra_env or {})}),
            # bun from the npm registry (make install puts it there), for a first build.
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
            "PYTHONUNBUFFERED": "1",
        }
        self.log_path = data_dir / "server.log"
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        return [sys.executable, "-m", "pwpush_app", "serve", "--port", str(self.port),
                *(["--host", self.backend_host] if self.backend_host else [])]

    def start(self, timeout: float = 300) -> None:
        """Start and wait until the pages and the API answer (the server migrates first)."""
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(self.command(), cwd=self.app_dir, env=self.env, stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_until_serving(timeout)

    def wait_until_serving(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_path.read_text()[-4000:]}")
            try:
                if httpx.get(f"{self.url}/ping", timeout=2).status_code == 200:
                    if httpx.get(self.url, timeout=5).status_code == 200:
                        return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not start in {timeout}s:\n{self.log_path.read_text()[-4000:]}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(40)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def generations(self) -> dict[int, list[int]]:
        """The app's serving processes under the keeper: each generation's pid and its
        workers' pids (a warm standby has no worker yet and is left out: standby())."""
        generations = {generation: children_of(generation) for generation in children_of(self.process.pid)}
        return {generation: workers for generation, workers in generations.items() if workers}

    def standby(self, timeout: float = 300, other_than: set[int] = frozenset()) -> int:
        """The pid of the keeper's warm standby generation (imported, waiting, no worker),
        once there is one that is not in `other_than`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            warm = {int(pid) for pid in re.findall(r"standby generation (\d+) warm", self.log_text())}
            for pid in set(children_of(self.process.pid)) & warm - set(other_than):
                if not children_of(pid):
                    return pid
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited:\n{self.log_text()[-4000:]}")
            time.sleep(0.1)
        raise RuntimeError(f"no warm standby after {timeout}s:\n{self.log_text()[-4000:]}")

    def reload(self, timeout: float = 300) -> None:
        """SIGHUP, then wait until the generation that served before is gone."""
        before = set(self.generations())
        os.kill(self.process.pid, signal.SIGHUP)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            now = set(self.generations())
            if now and not now & before:
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited during a reload:\n{self.log_text()[-4000:]}")
            time.sleep(0.1)
        raise RuntimeError(f"reload did not finish in {timeout}s:\n{self.log_text()[-4000:]}")


class SocketHolder:
    """What systemd does with deploy/pwpush.socket: it owns the listening sockets (the
    address twice, SO_REUSEPORT) and starts the service with them as file descriptors 3 and
    4 (LISTEN_FDS=2, LISTEN_PID=the service's pid: sd_listen_fds(3)); they stay open while
    the service restarts. `count=1` passes one socket, as a plainer socket unit would."""

    def __init__(self, server: LiveServer, count: int = 2):
        self.server = server
        self.sockets = []
        for _ in range(count):
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if count > 1:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(("127.0.0.1", server.port))
            sock.listen(1024)
            self.sockets.append(sock)

    def start_service(self) -> subprocess.Popen:
        fds = [sock.fileno() for sock in self.sockets]
        log = open(self.server.log_path, "ab")
        process = subprocess.Popen([sys.executable, "-c", _SOCKET_ACTIVATION, str(len(fds)), *map(str, fds),
                                    *self.server.command()],
                                   cwd=ROOT, env=self.server.env, pass_fds=fds, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        self.server.process = process
        return process

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()


# Moves the passed sockets to descriptors 3, 4 ... and execs the service with LISTEN_PID set
# to its own pid (exec keeps the pid), as systemd does.
_SOCKET_ACTIVATION = """
import fcntl, os, sys
count = int(sys.argv[1])
given = [int(a) for a in sys.argv[2:2 + count]]
high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 100) for fd in given]
for index, fd in enumerate(high):
    os.dup2(fd, 3 + index)
for fd in set(given + high) - set(range(3, 3 + count)):
    os.close(fd)
os.environ["LISTEN_PID"], os.environ["LISTEN_FDS"] = str(os.getpid()), str(count)
os.execv(sys.argv[2 + count], sys.argv[2 + count:])
"""


def children_of(pid: int) -> list[int]:
    """Live child processes of `pid` (from /proc)."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[1]) == pid:
            children.append(int(entry.name))
    return sorted(children)


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


class PostgresServer:
    def __init__(self):
        binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
        if not binaries:
            raise RuntimeError("PostgreSQL is not installed: run `make test` (it installs Debian's postgresql)")
        self.bin = Path(binaries[-1]).parent
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="pwpush-pg-"))
        self.process: subprocess.Popen | None = None

    def start(self) -> "PostgresServer":
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        data = self.dir / "data"
        subprocess.run(
            _as_postgres([str(self.bin / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]),
            check=True, capture_output=True,
        )
        return self._launch()

    def pause(self) -> None:
        """Stop the server, keeping its data (a fast shutdown: clients are cut off at once)."""
        subprocess.run(_as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "stop", "-m", "fast"]),
                       check=True, capture_output=True)
        self.process.wait(30)

    def resume(self) -> "PostgresServer":
        return self._launch()

    def _launch(self) -> "PostgresServer":
        data = self.dir / "data"
        self.process = subprocess.Popen(
            _as_postgres([
                str(self.bin / "postgres"), "-D", str(data), "-p", str(self.port), "-k", str(self.dir),
                "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300",
            ]),
            stdout=subprocess.DEVNULL, stderr=open(self.dir / "server.log", "wb") if os.geteuid() != 0 else subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ready = subprocess.run(
                [str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)], capture_output=True
            )
            if ready.returncode == 0:
                return self
            time.sleep(0.2)
        raise RuntimeError("PostgreSQL did not start in 30 s")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def sql(self, statement: str) -> None:
        subprocess.run(
            [str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-v", "ON_ERROR_STOP=1",
             "-qc", statement],
            check=True, capture_output=True,
        )

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)
        # A run leaves hundreds of databases here (a GB and more): deleting them takes a minute
        # and more on a disk mounted with discard, so a detached rm does it after the run.
        subprocess.Popen(["rm", "-rf", str(self.dir)], start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class RedisServer:
    def __init__(self):
        if not shutil.which("redis-server"):
            raise RuntimeError("Redis is not installed: run `make test` (it installs Debian's redis-server)")
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="pwpush-redis-"))
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("Redis did not start in 15 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(15)
        shutil.rmtree(self.dir, ignore_errors=True)


class S3Server:
    """moto's standalone S3-compatible server (`moto_server`, from moto[server]) on loopback.

    A real HTTP server speaking the S3 protocol, multipart uploads included; it keeps
    objects in memory. Any credentials are accepted: `env` gives boto3 some."""

    def __init__(self):
        binary = Path(sys.executable).parent / "moto_server"
        if not binary.exists():
            raise RuntimeError("moto_server is missing: `make install-test` installs moto[server]")
        self.binary = binary
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {"AWS_ACCESS_KEY_ID": "test-key", "AWS_SECRET_ACCESS_KEY": "test-secret",
                    "AWS_DEFAULT_REGION": "us-east-1"}
        self.process: subprocess.Popen | None = None

    def start(self) -> "S3Server":
        self.process = subprocess.Popen([str(self.binary), "-H", "127.0.0.1", "-p", str(self.port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("moto_server exited at start")
            try:
                httpx.get(self.url + "/moto-api/", timeout=1)
                return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("moto_server did not start in 30 s")

    def client(self):
        import boto3

        return boto3.session.Session(
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
            region_name=self.env["AWS_DEFAULT_REGION"],
        ).client("s3", endpoint_url=self.url)

    def new_bucket(self) -> str:
        name = f"pwpush-{os.urandom(5).hex()}"
        self.client().create_bucket(Bucket=name)
        return name

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()
