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
from pwpush_app.ui.components.audit_words import EXPIRED_REASONS, duration_words, iso_moment
from pwpush_app.ui.components.browser_pushes import (
    forget_all_pushes,
    forget_push,
    manage_tokens_of_this_browser,
    push_statuses,
    remembered_pushes,
    statuses_event,
)
from pwpush_app.ui.components.layout import page_shell
from pwpush_app.ui.i18n import N_, local_time, t, t_var

POLL_MS = 5000
UNNAMED = {"text": N_("Unnamed text push"), "file": N_("Unnamed file push"), "url": N_("Unnamed URL push"),
           "qr": N_("Unnamed QR code push")}
GONE = {"status": N_("No longer on the server"), "detail": N_("Its record was deleted after it expired."), "live": "",
        "facts": {"gone": "yes"}}


def push_status(push: Push, now) -> dict:
    """What My pushes says of one push: its state, and views and time (or why it ended), in
    English and as facts the page words in the visitor's language (`_status_words`)."""
    kind = KIND_LABELS.get(push.kind, push.kind)
    views = f"{push.views_used} of {plural(push.expire_after_views, 'view')} used"
    facts = {"kind": push.kind, "used": str(push.views_used), "total": str(push.expire_after_views)}
    if push.expired:
        reason = EXPIRED_REASONS.get(push.expired_reason or "", N_("expired"))
        facts |= {"ended": iso_moment(push.expired_at), "reason": reason}
        return {"status": f"{kind} · Expired", "detail": f"{views} · ended {format_time(push.expired_at)}: {reason}",
                "live": "", "facts": facts}
    facts["left"] = str(max(0, int(push.time_left(now).total_seconds())))
    return {"status": f"{kind} · Active", "detail": f"{views} · {describe_duration(push.time_left(now))} left",
            "live": "yes", "facts": facts}


def _status_words(row: rx.Var) -> tuple[rx.Component, rx.Component]:
    """(the badge, the detail line) in the visitor's language."""
    facts = row["facts"].to(dict)
    kind = rx.match(facts["kind"].to(str), ("text", t("Text")), ("file", t("Files")), ("url", t("URL")),
                    ("qr", t("QR code")), facts["kind"].to(str))
    views = rx.cond(facts["total"].to(str) == "1", t("{used} of 1 view used", used=facts["used"]),
                    t("{used} of {total} views used", used=facts["used"], total=facts["total"]))
    live = row["live"] != ""
    gone = facts["gone"].to(str) == "yes"
    badge = rx.cond(gone, t("No longer on the server"),
                    rx.fragment(kind, " · ", rx.cond(live, t("Active"), t("Expired"))))
    detail = rx.cond(
        gone, t("Its record was deleted after it expired."),
        rx.fragment(views, " · ", rx.cond(
            live,
            t("{duration} left", duration=duration_words(facts["left"].to(int))),
            t("ended {time}: {reason}", time=local_time(facts["ended"]), reason=t_var(facts["reason"].to(str))))))
    return badge, detail


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
        return statuses_event({token: push_status(found[token], now) if token in found else GONE for token in tokens})


def _push_row(row: rx.Var) -> rx.Component:
    badge, detail = _status_words(row)
    return rx.card(
        rx.hstack(
            rx.vstack(
                rx.link(
                    # Unnamed pushes are told apart by kind and creation time.
                    rx.cond(row["name"] != "", row["name"],
                            t_var(rx.Var.create(UNNAMED).to(dict)[row["kind"]].to(str) | "Unnamed push")),
                    href="/manage/" + row["manage_token"].to(str),
                    weight="medium",
                ),
                rx.cond(
                    row["status"] != "",
                    rx.vstack(
                        rx.badge(badge, color_scheme=rx.cond(row["live"] != "", "green", "gray"), variant="soft",
                                 class_name="my-push-status"),
                        rx.text(detail, size="1", class_name="my-push-detail"),
                        spacing="1",
                    ),
                ),
                rx.text(rx.cond(row["live"] != "",
                                t("Created {created} · expires {expires}", created=local_time(row["created"]),
                                  expires=local_time(row["expires"])),
                                t("Created {created}", created=local_time(row["created"]))),
                        size="1", color_scheme="gray"),
                spacing="1",
                min_width="0",
            ),
            rx.spacer(),
            rx.icon_button(
                rx.icon("x", size=16),
                variant="ghost",
                color_scheme="gray",
                aria_label=t("Forget this push in this browser"),
                title=t("Forget in this browser"),
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
        # (page_shell's own heading takes plain text; these are in the visitor's language)
        rx.heading(t("My pushes"), as_="h1", size="7", weight="bold"),
        rx.text(t("Pushes created in this browser. Open one to see its audit log or expire it. "
                  "This list lives only in this browser."), size="3", color_scheme="gray"),
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
                    t("Forget all in this browser"),
                    variant="ghost",
                    color_scheme="gray",
                    size="1",
                    on_click=forget_all_pushes(),
                ),
                width="100%",
                spacing="2",
            ),
            rx.callout(
                t("This browser has not created any pushes yet (or its list was cleared)."),
                icon="info",
                color_scheme="gray",
                width="100%",
            ),
        ),
        languages=True,
    )
