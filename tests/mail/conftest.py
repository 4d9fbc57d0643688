"""Fixtures for the mail and webhook tests: real SMTP servers and an HTTP receiver on loopback."""

from __future__ import annotations

import pytest

from tests.mail_servers import LOCAL_RECEIVERS, SmtpServer, WebhookReceiver, make_certificate


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory):
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def smtp_server(tls_files):
    """Start SMTP servers: `smtp_server(starttls=True, users={"u": "p"}, ...)`; stopped after the test."""
    servers = []

    def start(**options) -> SmtpServer:
        if options.get("starttls") or options.get("implicit_tls"):
            options.setdefault("tls_files", tls_files)
        server = SmtpServer(**options).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def smtp(smtp_server) -> SmtpServer:
    """A plain SMTP server (no TLS, no AUTH)."""
    return smtp_server()


@pytest.fixture
def mail_runtime(make_runtime, smtp):
    """A runtime that mails through `smtp` (and calls the local webhook receivers)."""
    return make_runtime(**smtp.env(**LOCAL_RECEIVERS))


@pytest.fixture
def receiver():
    server = WebhookReceiver()
    yield server
    server.stop()
