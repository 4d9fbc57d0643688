"""Security headers on every HTTP response: pages, API, static files and errors alike.

A pure ASGI middleware (Reflex's `api_transformer` wraps the whole backend with it), so
nothing can skip it.  The Content-Security-Policy allows only this origin's scripts plus
the exact inline scripts of the HTML being served (their SHA-256 hashes are computed from
the response itself, so a rebuilt frontend needs no configuration).
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import re

_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)

# Hashed static bundles never carry secrets and may be cached; everything else may.
_CACHEABLE_PREFIXES = ("/assets/", "/favicon.ico")

BASE_HEADERS = {
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "x-robots-tag": "noindex, nofollow",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
}

ROBOTS_TXT = b"User-agent: *\nDisallow: /\n"


def content_security_policy(script_hashes: list[str] | None = None) -> str:
    scripts = " ".join(["'self'", *(f"'sha256-{h}'" for h in script_hashes or [])])
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {scripts}",
            # Emotion (Radix themes) injects <style> elements at run time.
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ]
    )


def inline_script_hashes(html: bytes) -> list[str]:
    return sorted(
        {base64.b64encode(hashlib.sha256(body).digest()).decode() for body in _INLINE_SCRIPT.findall(html)}
    )


class SecurityHeaders:
    """Wrap an ASGI app; add the headers, answer /robots.txt."""

    def __init__(self, app, trusted_proxy_hops: int = 0):
        self.app = app
        self.trusted_proxy_hops = trusted_proxy_hops

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        if path == "/robots.txt":
            return await self._robots(scope, send)
        https = self._arrived_over_https(scope)
        start: dict | None = None
        body_parts: list[bytes] = []

        async def send_with_headers(message):
            nonlocal start
            if message["type"] == "http.response.start":
                headers = _Headers(message.get("headers", []))
                if headers.get("content-type", "").startswith("text/html"):
                    # Hold the start until the body is known: the CSP names its inline scripts.
                    start = message
                    return
                await send(self._decorate(message, path, https, None))
                return
            if start is not None and message["type"] == "http.response.pathsend":
                # Granian's zero-copy file send (static HTML): read the file for its scripts.
                html = await asyncio.to_thread(_read_file, message["path"])
                await send(self._decorate(start, path, https, _html_of(start, html)))
                await send(message)
                return
            if start is not None and message["type"] == "http.response.body":
                body_parts.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                body = b"".join(body_parts)
                await send(self._decorate(start, path, https, _html_of(start, body)))
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _decorate(self, message: dict, path: str, https: bool, html: bytes | None) -> dict:
        headers = _Headers(message.get("headers", []))
        for name, value in BASE_HEADERS.items():
            headers.set(name, value)
        headers.set("content-security-policy", content_security_policy(inline_script_hashes(html) if html else None))
        if not path.startswith(_CACHEABLE_PREFIXES):
            headers.set("cache-control", "no-store")
            headers.set("pragma", "no-cache")
        if https:
            headers.set("strict-transport-security", "max-age=63072000; includeSubDomains")
        return {**message, "headers": headers.raw}

    def _arrived_over_https(self, scope) -> bool:
        return arrived_over_https(scope, self.trusted_proxy_hops)

    async def _robots(self, scope, send):
        message = {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(ROBOTS_TXT)).encode())],
        }
        await send(self._decorate(message, "/robots.txt", self._arrived_over_https(scope), None))
        await send({"type": "http.response.body", "body": ROBOTS_TXT if scope["method"] != "HEAD" else b""})


def arrived_over_https(scope, trusted_proxy_hops: int) -> bool:
    """The browser's connection was https: ours, or per the trusted proxy's X-Forwarded-Proto."""
    if scope.get("scheme") == "https":
        return True
    if trusted_proxy_hops <= 0:
        return False
    proto = _Headers(scope.get("headers", [])).get("x-forwarded-proto", "")
    protos = [p.strip() for p in proto.split(",") if p.strip()]
    return len(protos) >= trusted_proxy_hops and protos[-trusted_proxy_hops] == "https"


def _read_file(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(4 * 1024 * 1024)
    except OSError:
        return b""


def _html_of(start: dict, body: bytes) -> bytes:
    encoding = _Headers(start.get("headers", [])).get("content-encoding", "")
    if encoding == "gzip":
        try:
            return gzip.decompress(body)
        except OSError:
            return b""
    return body


class _Headers:
    """ASGI raw headers with case-insensitive get/set."""

    def __init__(self, raw):
        self.raw = [(bytes(k).lower(), bytes(v)) for k, v in raw]

    def get(self, name: str, default: str = "") -> str:
        key = name.encode()
        for k, v in self.raw:
            if k == key:
                return v.decode("latin-1")
        return default

    def set(self, name: str, value: str) -> None:
        key = name.encode()
        self.raw = [(k, v) for k, v in self.raw if k != key]
        self.raw.append((key, value.encode("latin-1")))

