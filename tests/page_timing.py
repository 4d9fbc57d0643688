"""Chromium as the tests launch it, and timing a page from inside it: shared by the browser
tests (tests/ui) and the browser benchmarks (bench/browser.py, bench/memory.py).

`install(context, button=..., secret=..., ready=...)` adds a script that runs in every
document of the context before the page's own scripts. It records, with the page's own
high-resolution clock (`performance.timeOrigin + performance.now()`, milliseconds since
the epoch, comparable across documents):

- `click`: the click on the reveal button, taken in a capture-phase listener on `window`
  (before any handler of the page) and kept in sessionStorage, so it survives the
  navigation of a reveal that is a form POST (SnapPass);
- `secret_dom`: the first moment the secret is in the document, laid out (`offsetParent`)
  and non-empty, checked after every DOM mutation and every animation frame;
- `secret_frame`: the first animation frame that finds it so: the frame that paints it;
- `ready_frame`: the first animation frame in which every `ready` selector is in the
  document and the first one is laid out (the reveal button can be pressed);
- `ws_open`, `ws_sent`, `ws_received`: the page's websocket (Reflex's event channel):
  when it opened, and the time and size of every frame sent and received; a received
  frame is also marked `delta` (state changes), `events` (event results, such as the
  `set_value` that carries the secret into its field) or `other`.

Our CSP forbids eval: everything handed to Playwright's `evaluate`/`wait_for_function`
here is a function, and the init script is injected by the browser's DevTools protocol.
"""

from __future__ import annotations

import json
import os

# Debian's Chromium: Playwright cannot download its own browsers here.
CHROMIUM = os.environ.get("PWPUSH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

_INIT = """
(config => {
  if (window.top !== window) return;
  const epoch = () => performance.timeOrigin + performance.now();
  const record = window.__timing = {ws_open: [], ws_sent: [], ws_received: []};
  const visible = el => el !== null && el.offsetParent !== null;
  const filled = el => el !== null && (el.value !== undefined ? el.value : el.textContent).length > 0;

  window.addEventListener('click', event => {
    if (event.target instanceof Element && event.target.closest(config.button)) {
      const now = epoch();
      record.click = now;
      sessionStorage.setItem('__timing_click', String(now));
    }
  }, true);

  const check = inFrame => {
    if (config.secret && !record.secret_frame) {
      const box = document.querySelector(config.secret);
      // Cheap tests first: layout is only forced once the secret is there.
      if (filled(box) && visible(box)) {
        const now = epoch();
        if (!record.secret_dom) record.secret_dom = now;
        if (inFrame) record.secret_frame = now;
      }
    }
    if (inFrame && config.ready.length && !record.ready_frame) {
      const found = config.ready.map(selector => document.querySelector(selector));
      if (found.every(el => el !== null) && visible(found[0])) record.ready_frame = epoch();
    }
  };
  new MutationObserver(() => check(false)).observe(document, {childList: true, subtree: true, attributes: true, characterData: true});
  // Frames are watched only until what was asked for has been seen.
  const done = () => (!config.secret || record.secret_frame) && (!config.ready.length || record.ready_frame);
  const frame = () => { check(true); if (!done()) requestAnimationFrame(frame); };
  requestAnimationFrame(frame);

  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('open', () => record.ws_open.push(epoch()));
      // Only the size and the kind of each frame are kept, never its content (it may be the secret).
      this.addEventListener('message', event => {
        const text = typeof event.data === 'string' ? event.data : '';
        const kind = text.includes('"events":[') ? 'events' : text.includes('"delta":') ? 'delta' : 'other';
        record.ws_received.push([epoch(), text ? text.length : (event.data.byteLength || event.data.size || 0), kind]);
      });
    }
    send(data) {
      record.ws_sent.push([epoch(), typeof data === 'string' ? data.length : (data.byteLength || data.size || 0)]);
      return super.send(data);
    }
  };
})
"""

# What the init script recorded in this document, and the click of the previous one.
_READ = """() => {
  const record = window.__timing || {};
  const stored = sessionStorage.getItem('__timing_click');
  return {...record, click: record.click || (stored === null ? null : Number(stored)), origin: performance.timeOrigin};
}"""

_SECRET_SHOWN = "() => Boolean(window.__timing && window.__timing.secret_frame)"
_READY = "() => Boolean(window.__timing && window.__timing.ready_frame)"

# Navigation timing and every resource of the document (milliseconds from navigation start).
_LOAD = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const resources = performance.getEntriesByType('resource').map(e => ({
    name: e.name, initiator: e.initiatorType, transfer: e.transferSize, encoded: e.encodedBodySize,
    decoded: e.decodedBodySize, start: e.startTime, end: e.responseEnd}));
  return {
    origin: performance.timeOrigin,
    document: {name: nav.name, transfer: nav.transferSize, encoded: nav.encodedBodySize, decoded: nav.decodedBodySize},
    response_end: nav.responseEnd, dom_content_loaded: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
    first_contentful_paint: (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime,
    resources,
  };
}"""


def install(target, *, button: str = "#reveal", secret: str | None = "#secret-box", ready: tuple[str, ...] = ()) -> None:
    """Time every document of `target`, a browser context or a page (see the module's docstring)."""
    config = {"button": button, "secret": secret, "ready": list(ready)}
    target.add_init_script(script=f"{_INIT}({json.dumps(config)});")


def recorded(page) -> dict:
    return page.evaluate(_READ)


def wait_for_secret(page, timeout_ms: float = 30_000) -> dict:
    """Wait until the secret has been painted; what was recorded (see `reveal_breakdown`)."""
    page.wait_for_function(_SECRET_SHOWN, timeout=timeout_ms)
    return recorded(page)


def wait_until_ready(page, timeout_ms: float = 30_000) -> dict:
    page.wait_for_function(_READY, timeout=timeout_ms)
    return recorded(page)


def load_figures(page) -> dict:
    return page.evaluate(_LOAD)


def reveal_breakdown(record: dict) -> dict:
    """Milliseconds from the click to the secret in the DOM and to the frame that paints it;
    for a page that reveals over its websocket, also to the event sent, to the first answer
    (the state change that shows the button busy) and to the frame with the event results."""
    click, shown = record["click"], record["secret_frame"]
    figures = {"click_to_visible_ms": shown - click, "click_to_dom_ms": record["secret_dom"] - click}
    sent = [t for t, _ in record.get("ws_sent", []) if t >= click]
    received = [(t, size, kind) for t, size, kind in record.get("ws_received", []) if click <= t <= shown]
    if sent:
        figures["click_to_ws_send_ms"] = sent[0] - click
    if received:
        figures["click_to_first_ws_reply_ms"] = received[0][0] - click
        results = [t for t, _, kind in received if kind == "events"]
        if results:
            figures["click_to_event_results_ms"] = results[-1] - click
        figures["ws_frames_received"] = len(received)
        figures["ws_bytes_received"] = sum(size for _, size, _ in received)
    return figures
