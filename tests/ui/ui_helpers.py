"""Helpers for the browser tests: set up pushes, drive the forms, take screenshots."""

from __future__ import annotations

import base64
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from pwpush_app.core.audit import Client
from pwpush_app.core.create import NewPush, create_push
from pwpush_app.core.runtime import Runtime

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
# Every page shot at each width and colour scheme for a person to look at:
# PWPUSH_SCREENSHOTS=all. By default one shot a page (laptop width, light), which keeps the
# whole suite's time down (the full set costs about two minutes).
EVERY_SHOT = os.environ.get("PWPUSH_SCREENSHOTS", "") == "all"
PHONE = {"width": 375, "height": 800}
LAPTOP = {"width": 1280, "height": 900}
PASSWORD = "Canary-Pa55word-7f3e9b"


@dataclass
class Links:
    secret: str
    manage: str

    @property
    def token(self) -> str:
        return self.secret.rsplit("/", 1)[-1]

    @property
    def manage_token(self) -> str:
        return self.manage.rsplit("/", 1)[-1]


def push_directly(runtime: Runtime, base_url: str, payload: str, **fields) -> Links:
    """Create a push through the core (for tests about the recipient's side)."""
    created = create_push(runtime, NewPush(payload=payload, **fields), Client(ip="127.0.0.1", user_agent="tests"))
    return Links(f"{base_url}/p/{created.url_token}", f"{base_url}/manage/{created.manage_token}")


def wait_until_ready(page) -> None:
    """The page is connected to the server (its state hydrated)."""
    page.wait_for_selector("#app-ready", state="attached")


def create_through_form(
    page,
    base_url: str,
    secret: str,
    *,
    views: int | None = None,
    passphrase: str = "",
    name: str = "",
    note: str = "",
    retrieval_step: bool | None = None,
) -> Links:
    """Fill in the create form like a person and return the links from the share page."""
    page.goto(base_url + "/")
    wait_until_ready(page)
    page.wait_for_selector("#payload")
    page.fill("#payload", secret)
    if views is not None:
        page.fill("#expire_after_views", str(views))
    if passphrase:
        page.fill("#passphrase", passphrase)
    if name:
        page.fill("#name", name)
    if note:
        page.fill("#note", note)
    if retrieval_step is not None:
        switch = page.locator("button.retrieval_step")
        if (switch.get_attribute("aria-checked") == "true") != retrieval_step:
            switch.click()
            page.wait_for_function(
                f"() => document.querySelector('button.retrieval_step').getAttribute('aria-checked') === '{str(retrieval_step).lower()}'"
            )
    page.click("#create")
    page.wait_for_selector("#share-link")
    # The links arrive as event results, a moment apart from the section becoming visible.
    page.wait_for_function("() => ['share-link', 'share-message', 'share-manage'].every(id => document.getElementById(id).value.length > 0)")
    return Links(page.input_value("#share-link"), page.input_value("#share-manage"))


def submit_sign_up(page, email: str, password: str = PASSWORD) -> None:
    """Fill and send the sign-up form already on the page; wait for the dashboard."""
    page.fill("#email", email)
    page.fill("#password", password)
    page.fill("#password_confirmation", password)
    page.click("#sign-up")
    page.wait_for_url("**/dashboard**")
    wait_until_ready(page)


def sign_up(page, base_url: str, email: str, password: str = PASSWORD) -> None:
    page.goto(base_url + "/signup")
    wait_until_ready(page)
    submit_sign_up(page, email, password)


def submit_log_in(page, email: str, password: str = PASSWORD, lands_on: str = "**/dashboard**") -> None:
    """Fill and send the login form already on the page; wait for where it leads
    (the dashboard, or the second step's page)."""
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#log-in")
    page.wait_for_url(lands_on)
    wait_until_ready(page)


def log_in(page, base_url: str, email: str, password: str = PASSWORD) -> None:
    page.goto(base_url + "/login")
    wait_until_ready(page)
    submit_log_in(page, email, password)


def reveal_in(page, link: str, passphrase: str = "") -> str:
    """Open the link, press Reveal, return the revealed secret (the read-only field's value)."""
    page.goto(link)
    page.wait_for_selector("#reveal")
    if passphrase:
        page.fill("#passphrase", passphrase)
    page.click("#reveal")
    return wait_for_secret(page)


def wait_for_secret(page) -> str:
    page.wait_for_function("() => { const box = document.getElementById('secret-box'); return box && box.value.length > 0 }")
    return page.input_value("#secret-box")


def _set_viewport(page, viewport: dict) -> None:
    if page.viewport_size != viewport:
        page.set_viewport_size(viewport)
        page.wait_for_timeout(250)  # a full-page shot right after a resize may miss paint


def screenshot(page, name: str) -> None:
    """The page at phone and laptop width (laptop only unless EVERY_SHOT), for a person to
    look at (test-artifacts/screenshots); the page is left at laptop width."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^a-z0-9-]+", "-", name.lower())
    for label, viewport in (("phone", PHONE), ("laptop", LAPTOP)) if EVERY_SHOT else (("laptop", LAPTOP),):
        _set_viewport(page, viewport)
        page.screenshot(path=str(SCREENSHOTS / f"{safe}-{label}.png"), full_page=True)


# Run before the page's own scripts: keeps a handle on every websocket the page opens
# (Reflex's event channel), as any script on the page could, so a test can close it (a
# network drop: Reflex reconnects) or send a frame of its own (a crafted event).
SOCKET_SPY = """(() => {
  const Native = window.WebSocket;
  window.__sockets = [];
  window.WebSocket = class extends Native {
    constructor(...args) { super(...args); window.__sockets.push(this); }
  };
})();"""


class EventChannel:
    """The page's websockets and every frame they received, by socket in opening order."""

    def __init__(self, page):
        self.page = page
        self.frames: list[list[str]] = []
        page.add_init_script(SOCKET_SPY)
        page.on("websocket", self._opened)

    def _opened(self, socket) -> None:
        received: list[str] = []
        self.frames.append(received)
        socket.on("framereceived", lambda frame: received.append(str(frame)))

    @staticmethod
    def deltas(frames: list[str]) -> list[dict]:
        """The state changes the server sent in these frames."""
        found = []
        for frame in frames:
            if frame.startswith("42"):
                message = json.loads(frame[frame.index("["):])[1]
                if isinstance(message, dict) and message.get("delta"):
                    found.append(message["delta"])
        return found

    def wait_until(self, condition, what: str, timeout_s: float = 30) -> None:
        for _ in range(int(timeout_s * 20)):
            if condition():
                return
            self.page.wait_for_timeout(50)
        raise AssertionError(f"never happened: {what}")

    def force_reconnect(self) -> list[str]:
        """Close the page's websocket as a network drop would, wait until Reflex has connected
        again and finished hydrating (its page load events included); return the new
        socket's frames."""
        before = len(self.frames)
        self.page.evaluate("() => window.__sockets.forEach(socket => socket.close())")
        self.wait_until(lambda: len(self.frames) > before, "a new websocket")
        fresh = self.frames[-1]
        # Reflex sets is_hydrated once the page's on_load handlers have run.
        self.wait_until(
            lambda: any(changes.get("is_hydrated_rx_state_") is True for delta in self.deltas(fresh) for changes in delta.values()),
            "the reconnected page hydrated",
        )
        wait_until_ready(self.page)
        return fresh

    def send_event(self, name: str, payload: dict | None = None, path: str | None = None) -> None:
        """Send an event of our own making over the page's live websocket, as Reflex's client
        would (`name` in full: state path and handler), for the page at `path`."""
        path = path or self.page.evaluate("() => location.pathname")
        event = {"name": name, "payload": payload or {}, "router_data": {"pathname": path, "asPath": path}}
        self.page.evaluate(
            "frame => window.__sockets.filter(s => s.readyState === WebSocket.OPEN).at(-1).send(frame)",
            "42/_event," + json.dumps(["event", event]),
        )


PHONE_390 = {"width": 390, "height": 844}


def screenshots(page, name: str) -> None:
    """The page at 1280 and 390 px wide, light and dark (1280 light only unless EVERY_SHOT;
    test-artifacts/screenshots), for a person to look at; the page is left in light mode at
    1280 px."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^a-z0-9-]+", "-", name.lower())
    for scheme in ("dark", "light") if EVERY_SHOT else ("light",):
        page.emulate_media(color_scheme=scheme)
        for label, viewport in (("390", PHONE_390), ("1280", LAPTOP)) if EVERY_SHOT else (("1280", LAPTOP),):
            _set_viewport(page, viewport)
            page.screenshot(path=str(SCREENSHOTS / f"{safe}-{label}-{scheme}.png"), full_page=True)


def signed_up_on(page, base_url: str, email: str, path: str, then=lambda: None) -> "EventChannel":
    """A new account signed up in this page, which then (after `then()`, e.g. make-admin)
    opens `path`; the page's event channel (watching from before the sign-up) to send
    crafted events on."""
    channel = EventChannel(page)
    sign_up(page, base_url, email)
    then()
    page.goto(base_url + path)
    wait_until_ready(page)
    return channel


# --- end-to-end pushes' checks (issue 20) ---------------------------------------------------------


class Wire:
    """Everything a page sends and receives: websocket frames, and each request's URL,
    headers and body."""

    def __init__(self, page):
        self.seen: list[str] = []
        page.on("websocket", self._socket)
        page.on("request", self._request)

    def _socket(self, socket) -> None:
        socket.on("framesent", lambda frame: self.seen.append(str(frame)))
        socket.on("framereceived", lambda frame: self.seen.append(str(frame)))

    def _request(self, request) -> None:
        body = request.post_data_buffer or b""
        self.seen.append(f"{request.url}\n{request.headers}\n{body.decode('latin-1')}")

    def carrying(self, needle: str) -> list[str]:
        return [item for item in self.seen if needle in item]


def key_encodings(key: str) -> list[str]:
    """The fragment key as text, standard base64 and hex: none may appear anywhere."""
    raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    return [key, base64.b64encode(raw).decode().rstrip("="), raw.hex()]


def assert_nowhere(live_server, wires: list[Wire], secrets_: list[str]) -> None:
    for wire in wires:
        assert wire.seen, "the pages should have talked to the server"
        for needle in secrets_:
            assert wire.carrying(needle) == [], needle
    log = live_server.log_text()
    for place in (ROOT / ".states", live_server.data_dir):
        for path in Path(place).rglob("*") if Path(place).exists() else []:
            if path.is_file():
                data = path.read_bytes()
                for needle in secrets_:
                    assert needle.encode() not in data, (path, needle)
    for needle in secrets_:
        assert needle not in log


def qr_texts(svg_data_uri: str) -> list[str]:
    """What a phone reads from a QR code the browser drew (the qrcode library's SVG, as a
    base64 data URI: its dark modules as horizontal strokes, `M x y.5` starting a row, `m n 0`
    skipping n modules, `h n` drawing n), rasterised and decoded by zxing-cpp."""
    import zxingcpp

    svg = base64.b64decode(svg_data_uri.split(",", 1)[1]).decode()
    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg)[1])
    strokes = re.search(r'<path stroke="[^"]*" d="([^"]*)"', svg)[1]
    dark, x, y = set(), 0, 0
    for command, first, second in re.findall(r"([Mmh])(\d+)(?: (\d+(?:\.\d+)?))?", strokes):
        if command == "M":
            x, y = int(first), int(float(second))
        elif command == "m":
            x += int(first)
        else:
            dark.update((x + i, y) for i in range(int(first)))
            x += int(first)
    scale = 4  # pixels a module
    side = size * scale
    pixels = bytes(0 if (col // scale, row // scale) in dark else 255 for row in range(side) for col in range(side))
    image = memoryview(pixels).cast("B", (side, side))
    # QR codes only: with every format, zxing now and then also reads a short ITF code in the picture.
    return [code.text for code in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]
