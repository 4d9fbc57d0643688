"""Security headers on every HTTP response: pages, API, downloads, static files and errors.

A pure ASGI middleware (Reflex's `api_transformer` wraps the whole backend with it), so
nothing can skip it.  It only ever adds headers to the start of a response: bodies pass
through as they are sent, never held back, never read (a download streams at full speed
however large it is and whatever type its sender declared).

The Content-Security-Policy allows this origin's scripts plus the inline scripts of the
built pages, by hash.  Those hashes are read once, from the pages on disk, the first time
a response needs them (the frontend is built before the server starts): never from a
response's body, which for a download is whatever its sender uploaded.  A response that
sets its own policy (downloads: `sandbox`, `default-src 'none'`) keeps it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from html.parser import HTMLParser
from pathlib import Path
from typing import Callable

from pwpush_app.core.network import proxies_passed

# Hashed static bundles never carry secrets and may be cached; everything else may.
_CACHEABLE_PREFIXES = ("/assets/", "/favicon.ico")

BASE_HEADERS = {
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
}

ROBOTS_NOINDEX = "noindex, nofollow"
ROBOTS_TXT = b"User-agent: *\nDisallow: /\n"
# PWP__NOINDEX=false: the home page alone may be indexed ("$" ends the match: "/" only).
ROBOTS_TXT_HOME = b"User-agent: *\nAllow: /$\nDisallow: /\n"
HOME_PATHS = ("/", "/index.html")

_BASE_RAW = {name.encode(): value.encode("latin-1") for name, value in BASE_HEADERS.items()}
_NO_STORE_RAW = {b"cache-control": b"no-store", b"pragma": b"no-cache"}
_NOINDEX_RAW = ROBOTS_NOINDEX.encode()


def indexable(path: str, noindex: bool) -> bool:
    """May search engines index this page?  Never a secret link, a manage link or any page
    but the home page; the home page only where PWP__NOINDEX is false."""
    return not noindex and path in HOME_PATHS


def content_security_policy(script_hashes: list[str] | None = None, picture_sources: tuple[str, ...] = ()) -> str:
    """`picture_sources`: other origins the brand's logos and icons come from (PWP__BRAND__*)."""
    scripts = " ".join(["'self'", *(f"'sha256-{h}'" for h in script_hashes or [])])
    pictures = " ".join(["'self'", "data:", "blob:", *picture_sources])
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {scripts}",
            # Emotion (Radix themes) injects <style> elements at run time.
            "style-src 'self' 'unsafe-inline'",
            f"img-src {pictures}",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ]
    )


class _InlineScripts(HTMLParser):
    """Collects the text of each <script> without a src (one pass, linear in the page)."""

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.bodies: list[str] = []
        self._current: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "script" and not any(name == "src" for name, _ in attrs):
            self._current = []

    def handle_data(self, data):
        if self._current is not None:
            self._current.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._current is not None:
            self.bodies.append("".join(self._current))
            self._current = None


def inline_script_hashes(html: str) -> set[str]:
    """The CSP hashes (base64 SHA-256) of a page's inline scripts."""
    parser = _InlineScripts()
    parser.feed(html)
    parser.close()
    return {base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() for body in parser.bodies}


# The hashes of a build's pages as recorded when they were written (pwpush_app/frontend.py, for
# each served copy), in the folder above the pages: not served, and read in a millisecond
# where parsing every page takes ~70 ms of each start.
HASHES_FILE = "csp-hashes.json"
# What a recorded hash must look like: it goes into the policy header as it is, so anything
# else (a quote, a space, a line break) would change the policy or break the header.
_SHA256_BASE64 = re.compile(r"[A-Za-z0-9+/]{43}=")


def built_page_hashes(pages_dir: Path) -> list[str]:
    """The hashes of every inline script of every built page under `pages_dir`: recorded
    beside them (HASHES_FILE) when the pages were written, else (no record, or one that is
    not a list of SHA-256 hashes) found by reading them."""
    try:
        recorded = json.loads((pages_dir.parent / HASHES_FILE).read_text())
    except (OSError, ValueError):
        recorded = None
    if (isinstance(recorded, list) and recorded
            and all(isinstance(h, str) and _SHA256_BASE64.fullmatch(h) for h in recorded)):
        return recorded
    return page_hashes(pages_dir)


def page_hashes(pages_dir: Path) -> list[str]:
    """The hashes of every inline script of every page under `pages_dir`, read from the pages."""
    hashes: set[str] = set()
    for page in sorted(pages_dir.rglob("*.html")):
        try:
            hashes |= inline_script_hashes(page.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            continue
    return sorted(hashes)


class PagePolicy:
    """The pages' Content-Security-Policy, worked out once from the built pages.

    Until a build exists (development, or a server asked before its first build) the
    policy allows no inline script at all and is asked again next time; once pages were
    found, it never changes for the life of the process."""

    def __init__(self, pages_dir: Callable[[], Path | None] | Path | None, picture_sources: tuple[str, ...] = ()):
        self._pages_dir = pages_dir
        self._pictures = picture_sources
        self._policy: str | None = None
        self._lock = threading.Lock()

    def __call__(self) -> str:
        if self._policy is not None:
            return self._policy
        with self._lock:
            if self._policy is None:
                folder = self._pages_dir() if callable(self._pages_dir) else self._pages_dir
                hashes = built_page_hashes(folder) if folder is not None and folder.is_dir() else []
                if hashes:
                    self._policy = content_security_policy(hashes, self._pictures)
                return self._policy or content_security_policy(picture_sources=self._pictures)


class SecurityHeaders:
    """Wrap an ASGI app; add the headers, answer /robots.txt."""

    def __init__(self, app, trusted_proxy_hops: int = 0, pages_dir: Callable[[], Path | None] | Path | None = None,
                 noindex: bool = True, picture_sources: tuple[str, ...] = (), trusted_networks: tuple = ()):
        self.app = app
        self.trusted_proxy_hops = trusted_proxy_hops
        self.trusted_networks = trusted_networks
        self.page_policy = PagePolicy(pages_dir, picture_sources)
        self.noindex = noindex

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        if path == "/robots.txt":
            return await self._robots(scope, send)
        https = arrived_over_https(scope, self.trusted_proxy_hops, self.trusted_networks)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message = self._decorate(message, path, https)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _decorate(self, message: dict, path: str, https: bool) -> dict:
        """The answer's headers (names lower-cased) with ours set: each of ours replaces a
        header of its name and comes after the answer's own, in one pass over them."""
        raw = [(bytes(k).lower(), bytes(v)) for k, v in message.get("headers", [])]
        ours = dict(_BASE_RAW)
        if not indexable(path, self.noindex):
            ours[b"x-robots-tag"] = _NOINDEX_RAW
        if not next((v for k, v in raw if k == b"content-security-policy"), b""):
            ours[b"content-security-policy"] = self.page_policy().encode("latin-1")
        if not path.startswith(_CACHEABLE_PREFIXES):
            ours.update(_NO_STORE_RAW)
        if https:
            ours[b"strict-transport-security"] = b"max-age=63072000; includeSubDomains"
        return {**message, "headers": [(k, v) for k, v in raw if k not in ours] + list(ours.items())}

    async def _robots(self, scope, send):
        body = ROBOTS_TXT if self.noindex else ROBOTS_TXT_HOME
        message = {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())],
        }
        await send(self._decorate(message, "/robots.txt", arrived_over_https(scope, self.trusted_proxy_hops, self.trusted_networks)))
        await send({"type": "http.response.body", "body": body if scope["method"] != "HEAD" else b""})


def picture_origins(addresses: list[str]) -> tuple[str, ...]:
    """The origins of pictures served from elsewhere (https://cdn.example/logo.png ->
    https://cdn.example), for img-src; pictures of this site need none."""
    origins = []
    for address in addresses:
        if address.startswith(("https://", "http://")):
            scheme, rest = address.split("://", 1)
            origin = f"{scheme}://{rest.split('/', 1)[0]}"
            if origin not in origins:
                origins.append(origin)
    return tuple(origins)


def arrived_over_https(scope, trusted_proxy_hops: int, trusted_networks: tuple = ()) -> bool:
    """The browser's connection was https: ours, or per the trusted proxy's X-Forwarded-Proto
    (PWP__TRUSTED_PROXIES in either form, as the client's address is found: core/network.py)."""
    if scope.get("scheme") == "https":
        return True
    headers = _Headers(scope.get("headers", []))
    peer = (scope.get("client") or ("",))[0]
    passed = proxies_passed(peer, headers.get("x-forwarded-for"), trusted_proxy_hops, trusted_networks)
    if passed <= 0:
        return False
    protos = [p.strip() for p in headers.get("x-forwarded-proto", "").split(",") if p.strip()]
    return len(protos) >= passed and protos[-passed] == "https"


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
