"""Debian's nginx on loopback, running deploy/nginx.conf as shipped (ports and paths substituted).

The site file is included verbatim into a minimal main configuration whose pid file, logs
and temp folders live in a temporary folder, so the test needs no system service.
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

from tests.servers import ROOT, free_port

TEMPLATE = ROOT / "deploy" / "nginx.conf"

MAIN_CONF = """\
{user}
worker_processes 1;
error_log {dir}/error.log warn;
pid {dir}/nginx.pid;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include {dir}/site.conf;
}}
"""


def nginx_binary() -> str:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        raise RuntimeError("nginx is not installed: run `make test` (it installs Debian's nginx)")
    return binary


def render_site(template: str, app_port: int, http_port: int, https_port: int, folder: Path) -> str:
    """The shipped site file with only its ports, certificate and log paths replaced."""
    substitutions = {
        "server 127.0.0.1:3000;": f"server 127.0.0.1:{app_port};",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen [::]:80;": "",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "listen [::]:443 ssl http2;": "",
        "/etc/letsencrypt/live/pwpush.example.com/fullchain.pem": str(folder / "cert.pem"),
        "/etc/letsencrypt/live/pwpush.example.com/privkey.pem": str(folder / "key.pem"),
        "/var/log/nginx/pwpush.access.log": str(folder / "access.log"),
        "/var/log/nginx/pwpush.error.log": str(folder / "site-error.log"),
    }
    for old, new in substitutions.items():
        # The test must run the shipped file: if it changes shape, fail here, loudly. (Both
        # servers, http and https, write to the site's logs.)
        expected = 2 if old.startswith("/var/log/nginx/") else 1
        assert template.count(old) == expected, f"deploy/nginx.conf no longer contains {old!r} {expected} time(s)"
        template = template.replace(old, new)
    return template


class Nginx:
    """nginx (not a daemon) with TLS on a free loopback port, in front of 127.0.0.1:app_port."""

    def __init__(self, app_port: int):
        self.app_port = app_port
        self.http_port = free_port()
        self.https_port = free_port()
        self.url = f"https://127.0.0.1:{self.https_port}"
        self.dir = Path(tempfile.mkdtemp(prefix="pwpush-nginx-"))
        self.cert = self.dir / "cert.pem"
        self.process: subprocess.Popen | None = None

    def start(self) -> "Nginx":
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
             "-keyout", str(self.dir / "key.pem"), "-out", str(self.cert)],
            check=True, capture_output=True,
        )
        site = render_site(TEMPLATE.read_text(), self.app_port, self.http_port, self.https_port, self.dir)
        (self.dir / "site.conf").write_text(site)
        # As root, nginx's workers would switch to www-data, which cannot read our temp dir.
        user = "user root;" if os.geteuid() == 0 else ""
        (self.dir / "nginx.conf").write_text(MAIN_CONF.format(dir=self.dir, user=user))
        command = [nginx_binary(), "-p", str(self.dir), "-c", str(self.dir / "nginx.conf"), "-e", str(self.dir / "error.log")]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
        if checked.returncode != 0:
            raise RuntimeError(f"nginx -t failed:\n{checked.stderr}")
        self.process = subprocess.Popen([*command, "-g", "daemon off;"], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited:\n{self.error_log()}")
            try:
                socket.create_connection(("127.0.0.1", self.https_port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("nginx did not start in 15 s")

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))

    def error_log(self) -> str:
        path = self.dir / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
