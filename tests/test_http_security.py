"""The security headers middleware on its own (an ASGI app in-process): it adds headers to
a response's start and nothing else.  Bodies pass through as they are sent; the policy's
script hashes come from the built pages, once, never from a response's body.

(Every response of the production server carrying the headers: tests/reliability/test_headers.py.
A hostile html download through the real server: tests/api/test_files_live.py.)
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json

from pwpush_app.http_security import HASHES_FILE, SecurityHeaders, built_page_hashes, inline_script_hashes, page_hashes


def _hash(script: str) -> str:
    return base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()


def _run(app, path: str = "/", headers: list | None = None) -> list[dict]:
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "headers": headers or [], "scheme": "http"}
    asyncio.run(app(scope, receive, send))
    return sent


def _headers(message: dict) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in message["headers"]}


def html_app(chunks: list[bytes], own_policy: str | None = None, seen: list | None = None):
    """Streams `chunks` as text/html; records how many messages the client had got before each chunk."""

    async def app(scope, receive, send):
        headers = [(b"content-type", b"text/html; charset=utf-8")]
        if own_policy:
            headers.append((b"content-security-policy", own_policy.encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for index, chunk in enumerate(chunks):
            await send({"type": "http.response.body", "body": chunk, "more_body": index < len(chunks) - 1})

    return app


def test_html_bodies_pass_through_as_they_are_sent_never_held_back():
    delivered: list[dict] = []
    observed: list[int] = []
    chunks = [b"<script>" * 1000, b"<script>" * 1000, b"</html>"]

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
        for index, chunk in enumerate(chunks):
            observed.append(len(delivered))
            await send({"type": "http.response.body", "body": chunk, "more_body": index < len(chunks) - 1})

    async def receive():
        return {"type": "http.request", "body": b""}

    async def client(message):
        delivered.append(message)

    middleware = SecurityHeaders(app)
    asyncio.run(middleware({"type": "http", "method": "GET", "path": "/d/x/0", "headers": []}, receive, client))
    # The start went out before the first chunk was made, each chunk before the next.
    assert observed == [1, 2, 3]
    assert [m.get("body") for m in delivered[1:]] == chunks


def test_the_policy_names_the_built_pages_scripts_and_never_a_bodys(tmp_path):
    (tmp_path / "index.html").write_text("<html><script>window.app = 1;</script><script src='/assets/a.js'></script></html>")
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "[token].html").write_text("<script type='module'>import('/assets/b.js')</script>")
    body = b"<html><script>steal(document.cookie)</script></html>"
    sent = _run(SecurityHeaders(html_app([body]), pages_dir=tmp_path))
    policy = _headers(sent[0])["content-security-policy"]
    assert f"'sha256-{_hash('window.app = 1;')}'" in policy
    module_script = "import('/assets/b.js')"
    assert f"'sha256-{_hash(module_script)}'" in policy
    assert _hash("steal(document.cookie)") not in policy
    assert policy.count("'sha256-") == 2
    assert sent[1]["body"] == body  # untouched


def test_the_built_pages_are_read_once(tmp_path):
    (tmp_path / "index.html").write_text("<script>first()</script>")
    middleware = SecurityHeaders(html_app([b"<html></html>"]), pages_dir=tmp_path)
    first = _headers(_run(middleware)[0])["content-security-policy"]
    (tmp_path / "index.html").write_text("<script>second()</script>")
    again = _headers(_run(middleware)[0])["content-security-policy"]
    assert _hash("first()") in first and again == first


def test_the_hashes_recorded_beside_the_pages_are_used_and_a_bad_record_is_not(tmp_path):
    """A served copy records its pages' hashes when it is made (frontend.py): a start reads
    them instead of the pages; a record that is missing, empty or not a list of hashes is
    ignored and the pages are read, as is one whose entries are not SHA-256 hashes: they go
    into the policy header as they are, and must not widen it or break the header."""
    pages = tmp_path / "build" / "client"
    pages.mkdir(parents=True)
    (pages / "index.html").write_text("<script>fromThePages()</script>")
    record = tmp_path / "build" / HASHES_FILE
    record.write_text(json.dumps(page_hashes(pages)))
    (pages / "index.html").write_text("<script>changedSince()</script>")  # the record is what is read
    assert built_page_hashes(pages) == [_hash("fromThePages()")]
    widening = [_hash("fromThePages()") + "' 'unsafe-inline", "x' https://evil.example '"]
    for bad in ("not json", "[]", '{"a": 1}', "[1, 2]", json.dumps(widening), json.dumps(["a" * 43 + "=\r\nX: y"]),
                json.dumps([_hash("fromThePages()"), "short="])):
        record.write_text(bad)
        assert built_page_hashes(pages) == [_hash("changedSince()")], bad


def test_without_a_build_no_inline_script_is_allowed(tmp_path):
    policy = _headers(_run(SecurityHeaders(html_app([b"<script>x()</script>"]), pages_dir=tmp_path / "none"))[0])[
        "content-security-policy"
    ]
    assert "sha256-" not in policy and "script-src 'self'" in policy


def test_a_response_with_its_own_policy_keeps_it(tmp_path):
    (tmp_path / "index.html").write_text("<script>app()</script>")
    own = "default-src 'none'; sandbox"
    headers = _headers(_run(SecurityHeaders(html_app([b"x"], own_policy=own), pages_dir=tmp_path), "/d/g/0")[0])
    assert headers["content-security-policy"] == own
    # The other headers are still added.
    assert headers["x-content-type-options"] == "nosniff" and headers["cache-control"] == "no-store"


def test_finding_inline_scripts_is_linear_on_unclosed_tags():
    # The regular expression this replaced went quadratic here (minutes for 1 MiB).
    assert inline_script_hashes("<script>" * 200_000) == set()
    assert inline_script_hashes("<script>a()</script><SCRIPT>b()</SCRIPT><script src=x></script>") == {
        _hash("a()"), _hash("b()")
    }


def test_noindex_false_opens_the_home_page_alone_to_search_engines():
    closed, open_home = SecurityHeaders(html_app([b"x"])), SecurityHeaders(html_app([b"x"]), noindex=False)
    for path in ("/", "/p/abcdefghijklmnopqrstuv", "/manage/abcdefghijklmnopqrstuv", "/manage/abc/print", "/login",
                 "/api/v2/version"):
        assert _headers(_run(closed, path)[0])["x-robots-tag"] == "noindex, nofollow", path
    assert "x-robots-tag" not in _headers(_run(open_home, "/")[0])
    for path in ("/p/abcdefghijklmnopqrstuv", "/manage/abcdefghijklmnopqrstuv", "/manage/abc/print", "/dashboard",
                 "/d/grant/0"):
        assert _headers(_run(open_home, path)[0])["x-robots-tag"] == "noindex, nofollow", path
    assert _run(closed, "/robots.txt")[1]["body"] == b"User-agent: *\nDisallow: /\n"
    assert _run(open_home, "/robots.txt")[1]["body"] == b"User-agent: *\nAllow: /$\nDisallow: /\n"


def test_brand_pictures_from_elsewhere_are_allowed_as_images_only():
    from pwpush_app.http_security import picture_origins

    origins = picture_origins(["/logo.svg", "https://cdn.example.com/a/logo.png", "https://cdn.example.com/icon.png",
                               "http://img.example.org:8080/x.png"])
    assert origins == ("https://cdn.example.com", "http://img.example.org:8080")
    policy = _headers(_run(SecurityHeaders(html_app([b"x"]), picture_sources=origins), "/")[0])["content-security-policy"]
    assert "img-src 'self' data: blob: https://cdn.example.com http://img.example.org:8080;" in policy
    assert "https://cdn.example.com" not in policy.replace("img-src 'self' data: blob: https://cdn.example.com", "")


def test_hsts_behind_a_proxy_named_by_its_network_and_never_for_a_forged_header():
    """The list form of PWP__TRUSTED_PROXIES: a proxy's X-Forwarded-Proto counts when the
    peer is one of the networks; anyone else's is ignored."""
    import ipaddress

    proxies = (ipaddress.ip_network("10.0.0.0/8"),)
    middleware = SecurityHeaders(html_app([b"x"]), trusted_networks=proxies)
    forwarded = [(b"x-forwarded-proto", b"https"), (b"x-forwarded-for", b"198.51.100.4")]

    def hsts(peer: str) -> str:
        sent: list[dict] = []

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "method": "GET", "path": "/", "headers": forwarded, "scheme": "http",
                 "client": (peer, 40000)}
        asyncio.run(middleware(scope, receive, send))
        return _headers(sent[0]).get("strict-transport-security", "")

    assert "max-age=" in hsts("10.0.0.5")
    assert hsts("203.0.113.9") == ""
