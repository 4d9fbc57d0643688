"""Shared fixtures: a real migrated SQLite database per test, and the production server."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from pwpush_app.core.db import migrate
from pwpush_app.core.runtime import open_runtime
from pwpush_app.settings import load_settings
from tests.page_timing import CHROMIUM, launch_chromium
from tests.servers import ROOT, LiveServer, free_port, make_env  # noqa: F401  (fixtures' helpers)

ARTIFACTS = ROOT / "test-artifacts"


ENGINES = [e for e in os.environ.get("PWPUSH_TEST_ENGINES", "sqlite,postgresql").split(",") if e]


BLOB_BACKENDS = [b for b in os.environ.get("PWPUSH_TEST_BLOB_BACKENDS", "local,s3").split(",") if b]


def pytest_generate_tests(metafunc):
    """Core and API tests run on every engine: SQLite, and a real PostgreSQL server.
    Tests marked `blob_backends` also run on every file store: local disk, and S3 (moto)."""
    if "db_engine" in metafunc.fixturenames:
        sqlite_only = metafunc.definition.get_closest_marker("sqlite_only")
        metafunc.parametrize("db_engine", ["sqlite"] if sqlite_only else ENGINES)
    if metafunc.definition.get_closest_marker("blob_backends") and "blob_backend" in metafunc.fixturenames:
        local_only = metafunc.definition.get_closest_marker("local_blobs_only")
        metafunc.parametrize("blob_backend", ["local"] if local_only else BLOB_BACKENDS)


@pytest.fixture
def blob_backend():
    """Where make_runtime keeps file contents, unless a test is parametrized over backends."""
    return "local"


def _chromium():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (scripts/system-deps.sh installs it)")
    with sync_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium through Playwright's sync API, one per test module.

    Not one per session: while Playwright's sync API runs, its event loop counts as running
    in the main thread, so any later test that runs a loop of its own (`asyncio.run`, the
    API tests' client) would fail with "Cannot run the event loop while another loop is
    running" whenever browser tests ran first."""
    yield from _chromium()


@pytest.fixture
def chromium_for_one_test():
    """`chromium` for one test, in a module whose other tests run event loops of their own."""
    yield from _chromium()


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


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3-compatible server; boto3 in this process gets its (dummy) credentials."""
    from tests.servers import S3Server

    server = S3Server().start()
    saved = {name: os.environ.get(name) for name in server.env}
    os.environ.update(server.env)
    yield server
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite database migrated once by the real Alembic migrations; each test gets a copy
    (as PostgreSQL's tests get a database made from a migrated template)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "pwpush.db"
    migrate(f"sqlite:///{path}")
    return path


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy through SQLite's backup API, private like the app's own file."""
    target.touch(mode=0o600)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


@pytest.fixture
def db_url(db_engine, tmp_path, request):
    """A fresh, migrated database on the engine under test."""
    if db_engine == "sqlite":
        path = tmp_path / "data" / "pwpush.db"
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        copy_sqlite(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    server = request.getfixturevalue("postgres")
    name = f"t_{os.urandom(6).hex()}"
    server.sql(f"CREATE DATABASE {name} TEMPLATE pwpush_template")
    return server.url(name)


@pytest.fixture
def make_runtime(tmp_path, db_url, blob_backend, request):
    """Build a runtime on the fresh database; pass settings as environment names."""
    runtimes = []
    storage = {}
    if blob_backend == "s3":
        s3 = request.getfixturevalue("s3_server")
        storage = {"PWPUSH_FILES_STORAGE": "s3", "PWPUSH_S3_BUCKET": s3.new_bucket(), "PWPUSH_S3_ENDPOINT_URL": s3.url}

    def build(**overrides: str):
        env = make_env(tmp_path / "data", REFLEX_DB_URL=db_url, **{**storage, **overrides})
        settings = load_settings(env)
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        runtime = open_runtime(settings)
        runtimes.append(runtime)
        return runtime

    yield build
    for runtime in runtimes:
        runtime.engine.dispose()


@pytest.fixture
def runtime(make_runtime):
    return make_runtime()


LIVE_FILES_MAX_BYTES = 4 * 1024 * 1024


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """One production server for the whole session (its first start builds its frontend)."""
    # Files without login (as an admin may set it; the default is covered without a server)
    # and a small size limit, so the browser tests can send files and go over the limit
    # quickly.
    server = LiveServer(
        tmp_path_factory.mktemp("live") / "data",
        free_port(),
        {"PWP__FILES__REQUIRE_LOGIN": "false", "PWPUSH_FILES_MAX_BYTES": str(LIVE_FILES_MAX_BYTES)},
    )
    server.start()
    yield server
    server.stop()
