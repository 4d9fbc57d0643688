"""Real servers for the mail and webhook tests, on loopback: an SMTP server (aiosmtpd) with
or without STARTTLS, implicit TLS and AUTH, one that refuses recipients, one that never
answers, and an HTTP receiver that checks webhook signatures."""

from __future__ import annotations

import asyncio
import datetime
import email
import email.policy
import hashlib
import hmac
import ipaddress
import json
import socket
import ssl
import threading
import time
import warnings
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.servers import free_port

# The webhook receivers below listen on loopback, which webhooks may call only where the
# operator allows this machine and private networks (PWPUSH_WEBHOOK_ALLOW_PRIVATE).
LOCAL_RECEIVERS = {"PWPUSH_WEBHOOK_ALLOW_PRIVATE": "true"}

# --- TLS for the test servers -------------------------------------------------------------------

def make_certificate(folder: Path, host: str = "localhost") -> tuple[Path, Path]:
    """A self-signed certificate for `host` (and 127.0.0.1): (cert file, key file)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def server_tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    return context


# --- SMTP -----------------------------------------------------------------------------------------

@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    authenticated_as: str | None
    tls: bool

    @property
    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)

    def part(self, subtype: str) -> str:
        return self.message.get_body(preferencelist=(subtype,)).get_content()

    @property
    def text(self) -> str:
        return self.part("plain")

    @property
    def html(self) -> str:
        return self.part("html")


@dataclass
class _Collector:
    received: list[Received] = field(default_factory=list)
    # e.g. "550 5.1.1 No such user here": every recipient refused with it.
    refuse_recipients: str | None = None
    # Seconds each DATA takes (to kill a sender in the middle of a batch).
    data_delay: float = 0.0
    arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_recipients:
            return self.refuse_recipients
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        with self.arrived:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content or
                                          envelope.content, login, server.transport.get_extra_info("ssl_object") is not None))
            self.arrived.notify_all()
        return "250 Message accepted for delivery"


class SmtpServer:
    """aiosmtpd on 127.0.0.1.  `starttls`: offers STARTTLS (and requires it when `require_tls`);
    `implicit_tls`: TLS from the first byte; `users`: AUTH (PLAIN, LOGIN) required, with these."""

    def __init__(self, tls_files: tuple[Path, Path] | None = None, starttls: bool = False, require_tls: bool = False,
                 implicit_tls: bool = False, users: dict[str, str] | None = None):
        self.port = free_port()
        self.collector = _Collector()
        self.users = users or {}
        # Every AUTH the server received: (mechanism, login).
        self.auth_attempts: list[tuple[str, str]] = []
        kwargs: dict = {}
        if starttls:
            kwargs.update(tls_context=server_tls_context(*tls_files), require_starttls=require_tls)
        if implicit_tls:
            kwargs.update(ssl_context=server_tls_context(*tls_files))
        if users:
            # Without TLS too: the tests check that we never log in over plain text when told not to.
            kwargs.update(authenticator=self._authenticate, auth_required=True, auth_require_tls=require_tls)
        self.controller = Controller(self.collector, hostname="127.0.0.1", port=self.port, ready_timeout=10, **kwargs)

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        login = auth_data.login.decode() if isinstance(auth_data, LoginPassword) else ""
        self.auth_attempts.append((mechanism, login))
        if isinstance(auth_data, LoginPassword) and self.users.get(auth_data.login.decode()) == auth_data.password.decode():
            return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False)

    def start(self) -> "SmtpServer":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "AUTH while not requiring TLS": on purpose
            self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    @property
    def received(self) -> list[Received]:
        return self.collector.received

    def env(self, **overrides: str) -> dict[str, str]:
        """The settings that point the app at this server."""
        return {"PWP__MAIL__SMTP_ADDRESS": "127.0.0.1", "PWP__MAIL__SMTP_PORT": str(self.port),
                "PWP__MAIL__SMTP_OPEN_TIMEOUT": "3", "PWP__MAIL__SMTP_READ_TIMEOUT": "3",
                "PWP__MAIL__MAILER_SENDER": "\"Secrets\" <secrets@example.com>",
                "PWPUSH_MAIL_RETRY_SECONDS": "1", **overrides}

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self.collector.arrived:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} mails, got {len(self.received)}")
                self.collector.arrived.wait(left)
        return list(self.received)

    def mail_to(self, address: str, count: int = 1, timeout: float = 30) -> Received:
        """The `count`-th mail to `address`, waiting for it to arrive."""
        deadline = time.monotonic() + timeout
        with self.collector.arrived:
            while True:
                found = [m for m in self.received if address in m.rcpt_tos]
                if len(found) >= count:
                    return found[count - 1]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no mail number {count} to {address}")
                self.collector.arrived.wait(left)


class HangingServer:
    """Accepts TCP connections and never says a word (a mail server that hangs)."""

    def __init__(self):
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.port = self.socket.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.accepted.append(connection)

    def stop(self) -> None:
        self.socket.close()
        for connection in self.accepted:
            connection.close()


def closed_port() -> int:
    """A loopback port nobody listens on (connections are refused)."""
    return free_port()


# --- webhooks -----------------------------------------------------------------------------------

@dataclass
class Call:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool

    @property
    def json(self) -> dict:
        return json.loads(self.body)


class WebhookReceiver:
    """An HTTP server on 127.0.0.1 that checks each call's signature with `secret` (set it once
    known) and answers `statuses` in turn (then 200)."""

    def __init__(self):
        self.calls: list[Call] = []
        self.secret: str = ""
        self.statuses: list[int] = []
        self.lock = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                timestamp = self.headers.get("x-pwpush-timestamp", "")
                expected = "sha256=" + hmac.new(receiver.secret.encode(), timestamp.encode() + b"." + body,
                                                hashlib.sha256).hexdigest()
                fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) < 300
                ok = fresh and hmac.compare_digest(expected, self.headers.get("x-pwpush-signature", ""))
                with receiver.lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.calls.append(Call(self.path, {k.lower(): v for k, v in self.headers.items()}, body, ok))
                    receiver.lock.notify_all()
                self.send_response(status if ok else 401)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks/pwpush"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def wait_for(self, count: int, timeout: float = 30) -> list[Call]:
        deadline = time.monotonic() + timeout
        with self.lock:
            while len(self.calls) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} webhook calls, got {len(self.calls)}")
                self.lock.wait(left)
        return list(self.calls)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
