"""Servers for the scale-out tests: ours on PostgreSQL, and ours with Redis and several
workers behind nginx. Session-scoped (a first start builds its frontend)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.scale.proxy import Nginx
from tests.servers import ROOT, LiveServer, free_port

SCALED_WORKERS = 3
PURGE_SECONDS = 2
PER_MINUTE = 5


def fresh_database(postgres) -> str:
    """An empty database: the server's own `migrate` must build the schema."""
    name = f"scale_{os.urandom(5).hex()}"
    postgres.sql(f"CREATE DATABASE {name}")
    return postgres.url(name)


def issue_token(server: LiveServer, email: str) -> str:
    """`python -m pwpush_app create-token`, run with the server's environment (its database)."""
    done = subprocess.run([sys.executable, "-m", "pwpush_app", "create-token", email], cwd=ROOT, env=server.env,
                          capture_output=True, text=True, timeout=120, check=True)
    return done.stdout.strip()


@pytest.fixture(scope="session")
def pg_live(postgres, tmp_path_factory):
    """The production server, one worker, on a fresh PostgreSQL database."""
    server = LiveServer(tmp_path_factory.mktemp("pg-live") / "data", free_port(),
                        {"REFLEX_DB_URL": fresh_database(postgres)})
    server.start()
    yield server
    server.stop()


class Scaled:
    def __init__(self, app: LiveServer, nginx: Nginx, db_url: str):
        self.app, self.nginx, self.db_url = app, nginx, db_url
        self.direct_url = f"http://127.0.0.1:{app.port}"  # bypassing nginx


@pytest.fixture(scope="session")
def scaled(postgres, redis_server, s3_server, tmp_path_factory):
    """nginx (TLS) -> SCALED_WORKERS granian workers sharing PostgreSQL, Redis and an S3
    bucket for files: the whole scaled-out shape of docs/deploy.md.

    The app trusts one proxy hop, so tests that talk to it directly play the proxy and
    name the client in X-Forwarded-For (each test its own address: separate rate limits)."""
    app_port = free_port()
    nginx = Nginx(app_port).start()
    db_url = fresh_database(postgres)
    app = LiveServer(tmp_path_factory.mktemp("scaled") / "data", app_port, {
        "REFLEX_DB_URL": db_url,
        "REFLEX_REDIS_URL": redis_server.url,
        "GRANIAN_WORKERS": str(SCALED_WORKERS),
        "PWP__TRUSTED_PROXIES": "1",
        "PWP__OVERRIDE_BASE_URL": nginx.url,
        "PWPUSH_PURGE_INTERVAL_SECONDS": str(PURGE_SECONDS),
        "PWP__THROTTLING__MINUTE": str(PER_MINUTE),
        "PWPUSH_FILES_STORAGE": "s3",
        "PWPUSH_S3_BUCKET": s3_server.new_bucket(),
        "PWPUSH_S3_ENDPOINT_URL": s3_server.url,
        **s3_server.env,
    }, backend_host="127.0.0.1")  # loopback only, as deploy/pwpush.service runs it
    try:
        app.start()
        yield Scaled(app, nginx, db_url)
    finally:
        app.stop()
        nginx.stop()
