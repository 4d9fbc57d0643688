"""Password Pusher's site settings through the production server and a real browser: the
brand, a forced dark mode, no version, indexing of the home page, the generator's defaults,
no blur, no logins, and PWP__ALLOWED_HOSTS with the site on a public name.

One server for them all (a production start builds the pages, which take the settings in).
Its public name, secrets.example.test, is mapped to loopback in Chromium, as a proxy or DNS
would bring a browser there: the pages and their websocket work under that name only
because it is allowed.
"""

from __future__ import annotations

import re
import socket

import httpx
import pytest

from tests.page_timing import CHROMIUM, CHROMIUM_ARGS
from tests.servers import LiveServer, free_port

pytestmark = pytest.mark.browser

PUBLIC = "secrets.example.test"
CDN = "https://cdn.example.test"
SETTINGS = {
    "PWP__ALLOWED_HOSTS": PUBLIC,
    "PWP__DISABLE_LOGINS": "true",
    "PWP__THEME_MODE": "dark",
    "PWP__SHOW_VERSION": "false",
    "PWP__NOINDEX": "false",
    "PWP__PW__ENABLE_BLUR": "false",
    "PWP__BRAND__TITLE": "Acme Secrets",
    "PWP__BRAND__TAGLINE": "Acme's own way to share a password",
    "PWP__BRAND__DISCLAIMER": "For Acme staff only. Report misuse to security@acme.test.",
    "PWP__BRAND__SHOW_FOOTER_MENU": "false",
    "PWP__BRAND__LIGHT_LOGO": "/icon-192.png",
    "PWP__BRAND__DARK_LOGO": f"{CDN}/acme-dark.png",
    "PWP__BRAND__ICON_32x32": "/icon-192.png",
    "PWP__BRAND__ICON_180x180": f"{CDN}/acme-180.png",
    "PWP__BRAND__MS_ICON_144x144": "/icon-192.png",
    "PWP__GEN__CONSONANTS": "bcd",
    "PWP__GEN__VOWELS": "ae",
    "PWP__GEN__SEPARATORS": "=+",
    "PWP__GEN__MIN_SYLLABLE_LENGTH": "1",
    "PWP__GEN__MAX_SYLLABLE_LENGTH": "2",
    "PWP__GEN__SYLLABLES_COUNT": "4",
    "PWP__GEN__HAS_NUMBERS": "false",
    "PWP__GEN__TITLE_CASED": "false",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    port = free_port()
    server = LiveServer(tmp_path_factory.mktemp("site") / "data", port,
                        {**SETTINGS, "PWP__OVERRIDE_BASE_URL": f"http://{PUBLIC}:{port}"})
    server.start()
    server.public_url = f"http://{PUBLIC}:{port}"
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser(site):
    """Chromium that finds the public name on loopback (what DNS and a proxy would do)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {PUBLIC} 127.0.0.1"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    # A visitor who chose light mode here before the site was set to dark.
    context.add_init_script("try { localStorage.setItem('theme', 'light') } catch (e) {}")
    yield context.new_page()
    context.close()


def _ready(page) -> None:
    page.wait_for_selector("#app-ready", state="attached")


def test_the_brand_a_forced_dark_mode_and_no_way_to_log_in(site, page):
    page.goto(site.public_url + "/")
    _ready(page)  # hydrated: the websocket works under the public name
    header = page.locator("header")
    assert "Acme Secrets" in header.inner_text()
    assert "Acme's own way to share a password" in page.inner_text("main")
    assert page.title() == "Acme Secrets"
    # Dark for everyone, whatever this browser chose before; no switch.
    page.wait_for_function("() => document.documentElement.classList.contains('dark')")
    assert page.evaluate("() => localStorage.getItem('theme')") == "dark"
    assert page.locator("header button[aria-label='Switch light or dark mode']").count() == 0
    assert header.locator("img.brand-logo").get_attribute("src") == f"{CDN}/acme-dark.png"
    # The footer: the disclaimer, no menu, no version.
    footer = page.locator("footer")
    assert "For Acme staff only. Report misuse to security@acme.test." in footer.inner_text()
    assert page.locator("#footer-menu").count() == 0 and page.locator("#app-version").count() == 0
    assert not re.search(r"v\d+\.\d+", footer.inner_text())
    # Icons in the head; the pages' policy lets the brand's pictures in, from their origin only.
    icons = page.evaluate("() => [...document.querySelectorAll('link[rel=icon], link[rel=apple-touch-icon]')]"
                          ".map(l => [l.rel, l.getAttribute('sizes'), l.getAttribute('href')])")
    assert ["icon", "32x32", "/icon-192.png"] in icons and ["apple-touch-icon", "180x180", f"{CDN}/acme-180.png"] in icons
    assert page.locator("meta[name=msapplication-TileImage]").get_attribute("content") == "/icon-192.png"
    policy = httpx.get(site.url + "/").headers["content-security-policy"]
    assert f"img-src 'self' data: blob: {CDN};" in policy and f"script-src 'self' {CDN}" not in policy
    # No logins: no links, no file pushes (they need an account here).
    assert page.locator("#nav-login").count() == 0 and page.locator("text=Sign up").count() == 0
    assert page.locator("#kind-file").count() == 0 and page.locator("#kind-text").count() == 1


def test_logins_and_sign_ups_are_404_and_the_pages_say_why(site, page):
    for path in ("/login", "/signup"):
        answer = httpx.get(site.url + path)
        assert answer.status_code == 404 and "Logins are turned off" in answer.text, path
    for path in ("/session", "/signup"):
        answer = httpx.post(site.url + path, data={"email": "a@example.com", "password": "x" * 12},
                            headers={"Origin": site.public_url})
        assert answer.status_code == 404 and "set-cookie" not in answer.headers, path
    # A page that would send a visitor to log in shows why it can't.
    page.goto(site.public_url + "/dashboard")
    page.wait_for_selector("text=Logins are turned off on this site")


def test_the_generator_starts_from_the_sites_defaults(site, page):
    page.goto(site.public_url + "/")
    _ready(page)
    for _ in range(20):
        page.click("#generate")
        page.wait_for_function("() => document.getElementById('payload').value.length > 0")
        password = page.input_value("#payload")
        assert re.fullmatch(r"[bcd][ae]?([=+][bcd][ae]?){3}", password), password
        page.fill("#payload", "")
    page.click("#generator-options")
    page.click("#gen-separator")
    assert page.locator("[role=option]", has_text="Mixed").inner_text().strip().endswith("=+")


def test_without_blur_the_secret_shows_at_once(site, page):
    from pwpush_app.core.runtime import open_runtime
    from pwpush_app.settings import load_settings
    from tests.ui.ui_helpers import push_directly

    runtime = open_runtime(load_settings(site.env))
    links = push_directly(runtime, site.public_url, "unblurred-secret")
    page.goto(links.secret)
    page.click("#reveal")
    page.wait_for_function("() => document.getElementById('secret-box').value === 'unblurred-secret'")
    page.mouse.move(1, 1)
    assert page.evaluate("() => getComputedStyle(document.getElementById('secret-box')).filter") == "none"
    assert page.locator("#blur-hint").count() == 0
    runtime.engine.dispose()


def test_noindex_false_opens_the_home_page_alone(site):
    home = httpx.get(site.url + "/")
    assert "x-robots-tag" not in home.headers
    assert 'name="robots"' not in home.text
    secret_page = httpx.get(site.url + "/p/AAAAAAAAAAAAAAAAAAAAAA")
    assert secret_page.headers["x-robots-tag"] == "noindex, nofollow"
    # Pages served as built files carry the robots meta tag too (a secret link's page is the
    # app's shell, filled in the browser: its header is what a crawler reads).
    other = httpx.get(site.url + "/my-pushes", follow_redirects=True)
    assert other.headers["x-robots-tag"] == "noindex, nofollow"
    assert re.search(r'<meta (name="robots" content="noindex, nofollow"|content="noindex, nofollow" name="robots")',
                     other.text)
    assert httpx.get(site.url + "/robots.txt").text == "User-agent: *\nAllow: /$\nDisallow: /\n"


def _websocket_status(port: int, host: str) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall((
            "GET /_event/?EIO=4&transport=websocket HTTP/1.1\r\n"
            f"Host: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: http://{PUBLIC}:{port}\r\n\r\n"
        ).encode())
        return int(s.recv(1024).split(b"\r\n", 1)[0].split()[1])


def test_allowed_hosts_answer_others_400_and_keep_up_and_the_websocket(site):
    port = site.port
    direct = f"http://127.0.0.1:{port}"
    for path in ("/", "/api/v2/version", "/p/AAAAAAAAAAAAAAAAAAAAAA", "/assets/logo.svg"):
        refused = httpx.get(direct + path, headers={"Host": "evil.example"})
        assert refused.status_code == 400 and "host name" in refused.text, path
    # The API's fast door (create and retrieve, api/hot.py) stands behind the check too.
    for path, body in (("/api/v2/pushes", {"push": {"payload": "x"}}), ("/p.json", {"password": {"payload": "x"}})):
        refused = httpx.post(direct + path, json=body, headers={"Host": "evil.example"})
        assert refused.status_code == 400 and "host name" in refused.text, path
    refused = httpx.get(direct + "/api/v2/pushes/AAAAAAAAAAAAAAAAAAAAAA", headers={"Host": "evil.example"})
    assert refused.status_code == 400 and "host name" in refused.text
    assert httpx.get(direct + "/", headers={"Host": f"{PUBLIC}:{port}"}).status_code == 200
    assert httpx.get(direct + "/", headers={"Host": f"{PUBLIC}:{port}", "X-Forwarded-Host": "evil.example"}).status_code == 400
    assert httpx.get(direct + "/api/v2/version").status_code == 200  # 127.0.0.1: loopback always passes
    # The health check answers a load balancer that asks by IP address.
    up = httpx.get(direct + "/up", headers={"Host": "10.0.0.9:3000"})
    assert up.status_code == 200
    # The websocket: refused under another name, opened under the public one (as behind a proxy).
    assert _websocket_status(port, "evil.example") == 403
    assert _websocket_status(port, f"{PUBLIC}:{port}") == 101
