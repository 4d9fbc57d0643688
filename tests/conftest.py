"""Shared fixtures: a real migrated SQLite database per test, and the production server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from pwpush_app.core.crypto import generate_master_key_text
from pwpush_app.core.db import migrate
from pwpush_app.core.vault import open_vault
from pwpush_app.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"


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


ENGINES = [e for e in os.environ.get("PWPUSH_TEST_ENGINES", "sqlite,postgresql").split(",") if e]


def pytest_generate_tests(metafunc):
    """Core and API tests run on every engine: SQLite, and a real PostgreSQL server."""
    if "db_engine" in metafunc.fixturenames:
        sqlite_only = metafunc.definition.get_closest_marker("sqlite_only")
        metafunc.parametrize("db_engine", ["sqlite"] if sqlite_only else ENGINES)


@pytest.fixture(scope="session")
def postgres():
    from tests.servers import PostgresServer

    server = PostgresServer().start()
    server.sql("CREATE DATABASE pwpush_template")
    migrate(server.url("pwpush_template"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server():
    from tests.servers import RedisServer

    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def db_url(db_engine, tmp_path, request):
    """A fresh, migrated database on the engine under test."""
    if db_engine == "sqlite":
        url = f"sqlite:///{tmp_path / 'data' / 'pwpush.db'}"
        (tmp_path / "data").mkdir(parents=True, exist_ok=True)
        migrate(url)
        return url
    server = request.getfixturevalue("postgres")
    name = f"t_{os.urandom(6).hex()}"
    server.sql(f"CREATE DATABASE {name} TEMPLATE pwpush_template")
    return server.url(name)


@pytest.fixture
def make_vault(tmp_path, db_url):
    """Build a vault on the fresh database; pass settings as environment names."""
    vaults = []

    def build(**overrides: str):
        env = make_env(tmp_path / "data", REFLEX_DB_URL=db_url, **overrides)
        settings = load_settings(env)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        vault = open_vault(settings)
        vaults.append(vault)
        return vault

    yield build
    for vault in vaults:
        vault.engine.dispose()


@pytest.fixture
def vault(make_vault):
    return make_vault()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """`reflex run --env prod` on its own port and data folder, as a user runs it."""

    def __init__(self, data_dir: Path, port: int, extra_env: dict[str, str] | None = None):
        self.data_dir = data_dir
        self.port = port
        self.url = f"http://localhost:{port}"
        self.env = {
            **os.environ,
            **make_env(data_dir, PWP__OVERRIDE_BASE_URL=self.url, **(extra_env or {})),
            "REFLEX_USE_SYSTEM_BUN": "1",
            # bun from the npm registry (make install puts it there), as `make run` uses it.
            "PATH": os.pathsep.join([str(ROOT / ".tools/node_modules/.bin"), str(Path(sys.executable).parent), os.environ["PATH"]]),
            "PYTHONUNBUFFERED": "1",
        }
        self.log_path = data_dir / "server.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 300) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pwpush_app", "migrate"], cwd=ROOT, env=self.env, check=True, capture_output=True
        )
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "reflex"), "run", "--env", "prod",
                "--frontend-port", str(self.port), "--backend-port", str(self.port),
            ],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
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
            time.sleep(0.5)
        raise RuntimeError(f"server did not start in {timeout}s:\n{self.log_path.read_text()[-4000:]}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """One production server for the whole session (building the frontend takes a while)."""
    server = LiveServer(tmp_path_factory.mktemp("live") / "data", free_port())
    server.start()
    yield server
    server.stop()
