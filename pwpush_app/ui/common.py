"""What every page state needs: who is asking, the runtime, times shown to people.

Core functions are synchronous (database, Argon2): page events run them in threads of
their own pool, so one slow call doesn't stall every other browser's events, and the
event loop's default executor (6 threads on 2 cores, shared with Reflex) is never what a
reveal waits for.  Argon2 itself is bounded by the core (`core.hashing`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import re
from datetime import datetime, timedelta, timezone
from typing import Callable, TypeVar

import reflex as rx

from pwpush_app.core import links
from pwpush_app.core.audit import Client
from pwpush_app.core.clock import utcnow
from pwpush_app.core.errors import ServerBusy
from pwpush_app.core.i18n import N_
from pwpush_app.core.network import client_ip
from pwpush_app.core.runtime import Runtime, get_runtime

T = TypeVar("T")

# English (shown through `t_var`, so each reads in the visitor's language).
KIND_LABELS = {"text": N_("Text"), "file": N_("Files"), "url": N_("URL"), "qr": N_("QR code")}
# Kinds this web app can create and show (each still only when its setting enables it).
UI_KINDS = ("text", "file", "url", "qr")

BUSY_MESSAGE = N_("The service is busy right now. Please try again in a moment.")


def busy_or_said(refusal: Exception) -> str:
    """What a page shows for a refusal: its own words, or for a busy server (the database or
    Redis out of reach) the busy message, never the technical reason it carries for the log."""
    return BUSY_MESSAGE if isinstance(refusal, ServerBusy) else str(refusal)


def client_of(state: rx.State) -> Client:
    """The person behind an event: IP, user agent, referrer.

    The IP is resolved by the API's rule (core/network.client_ip: PWP__TRUSTED_PROXIES as
    hops or as proxy networks) from what the websocket's connect gave Reflex: its peer and
    its X-Forwarded-For header.  Reflex applies no hops of its own (rxconfig.py leaves
    trusted_proxy_hops at 0), so its session.client_ip is the ASGI scope's client, the
    socket's peer.  (Reflex 0.10 also copies that peer into the headers as
    "asgi-scope-client", but a browser may send a header of that name, which stays when the
    scope names no client.)  An upload's handler runs with the router of the page's
    websocket: an upload request brings no router data, so its client is the same."""
    router = state.router
    settings = runtime().settings
    return Client(
        ip=client_ip(router.session.client_ip, router.headers.raw_headers.get("x-forwarded-for"),
                     settings.trusted_proxy_hops, settings.trusted_proxies),
        user_agent=router.headers.user_agent or "",
        referrer=router.headers.raw_headers.get("referer", ""),
    )


def site_base_url(state: rx.State) -> str:
    """Where this page's links start: the configured base URL, or the address the browser
    opened the site at (the page's origin), when its host is allowed (links.base_url_for)."""
    return links.base_url_for(runtime().settings, state.router.url.origin)


# Enough threads that the bounded Argon2 callers (slots plus waiters) leave most free.
CORE_THREADS = 64
_core_pool = concurrent.futures.ThreadPoolExecutor(max_workers=CORE_THREADS, thread_name_prefix="core")


async def in_thread(function: Callable[..., T], *args, **kwargs) -> T:
    """Run a core call (blocking I/O and hashing) off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(_core_pool, functools.partial(function, *args, **kwargs))


def runtime() -> Runtime:
    return get_runtime()


def format_time(moment: datetime | None) -> str:
    """'2 Dec 2026, 11:30 UTC': unambiguous for sender and recipient in any time zone."""
    if moment is None:
        return ""
    moment = moment.astimezone(timezone.utc)
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"


def describe_time_left(expires_at: datetime, now: datetime | None = None) -> str:
    """'3 days 4 hours', '12 minutes', 'less than a minute'."""
    return describe_duration(expires_at - (now or utcnow()))


def describe_duration(span: timedelta) -> str:
    """'3 days 4 hours', '12 minutes', 'less than a minute'; 'none' for nothing left."""
    seconds = int(span.total_seconds())
    if seconds <= 0:
        return "none"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = []
    for amount, unit in ((days, "day"), (hours, "hour"), (minutes, "minute")):
        if amount:
            parts.append(f"{amount} {unit}{'s' if amount != 1 else ''}")
    return " ".join(parts[:2]) or "less than a minute"


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def form_text(form_data: dict, field: str) -> str:
    """A text field of a submitted form; a control that isn't on the page arrives as null."""
    value = form_data.get(field)
    return value if isinstance(value, str) else ""


def form_whole_number(text) -> int | str:
    """An int when the field holds one; otherwise the raw text, which the core refuses with its message."""
    text = str(text or "").strip()
    return int(text) if re.fullmatch(r"\d{1,9}", text) else text
