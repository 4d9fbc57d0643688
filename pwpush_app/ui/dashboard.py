"""The dashboard (`/dashboard`): a logged-in user's own pushes, active or expired.

Newest first, ten a page, searchable by name; each row shows views used and left, time
left, and offers copy link, expire now and the audit log.  The page polls every few
seconds (an `rx.moment` timer firing `poll`), so a view that happens elsewhere appears
without a reload; `dashboard_snapshot` is the whole cost of one poll (see docs/web-app.md).

Every action re-resolves the user from the session cookie and checks ownership in the
core (`owned_push`): a push id from a crafted event finds nothing that isn't yours.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import reflex as rx

from pwpush_app.core import links
from pwpush_app.core.clock import utcnow
from pwpush_app.core.errors import PushUnavailable, ServerBusy
from pwpush_app.core.owners import (
    audit_trail,
    claim_pushes,
    count_pushes_of_owner,
    expire_by_owner,
    owned_push,
    owner_view,
    pushes_of_owner,
)
from pwpush_app.core.records import open_link_token
from pwpush_app.core.runtime import Runtime
from pwpush_app.settings import get_settings
from pwpush_app.ui.common import (
    BUSY_MESSAGE,
    KIND_LABELS,
    client_of,
    describe_duration,
    format_time,
    in_thread,
    plural,
    runtime,
)
from pwpush_app.ui.components.audit_words import EXPIRED_REASONS, describe_event
from pwpush_app.ui.components.browser_pushes import manage_tokens_of_this_browser, remembered_pushes
from pwpush_app.ui.components.fields import copy_button
from pwpush_app.ui.components.layout import page_shell
from pwpush_app.ui.session import current_user

PER_PAGE = 10
LINK_BOX = "dash-link"
POLL_MS = 3000
TABS = ("active", "expired")


@dataclass
class Snapshot:
    rows: list[dict[str, str]]
    total: int
    audit: list[dict[str, str]] = field(default_factory=list)


def _row(push, now) -> dict[str, str]:
    if push.expired:
        status = f"Expired {format_time(push.expired_at)}: {EXPIRED_REASONS.get(push.expired_reason or '', 'expired')}"
    else:
        status = "Active"
    return {
        "id": push.id,
        "name": push.name or "Unnamed push",
        "kind": KIND_LABELS.get(push.kind, push.kind),
        "created": format_time(push.created_at),
        "views": f"{plural(push.views_used, 'view')} used, {push.views_left} left",
        "time_left": describe_duration(push.time_left(now)),
        "status": status,
        "active": "" if push.expired else "yes",
    }


def _audit_rows(events) -> list[dict[str, str]]:
    return [
        {"time": format_time(e.created_at), "event": describe_event(e.kind, e.actor), "ip": e.ip or "–",
         "user_agent": e.user_agent or "–"}
        for e in events
    ]


def dashboard_snapshot(runtime: Runtime, user_id: str, tab: str, page: int, search: str, open_id: str = "") -> Snapshot:
    """Everything the dashboard shows for one user, tab and page (one poll's worth of work)."""
    now = utcnow()
    expired = tab == "expired"
    found = pushes_of_owner(runtime, user_id, expired=expired, page=page, per_page=PER_PAGE, now=now,
                                   name_contains=search)
    total = count_pushes_of_owner(runtime, user_id, expired=expired, name_contains=search)
    audit = []
    if open_id and any(p.id == open_id for p in found):
        audit = _audit_rows(audit_trail(runtime, next(p for p in found if p.id == open_id)))
    return Snapshot(rows=[_row(p, now) for p in found], total=total, audit=audit)


class DashboardState(rx.State):
    tab: str = "active"
    page: int = 1
    search: str = ""
    rows: list[dict[str, str]] = []
    total: int = 0
    open_id: str = ""
    audit: list[dict[str, str]] = []
    message: str = ""
    # What the last action did ("" for nothing); server events can't raise toasts under our CSP.
    notice: str = ""
    # The name of the push whose secret link is in the link panel ("" hides the panel).
    link_for: str = ""
    loaded: bool = False
    # The claim offer goes away once this browser's pushes were moved.
    claimed: bool = False

    @rx.var
    def pages(self) -> int:
        return max(1, math.ceil(self.total / PER_PAGE))

    async def _user_or_login(self):
        user = await current_user(self)
        if user is None:
            self.rows, self.audit, self.total, self.loaded = [], [], 0, False
        return user

    async def _refresh(self, user_id: str) -> None:
        try:
            snap = await in_thread(dashboard_snapshot, runtime(), user_id, self.tab, self.page, self.search, self.open_id)
        except ServerBusy:
            self.message = BUSY_MESSAGE
            return
        if snap.total and not snap.rows and self.page > 1:  # the page emptied (pushes expired): go back one
            self.page = max(1, math.ceil(snap.total / PER_PAGE))
            snap = await in_thread(dashboard_snapshot, runtime(), user_id, self.tab, self.page, self.search, self.open_id)
        self.rows, self.total, self.loaded = snap.rows, snap.total, True
        if self.open_id and not snap.audit and not any(r["id"] == self.open_id for r in snap.rows):
            self.open_id = ""
        self.audit = snap.audit

    @rx.event
    async def load(self):
        self.message, self.notice, self.link_for, self.open_id, self.audit = "", "", "", "", []
        user = await self._user_or_login()
        if user is None:
            return rx.redirect("/login")
        await self._refresh(user.id)

    @rx.event
    async def poll(self, _tick: str = ""):
        if not self.loaded:
            return
        user = await self._user_or_login()
        if user is None:
            return rx.redirect("/login")
        await self._refresh(user.id)

    @rx.event
    async def choose_tab(self, tab: str | list[str]):
        if not isinstance(tab, str) or tab not in TABS:
            return
        self.tab, self.page, self.open_id = tab, 1, ""
        return DashboardState.poll

    @rx.event
    async def set_search(self, text: str):
        self.search, self.page = str(text)[:255], 1
        return DashboardState.poll

    @rx.event
    async def go_to_page(self, page: int):
        self.page = min(max(1, int(page)), self.pages)
        return DashboardState.poll

    def _client(self, user_id: str):
        return dataclasses.replace(client_of(self), user_id=user_id)

    async def _owned(self, push_id: str):
        user = await self._user_or_login()
        if user is None:
            return None, rx.redirect("/login")
        try:
            return (user, await in_thread(owned_push, runtime(), user.id, push_id)), None
        except PushUnavailable:
            self.notice = "That push is not one of yours."
            return None, None

    @rx.event
    async def toggle_audit(self, push_id: str):
        if self.open_id == push_id:
            self.open_id, self.audit = "", []
            return
        found, refusal = await self._owned(push_id)
        if found is None:
            return refusal
        user, push = found
        managed = await in_thread(owner_view, runtime(), push, self._client(user.id))
        self.open_id, self.audit = push.id, _audit_rows(managed.events)

    @rx.event
    async def expire(self, push_id: str):
        found, refusal = await self._owned(push_id)
        if found is None:
            return refusal
        user, push = found
        await in_thread(expire_by_owner, runtime(), push, self._client(user.id))
        await self._refresh(user.id)
        self.notice, self.link_for = "Expired: the secret is deleted.", ""
        return rx.set_value(LINK_BOX, "")

    @rx.event
    async def copy_link(self, push_id: str):
        found, refusal = await self._owned(push_id)
        if found is None:
            return refusal
        _user, push = found
        token = await in_thread(open_link_token, runtime(), push)
        if token is None:
            self.notice, self.link_for = "This push has expired: its link no longer works.", ""
            return
        self.notice, self.link_for = "", push.name or "Unnamed push"
        # Into the panel's field as an event result: the secret link never sits in state.
        return rx.set_value(LINK_BOX, links.secret_link(get_settings(), token))

    @rx.event
    async def claim(self, manage_tokens: list[str]):
        """The manage tokens come from this browser's local storage, read at the click: they
        are this event's argument only, never state."""
        user = await self._user_or_login()
        if user is None:
            return rx.redirect("/login")
        tokens = [token for token in manage_tokens if isinstance(token, str)] if isinstance(manage_tokens, list) else []
        claimed = await in_thread(claim_pushes, runtime(), user.id, tokens)
        self.claimed = True
        await self._refresh(user.id)
        self.notice = (f"{claimed} {'push' if claimed == 1 else 'pushes'} from this browser moved into your account."
                       if claimed else "No push of this browser was left to move.")


# --- the page ---------------------------------------------------------------------------------------

def _audit_list() -> rx.Component:
    return rx.vstack(
        rx.foreach(
            DashboardState.audit,
            lambda e: rx.box(
                rx.text(e["time"], " · ", rx.text.strong(e["event"]), size="1"),
                rx.text(e["ip"], " · ", e["user_agent"], size="1", color_scheme="gray", word_break="break-all"),
                class_name="dash-audit-row",
                width="100%",
            ),
        ),
        spacing="2",
        width="100%",
        padding_top="0.5rem",
        border_top="1px solid var(--gray-a5)",
    )


def _push_row(row: rx.Var) -> rx.Component:
    active = row["active"] != ""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(row["name"], weight="bold", size="3", class_name="dash-name", min_width="0", word_break="break-word"),
                rx.badge(row["kind"], variant="soft", color_scheme="gray"),
                rx.spacer(),
                rx.text("Created ", row["created"], size="1", color_scheme="gray"),
                align="center",
                wrap="wrap",
                width="100%",
            ),
            rx.hstack(
                rx.text(row["views"], size="2", class_name="dash-views"),
                rx.text("·", size="2", color_scheme="gray"),
                rx.cond(active, rx.text(row["time_left"], " left", size="2", class_name="dash-time"),
                        rx.text(row["status"], size="2", color_scheme="gray", class_name="dash-status")),
                wrap="wrap",
                spacing="2",
            ),
            rx.hstack(
                rx.cond(active, rx.button(rx.icon("link", size=14, aria_hidden="true"), "Copy link", size="1", variant="soft",
                                          class_name="dash-copy", on_click=DashboardState.copy_link(row["id"].to(str)))),
                rx.cond(active, rx.button(rx.icon("pencil", size=14, aria_hidden="true"), "Edit", size="1", variant="soft",
                                          class_name="dash-edit", on_click=rx.redirect("/dashboard/edit/" + row["id"].to(str)))),
                rx.cond(active, rx.button("Expire now", size="1", variant="soft", color_scheme="red", class_name="dash-expire",
                                          on_click=DashboardState.expire(row["id"].to(str)))),
                rx.button(rx.icon("scroll-text", size=14, aria_hidden="true"),
                          rx.cond(DashboardState.open_id == row["id"], "Hide audit log", "Audit log"), size="1",
                          variant="soft", color_scheme="gray", class_name="dash-audit-toggle",
                          on_click=DashboardState.toggle_audit(row["id"].to(str))),
                wrap="wrap",
                spacing="3",
            ),
            rx.cond(DashboardState.open_id == row["id"], _audit_list()),
            spacing="2",
            width="100%",
        ),
        width="100%",
        class_name="dash-push",
        data_push=row["id"],
    )


def _link_panel() -> rx.Component:
    """Always on the page (hidden when empty), so `copy_link` can fill its field."""
    return rx.card(
        rx.vstack(
            rx.text("Secret link of ", rx.text.strong(DashboardState.link_for), size="2"),
            rx.hstack(
                rx.el.input(id=LINK_BOX, read_only=True, aria_label="Secret link",
                            style={"flex": "1", "minWidth": "0", "padding": "0.4rem", "fontFamily": "monospace",
                                   "border": "1px solid var(--gray-a7)", "borderRadius": "var(--radius-2)",
                                   "background": "var(--color-surface)", "color": "var(--gray-12)"}),
                copy_button(LINK_BOX),
                width="100%",
            ),
            spacing="2",
            width="100%",
        ),
        display=rx.cond(DashboardState.link_for != "", "block", "none"),
        width="100%",
    )


def _pager() -> rx.Component:
    return rx.cond(
        DashboardState.pages > 1,
        rx.hstack(
            rx.button("Newer", size="1", variant="soft", disabled=DashboardState.page <= 1,
                      on_click=DashboardState.go_to_page(DashboardState.page - 1)),
            rx.text("Page ", DashboardState.page, " of ", DashboardState.pages, size="2"),
            rx.button("Older", size="1", variant="soft", disabled=DashboardState.page >= DashboardState.pages,
                      on_click=DashboardState.go_to_page(DashboardState.page + 1)),
            align="center",
            justify="center",
            width="100%",
        ),
    )


def dashboard_page() -> rx.Component:
    return page_shell(
        rx.cond(DashboardState.message != "", rx.callout(DashboardState.message, color_scheme="red", width="100%")),
        rx.hstack(
            rx.segmented_control.root(
                rx.segmented_control.item("Active", value="active"),
                rx.segmented_control.item("Expired", value="expired"),
                value=DashboardState.tab,
                on_change=DashboardState.choose_tab,
                id="dash-tabs",
            ),
            rx.input(placeholder="Search by name", aria_label="Search by name", id="dash-search", type="search",
                     on_change=DashboardState.set_search.debounce(300), flex="1", min_width="10rem"),
            wrap="wrap",
            width="100%",
            spacing="3",
        ),
        rx.cond(
            (remembered_pushes.length() > 0) & ~DashboardState.claimed,
            rx.callout(
                rx.hstack(
                    rx.text("This browser created pushes before you logged in.", size="2"),
                    rx.button("Move them into my account", size="1", id="dash-claim", color_scheme="iris",
                              on_click=DashboardState.claim(manage_tokens_of_this_browser)),
                    wrap="wrap", align="center", spacing="3",
                ),
                icon="info", color_scheme="gray", width="100%",
            ),
        ),
        rx.cond(DashboardState.notice != "",
                rx.callout(DashboardState.notice, icon="info", width="100%", id="dash-notice", role="status")),
        _link_panel(),
        rx.cond(
            DashboardState.rows.length() > 0,
            rx.vstack(rx.foreach(DashboardState.rows, _push_row), spacing="3", width="100%", id="dash-list"),
            rx.cond(
                DashboardState.loaded,
                rx.callout(rx.cond(DashboardState.search != "", "No push matches that name.",
                                   rx.cond(DashboardState.tab == "active", "No active pushes.", "No expired pushes.")),
                           icon="info", color_scheme="gray", width="100%", id="dash-empty"),
            ),
        ),
        _pager(),
        rx.text("Updates every few seconds. ", rx.link("API token", href="/api-token", underline="always"), " · ",
                rx.link("Account", href="/account", underline="always"), size="1", color_scheme="gray"),
        # The live update's timer: each tick asks the server for fresh rows.
        rx.moment(interval=POLL_MS, format="HH:mm:ss", on_change=DashboardState.poll, display="none", aria_hidden="true"),
        heading="Dashboard",
        subheading="Your pushes, newest first.",
    )
