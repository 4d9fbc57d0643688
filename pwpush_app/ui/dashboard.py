"""The dashboard (`/dashboard`): a logged-in user's own pushes, active or expired.

Newest first, ten a page, searchable by name; each row shows views used and left, time
left, and offers copy link (one click: the link goes from the event's result straight to the
clipboard, `copy_on_arrival`), expire now (after a confirmation) and the audit log.  The page polls every few
seconds (an `rx.moment` timer firing `poll`), so a view that happens elsewhere appears
without a reload; `dashboard_snapshot` is the whole cost of one poll (see docs/web-app.md).

Every action re-resolves the user from the session cookie and checks ownership in the
core (`owned_push`): a push id from a crafted event finds nothing that isn't yours.
"""

from __future__ import annotations

import dataclasses
import math

import reflex as rx

from pwpush_app.core import links
from pwpush_app.core.e2e import LINK_NOT_KEPT
from pwpush_app.core.errors import PushUnavailable, ServerBusy
from pwpush_app.core.i18n import said
from pwpush_app.core.owners import (
    claim_pushes,
    count_claimable,
    expire_by_owner,
    owned_push,
    owner_view,
)
from pwpush_app.core.records import open_link_token
from pwpush_app.ui.common import (
    BUSY_MESSAGE,
    client_of,
    in_thread,
    runtime,
    site_base_url,
)
from pwpush_app.ui.components.audit_words import duration_words, lockout_text, name_list, user_agent_cell
from pwpush_app.ui.components.browser_pushes import manage_tokens_of_this_browser
from pwpush_app.ui.components.confirm import confirm_button
from pwpush_app.ui.components.copy_on_arrival import copy_on_arrival
from pwpush_app.ui.components.layout import page_shell
from pwpush_app.ui.components.requests_summary import requests_summary
from pwpush_app.ui.dashboard_data import PER_PAGE, audit_rows, dashboard_snapshot
from pwpush_app.ui.i18n import N_, local_time, refusal_text, sentences_of, stored_text, t, t_var
from pwpush_app.ui.session import current_user

COPY_PREFIX = "dash-copy-"
POLL_MS = 3000
TABS = ("active", "expired")


class DashboardState(rx.State):
    tab: str = "active"
    page: int = 1
    search: str = ""
    rows: list[dict[str, str]] = []
    total: int = 0
    open_id: str = ""
    audit: list[dict[str, str]] = []
    # Recipients locked out by wrong passphrases, each with its push's id ("push").
    lockouts: list[dict[str, str]] = []
    message: str = ""
    # What the last action did ("" for nothing); server events can't raise toasts under our CSP.
    notice: str = ""
    notice_sentences: list[dict] = []
    loaded: bool = False
    # How many of this browser's pushes (My pushes) belong to no account yet: the claim
    # offer shows only then (pushes created while logged in are already the account's).
    claimable: int = 0

    @rx.var
    def pages(self) -> int:
        return max(1, math.ceil(self.total / PER_PAGE))

    async def _user_or_login(self):
        user = await current_user(self)
        if user is None:
            self.rows, self.audit, self.lockouts, self.total, self.loaded = [], [], [], 0, False
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
        self.audit, self.lockouts = snap.audit, snap.lockouts

    @rx.event
    async def load(self):
        self.message, self.notice, self.open_id, self.audit = "", "", "", []
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
            self._tell(N_("That push is not one of yours."))
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
        self.open_id, self.audit = push.id, await in_thread(audit_rows, runtime(), managed.events)

    @rx.event
    async def expire(self, push_id: str):
        found, refusal = await self._owned(push_id)
        if found is None:
            return refusal
        user, push = found
        await in_thread(expire_by_owner, runtime(), push, self._client(user.id))
        await self._refresh(user.id)
        self._tell(said(N_("Expired “{name}”: the secret is deleted."), name=push.name or "–"))

    @rx.event
    async def copy_link(self, push_id: str):
        found, refusal = await self._owned(push_id)
        if found is None:
            return refusal
        _user, push = found
        if push.end_to_end:
            # The key was in the sender's browser only: a link without it opens nothing.
            self._tell(LINK_NOT_KEPT)
            return
        token = await in_thread(open_link_token, runtime(), push)
        if token is None:
            self._tell(N_("This push has expired: its link no longer works."))
            return
        self._tell("")
        # To the row's copier as an event result: the secret link never sits in state.
        return rx.set_value(COPY_PREFIX + push.id, links.secret_link(site_base_url(self), token))

    @rx.event
    async def check_claimable(self, manage_tokens: list[str]):
        """Asked once the page is on screen, with this browser's manage tokens (an event
        argument, never state)."""
        user = await self._user_or_login()
        tokens = [token for token in manage_tokens if isinstance(token, str)] if isinstance(manage_tokens, list) else []
        self.claimable = await in_thread(count_claimable, runtime(), tokens) if user and tokens else 0

    @rx.event
    async def claim(self, manage_tokens: list[str]):
        """The manage tokens come from this browser's local storage, read at the click: they
        are this event's argument only, never state."""
        user = await self._user_or_login()
        if user is None:
            return rx.redirect("/login")
        tokens = [token for token in manage_tokens if isinstance(token, str)] if isinstance(manage_tokens, list) else []
        claimed = await in_thread(claim_pushes, runtime(), user.id, tokens)
        self.claimable = 0
        await self._refresh(user.id)
        moved = (N_("1 push from this browser moved into your account.") if claimed == 1 else
                 said(N_("{count} pushes from this browser moved into your account."), count=claimed))
        self._tell(moved if claimed else N_("No push of this browser was left to move."))

    def _tell(self, text: str) -> None:
        """A notice (English, with its sentences when it has values: the page words it)."""
        self.notice, self.notice_sentences = str(text), sentences_of(text)


# --- the page ---------------------------------------------------------------------------------------

def _audit_event(event: rx.Var) -> rx.Component:
    """What happened; a mailed link says to whom and what became of the mail (a failure with
    the mail server's own reason)."""
    return rx.cond(
        event["mailed_to"] != "",
        rx.fragment(t("Link mailed to {address}: {status}", address=event["mailed_to"], status=t_var(event["mail_status"])),
                    rx.cond(event["mail_error"] != "",
                            rx.text(" (", stored_text(event["mail_error"], event["mail_error_sentences"]), ")", as_="span",
                                    weight="regular"))),
        t_var(event["event"]),
    )


def _group_words(row: rx.Var) -> rx.Component:
    """'Same secret for 3 recipients. Viewed by Alice. Not yet viewed by Bob and Carol.'"""
    return rx.text(
        t("Same secret for {count} recipients.", count=row["group_size"]), " ",
        rx.cond(row["group_viewed"] != "", t("Viewed by {names}.", names=name_list(row["group_viewed"])),
                t("Viewed by nobody yet.")),
        rx.cond(row["group_waiting"] != "",
                rx.text(" ", t("Not yet viewed by {names}.", names=name_list(row["group_waiting"])), as_="span")),
        rx.cond(row["group_closed"] != "",
                rx.text(" ", t("Expired unviewed: {names}.", names=name_list(row["group_closed"])), as_="span")),
        size="1", color_scheme="gray",
    )


def _name(row: rx.Var) -> rx.Var:
    """The sender's own name as typed; a name this app gave, in the viewer's language."""
    return rx.cond(row["name_given"] != "", t_var(row["name"]), row["name"]).to(str)


def _lockouts_of(row: rx.Var) -> rx.Component:
    return rx.foreach(DashboardState.lockouts, lambda lockout: rx.cond(
        lockout["push"] == row["id"],
        rx.hstack(rx.icon("lock", size=12, aria_hidden="true", flex_shrink="0", color="var(--amber-11)"),
                  rx.text(lockout_text(lockout), size="1", color_scheme="amber"),
                  spacing="1", align="start", class_name="dash-lockout"),
    ))


def _audit_list() -> rx.Component:
    return rx.vstack(
        rx.foreach(
            DashboardState.audit,
            lambda e: rx.box(
                rx.text(local_time(e["time"]), " · ", rx.text.strong(_audit_event(e)), size="1"),
                rx.hstack(rx.text(e["ip"], " · ", size="1", color_scheme="gray"),
                          rx.box(user_agent_cell(e), font_size="var(--font-size-1)"), spacing="1", align="start"),
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
                rx.text(rx.cond(row["name"] != "", _name(row), t("Unnamed push")), weight="bold", size="3", class_name="dash-name", min_width="0", word_break="break-word"),
                rx.badge(t_var(row["kind"]), variant="soft", color_scheme="gray"),
                rx.cond(row["recipient"] != "", rx.badge(t("For {recipient}", recipient=row["recipient"]), variant="soft",
                                                         color_scheme="blue",
                                                         class_name="dash-recipient")),
                rx.spacer(),
                rx.text(t("Created {time}", time=local_time(row["created"])), size="1", color_scheme="gray"),
                align="center",
                wrap="wrap",
                width="100%",
            ),
            rx.hstack(
                rx.text(rx.cond(row["used"] == "1", t("1 view used, {left} left", left=row["left"]),
                                t("{count} views used, {left} left", count=row["used"], left=row["left"])),
                        size="2", class_name="dash-views"),
                rx.text("·", size="2", color_scheme="gray"),
                rx.cond(active, rx.text(t("{duration} left", duration=duration_words(row["seconds_left"].to(int))),
                                        size="2", class_name="dash-time"),
                        rx.text(t("Expired on {time}: {reason}.", time=local_time(row["expired_at"]),
                                  reason=t_var(row["reason"])), size="2", color_scheme="gray", class_name="dash-status")),
                wrap="wrap",
                spacing="2",
            ),
            rx.hstack(
                rx.cond(active, rx.button(rx.icon("link", size=14, aria_hidden="true"), t("Copy link"), size="1", variant="soft",
                                          class_name="dash-copy", on_click=DashboardState.copy_link(row["id"].to(str)))),
                rx.cond(active, rx.button(rx.icon("pencil", size=14, aria_hidden="true"), t("Edit"), size="1", variant="soft",
                                          class_name="dash-edit", on_click=rx.redirect("/dashboard/edit/" + row["id"].to(str)))),
                rx.button(rx.icon("scroll-text", size=14, aria_hidden="true"),
                          rx.cond(DashboardState.open_id == row["id"], t("Hide audit log"), t("Audit log")), size="1",
                          variant="soft", color_scheme="gray", class_name="dash-audit-toggle",
                          on_click=DashboardState.toggle_audit(row["id"].to(str))),
                rx.spacer(),
                # Far from Copy link, and it asks first (as the manage page does).
                rx.cond(active, _expire_button(row)),
                wrap="wrap",
                spacing="3",
                width="100%",
            ),
            copy_on_arrival(id=COPY_PREFIX + row["id"].to(str), label=t("Your browser did not allow copying: copy the link here."),
                            class_name="dash-copy-fallback"),
            rx.cond(row["group_size"] != "", rx.hstack(rx.icon("users", size=12, aria_hidden="true", flex_shrink="0"),
                                                       _group_words(row), spacing="1", align="center",
                                                       class_name="dash-group")),
            _lockouts_of(row),
            rx.cond(DashboardState.open_id == row["id"], _audit_list()),
            spacing="2",
            width="100%",
        ),
        width="100%",
        class_name="dash-push",
        data_push=row["id"],
    )


def _expire_button(row: rx.Var) -> rx.Component:
    return confirm_button(
        label=t("Expire now"),
        icon="ban",
        class_name="dash-expire",
        size="1",
        title=t("Expire this push now?"),
        description=t("“{name}”: the secret is deleted and its link stops working for everyone. This cannot be undone.",
                      name=_name(row)),
        confirm_label=t("Expire"),
        confirm_id="confirm-expire",
        on_confirm=DashboardState.expire(row["id"].to(str)),
    )


def _pager() -> rx.Component:
    return rx.cond(
        DashboardState.pages > 1,
        rx.hstack(
            rx.button(t("Newer"), size="1", variant="soft", disabled=DashboardState.page <= 1,
                      on_click=DashboardState.go_to_page(DashboardState.page - 1)),
            rx.text(t("Page {page} of {pages}", page=DashboardState.page, pages=DashboardState.pages), size="2"),
            rx.button(t("Older"), size="1", variant="soft", disabled=DashboardState.page >= DashboardState.pages,
                      on_click=DashboardState.go_to_page(DashboardState.page + 1)),
            align="center",
            justify="center",
            width="100%",
        ),
    )


def dashboard_page() -> rx.Component:
    return page_shell(
        rx.cond(DashboardState.message != "", rx.callout(t_var(DashboardState.message), color_scheme="red", width="100%")),
        rx.hstack(
            rx.segmented_control.root(
                rx.segmented_control.item(t("Active"), value="active"),
                rx.segmented_control.item(t("Expired"), value="expired"),
                value=DashboardState.tab,
                on_change=DashboardState.choose_tab,
                id="dash-tabs",
            ),
            rx.input(placeholder=t("Search by name"), aria_label=t("Search by name"), id="dash-search", type="search",
                     on_change=DashboardState.set_search.debounce(300), flex="1", min_width="10rem"),
            wrap="wrap",
            width="100%",
            spacing="3",
        ),
        rx.cond(
            DashboardState.claimable > 0,
            rx.callout(
                rx.hstack(
                    rx.text(rx.cond(DashboardState.claimable == 1,
                                    t("A push made in this browser without logging in is not in your account yet."),
                                    t("{count} pushes made in this browser without logging in are not in your account yet.",
                                      count=DashboardState.claimable)), size="2", id="dash-claim-text"),
                    rx.button(t("Move into my account"), size="1", id="dash-claim", color_scheme="iris",
                              on_click=DashboardState.claim(manage_tokens_of_this_browser)),
                    wrap="wrap", align="center", spacing="3",
                ),
                icon="info", color_scheme="gray", width="100%",
            ),
        ),
        rx.fragment(on_mount=DashboardState.check_claimable(manage_tokens_of_this_browser)),
        rx.cond(DashboardState.notice != "",
                rx.callout(refusal_text(DashboardState.notice, DashboardState.notice_sentences), icon="info", width="100%", id="dash-notice", role="status")),
        rx.cond(
            DashboardState.rows.length() > 0,
            rx.vstack(rx.foreach(DashboardState.rows, _push_row), spacing="3", width="100%", id="dash-list"),
            rx.cond(
                DashboardState.loaded,
                rx.callout(rx.cond(DashboardState.search != "", t("No push matches that name."),
                                   rx.cond(DashboardState.tab == "active", t("No active pushes."), t("No expired pushes."))),
                           icon="info", color_scheme="gray", width="100%", id="dash-empty"),
            ),
        ),
        _pager(),
        requests_summary(),
        rx.text(t("Updates every few seconds."), " ", rx.link(t("Request a secret"), href="/requests", underline="always"),
                " · ", rx.link(t("API token"), href="/api-token", underline="always"), " · ",
                rx.link(t("Account"), href="/account", underline="always"), size="1", color_scheme="gray"),
        # The live update's timer: each tick asks the server for fresh rows.
        rx.moment(interval=POLL_MS, format="HH:mm:ss", on_change=DashboardState.poll, display="none", aria_hidden="true"),
        heading=t("Dashboard"),
        subheading=t("Your pushes, newest first."),
        languages=True,
    )
