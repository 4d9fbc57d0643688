"""My pushes (`/my-pushes`): the pushes this browser created, kept in its local storage.

Only what the creator needs to find a push again is remembered: its name, its kind, when
it was made, when it expires and its manage token. Never the secret, never the secret
link. The list lives in the browser only: the page's own script reads and writes it
(components/browser_pushes.py); no state var holds it.

Each push's live status (active with views and time left, or expired and why) comes from
the server, as the dashboard's does: the page sends the list's manage tokens (an event
argument) when it opens and every few seconds, and the answer is an event result kept
beside the list in the page's memory (`statuses_event`), never state.
"""

from __future__ import annotations

import reflex as rx

from pwpush_app.core.clock import utcnow
from pwpush_app.core.errors import ServerBusy
from pwpush_app.core.models import Push
from pwpush_app.core.owners import pushes_of_manage_tokens
from pwpush_app.ui.common import KIND_LABELS, describe_duration, format_time, in_thread, plural, runtime
from pwpush_app.ui.components.audit_words import EXPIRED_REASONS
from pwpush_app.ui.components.browser_pushes import (
    forget_all_pushes,
    forget_push,
    manage_tokens_of_this_browser,
    push_statuses,
    remembered_pushes,
    statuses_event,
)
from pwpush_app.ui.components.layout import page_shell

POLL_MS = 5000
UNNAMED = {"text": "Unnamed text push", "file": "Unnamed file push", "url": "Unnamed URL push", "qr": "Unnamed QR code push"}


def push_status(push: Push, now) -> dict[str, str]:
    """What My pushes says of one push: its state, and views and time (or why it ended)."""
    kind = KIND_LABELS.get(push.kind, push.kind)
    views = f"{push.views_used} of {plural(push.expire_after_views, 'view')} used"
    if push.expired:
        reason = EXPIRED_REASONS.get(push.expired_reason or "", "expired")
        return {"status": f"{kind} · Expired", "detail": f"{views} · ended {format_time(push.expired_at)}: {reason}",
                "live": ""}
    return {"status": f"{kind} · Active", "detail": f"{views} · {describe_duration(push.time_left(now))} left",
            "live": "yes"}


class MyPushesState(rx.State):
    @rx.event
    async def refresh(self, manage_tokens: list[str], _tick: str = ""):
        """`manage_tokens`: this browser's list, read at the event (never state)."""
        tokens = [t for t in manage_tokens if isinstance(t, str)] if isinstance(manage_tokens, list) else []
        if not tokens:
            return
        try:
            found = await in_thread(pushes_of_manage_tokens, runtime(), tokens)
        except ServerBusy:
            return
        now = utcnow()
        gone = {"status": "No longer on the server", "detail": "Its record was deleted after it expired.", "live": ""}
        return statuses_event({token: push_status(found[token], now) if token in found else gone for token in tokens})


def _push_row(row: rx.Var) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.vstack(
                rx.link(
                    # Unnamed pushes are told apart by kind and creation time.
                    rx.cond(row["name"] != "", row["name"], rx.Var.create(UNNAMED).to(dict)[row["kind"]].to(str) | "Unnamed push"),
                    href="/manage/" + row["manage_token"].to(str),
                    weight="medium",
                ),
                rx.cond(
                    row["status"] != "",
                    rx.vstack(
                        rx.badge(row["status"], color_scheme=rx.cond(row["live"] != "", "green", "gray"), variant="soft",
                                 class_name="my-push-status"),
                        rx.text(row["detail"], size="1", class_name="my-push-detail"),
                        spacing="1",
                    ),
                ),
                rx.text("Created ", row["created"], rx.cond(row["live"] != "", " · expires " + row["expires"].to(str), ""),
                        size="1", color_scheme="gray"),
                spacing="1",
                min_width="0",
            ),
            rx.spacer(),
            rx.icon_button(
                rx.icon("x", size=16),
                variant="ghost",
                color_scheme="gray",
                aria_label="Forget this push in this browser",
                title="Forget in this browser",
                on_click=forget_push(row["manage_token"].to(str)),
            ),
            align="center",
            width="100%",
        ),
        width="100%",
        class_name="my-push",
    )


def my_pushes_page() -> rx.Component:
    return page_shell(
        push_statuses(),
        rx.fragment(on_mount=MyPushesState.refresh(manage_tokens_of_this_browser)),
        # Live, as the dashboard: each tick asks again.
        rx.moment(interval=POLL_MS, format="HH:mm:ss", display="none", aria_hidden="true",
                  on_change=lambda tick: MyPushesState.refresh(manage_tokens_of_this_browser, tick)),
        rx.cond(
            remembered_pushes.length() > 0,
            rx.vstack(
                rx.foreach(remembered_pushes, _push_row),
                rx.button(
                    "Forget all in this browser",
                    variant="ghost",
                    color_scheme="gray",
                    size="1",
                    on_click=forget_all_pushes(),
                ),
                width="100%",
                spacing="2",
            ),
            rx.callout(
                "This browser has not created any pushes yet (or its list was cleared).",
                icon="info",
                color_scheme="gray",
                width="100%",
            ),
        ),
        heading="My pushes",
        subheading="Pushes created in this browser. Open one to see its audit log or expire it. "
        "This list lives only in this browser.",
    )
