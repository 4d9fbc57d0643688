"""PWP__ALLOWED_HOSTS: every request names one of this site's hosts, or gets 400.

A pure ASGI wrapper beside http_security.py, around everything the server answers: pages,
API, downloads, static files and the websocket (which is refused before it opens).  It
stops Host header attacks and DNS rebinding: a page of another site that resolves its own
name to this server cannot talk to it.

Always allowed, whatever the list says: the base URL's host (the links point there), and
loopback (`localhost`, 127.0.0.1, ::1: a proxy on the same machine that does not pass the
Host on, and the container's own health check).  `/up` is never checked, so a load
balancer or an orchestrator may probe it by IP address.  Behind a proxy that sets
X-Forwarded-Host, that host must be allowed too.  Without PWP__ALLOWED_HOSTS nothing is
checked (as in Password Pusher).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

LOOPBACK = ("localhost", "127.0.0.1", "::1")
# Probed by load balancers by IP address: answers nothing but "the database is up".
UNCHECKED_PATHS = ("/up",)
BAD_HOST = b"Bad Request: this site does not answer to that host name.\n"


def host_name(header: str) -> str:
    """The host of a Host header, lower-case, without port or brackets ('' if malformed)."""
    value = header.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        return value[1:end] if end > 0 else ""
    if value.count(":") > 1:  # a bare IPv6 address
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            return ""
    return value.split(":", 1)[0].rstrip(".")


class AllowedHosts:
    """The hosts a request may name: exact names, or `.domain` for a domain and its subdomains."""

    def __init__(self, allowed: tuple[str, ...], base_url: str):
        base_host = host_name(urlsplit(base_url).netloc)
        names = {*allowed, *LOOPBACK, *([base_host] if base_host else [])}
        self.exact = {name for name in names if not name.startswith(".")}
        self.domains = tuple(name for name in names if name.startswith("."))

    def allows(self, host: str) -> bool:
        if not host:
            return False
        if host in self.exact:
            return True
        return any(host == domain[1:] or host.endswith(domain) for domain in self.domains)


class HostCheck:
    """Wrap an ASGI app: requests naming another host are answered 400 (websockets: refused)."""

    def __init__(self, app, allowed: tuple[str, ...], base_url: str):
        self.app = app
        self.hosts = AllowedHosts(allowed, base_url) if allowed else None

    async def __call__(self, scope, receive, send):
        if self.hosts is None or scope["type"] not in ("http", "websocket") or self._allowed(scope):
            return await self.app(scope, receive, send)
        if scope["type"] == "websocket":
            # Closing before accepting: the server answers the handshake with 403.
            await send({"type": "websocket.close", "code": 1008})
            return
        await send({
            "type": "http.response.start",
            "status": 400,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(BAD_HOST)).encode())],
        })
        await send({"type": "http.response.body", "body": BAD_HOST if scope.get("method") != "HEAD" else b""})

    def _allowed(self, scope) -> bool:
        if scope.get("path", "") in UNCHECKED_PATHS:
            return True
        hosts = [value.decode("latin-1") for key, value in scope.get("headers", []) if key.lower() in (b"host", b"x-forwarded-host")]
        if not hosts:
            return False
        # X-Forwarded-Host may list several hops ("a, b"): every one must be ours.
        names = [host_name(part) for value in hosts for part in value.split(",")]
        return all(self.hosts.allows(name) for name in names)
