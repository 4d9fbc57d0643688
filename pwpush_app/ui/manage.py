"""Manage (`/manage/[manage_token]`): the creator's view of one push, through the private manage link.

Status, the secret link (while the push lives), who is locked out by wrong passphrases, the
audit log (browser and system named, the raw user agent on demand), "expire now" (asks
first), and the ways to the edit page and the print page (ui/edit.py, ui/print_share.py).
Owner views are logged by the core, as in Password Pusher, but once per half hour from the
same browser: the page's own reloads and reconnects are the same look
(`owners.OWNER_VIEW_COALESCE`). The note and the link (owner-visible, encrypted at rest) are
handed to the browser like a revealed secret, so they stay out of state too.
"""

from __future__ import annotations

import reflex as rx

from pwpush_app.core import links
from pwpush_app.core.clock import utcnow
from pwpush_app.core.e2e import LINK_NOT_KEPT
from pwpush_app.core.errors import PushUnavailable, ServerBusy
from pwpush_app.core.owners import ManagedPush, expire_managed, manage_view
from pwpush_app.core.push_policies import describe_policies
from pwpush_app.core.recipients import describe_member, group_of
from pwpush_app.core.records import find_managed, open_link_token, open_note
from pwpush_app.core.reveal import passphrase_lockouts
from pwpush_app.ui.common import (
    BUSY_MESSAGE,
    KIND_LABELS,
    client_of,
    describe_duration,
    format_time,
    in_thread,
    plural,
    runtime,
    site_base_url,
)
from pwpush_app.ui.components.audit_words import (
    EXPIRED_REASONS,
    describe_event,
    describe_lockout,
    describe_user_agent,
    user_agent_cell,
)
from pwpush_app.ui.components.confirm import confirm_button
from pwpush_app.ui.components.fields import copy_button
from pwpush_app.ui.components.layout import page_shell

NOTE_BOX = "note-box"
LINK_BOX = "manage-link"
# The edit and print pages sit under this page's own address (which holds the manage token:
# it is read from the address bar, never from state).
TO_EDIT = rx.call_function(rx.Var("() => { window.location.assign(window.location.pathname.replace(/\\/$/, '') + '/edit') }"))
TO_PRINT = rx.call_function(rx.Var(
    "() => { window.open(window.location.pathname.replace(/\\/$/, '') + '/print', '_blank', 'noopener') }"))

class ManageState(rx.State):
    # loading | found | unavailable
    status: str = "loading"
    name: str = ""
    kind: str = ""
    end_to_end: bool = False
    expired: bool = False
    status_line: str = ""
    views_line: str = ""
    time_line: str = ""
    # The sender's policies (allowed addresses, burn after wrong passphrases); "" for none.
    policies_line: str = ""
    # A push of one of several recipients (core/recipients.py): whom it is for, and each of
    # the group's pushes: {"recipient", "status", "this": "yes" for this one}.
    recipient: str = ""
    group: list[dict[str, str]] = []
    has_note: bool = False
    events: list[dict[str, str]] = []
    # Recipients locked out by wrong passphrases right now, said for the owner.
    lockouts: list[str] = []
    message: str = ""

    def _manage_token(self) -> str:
        return self.router.url.path.rstrip("/").rsplit("/", 1)[-1]

    @rx.event
    async def load(self):
        self.reset()
        try:
            managed = await in_thread(manage_view, runtime(), self._manage_token(), client_of(self))
        except PushUnavailable:
            self.status = "unavailable"
            return
        except ServerBusy:
            self.status, self.message = "unavailable", BUSY_MESSAGE
            return
        self._show(managed)
        await self._show_lockouts(managed.push)
        await self._show_group(managed.push)

    async def _show_group(self, push) -> None:
        members = await in_thread(group_of, runtime(), push) if push.group_id else []
        now = utcnow()
        self.recipient = push.recipient or ""
        self.group = [{"recipient": member.recipient or "", "status": describe_member(member, now),
                       "this": "yes" if member.id == push.id else ""} for member in members]

    async def _show_lockouts(self, push) -> None:
        settings = runtime().settings
        found = await in_thread(passphrase_lockouts, runtime(), push) if not push.expired else []
        self.lockouts = [describe_lockout(lockout.ip, lockout.until, settings.passphrase_max_failures,
                                          settings.passphrase_push_max_failures) for lockout in found]

    @rx.event
    async def send_note(self):
        """Fill the note field once it is on the page (a result sent during hydration finds no field)."""
        try:
            push = await in_thread(find_managed, runtime(), self._manage_token())
            note = await in_thread(open_note, runtime(), push)
        except (PushUnavailable, ServerBusy):
            return
        return rx.set_value(NOTE_BOX, note)

    @rx.event
    async def send_link(self):
        """The secret link, for its owner, while the push lives: an event result, never state."""
        try:
            push = await in_thread(find_managed, runtime(), self._manage_token())
            token = None if push.end_to_end else await in_thread(open_link_token, runtime(), push)
        except (PushUnavailable, ServerBusy):
            return
        return rx.set_value(LINK_BOX, links.secret_link(site_base_url(self), token) if token else "")

    def _show(self, managed: ManagedPush) -> None:
        push = managed.push
        self.status = "found"
        self.name = push.name or "Unnamed push"
        self.kind = KIND_LABELS.get(push.kind, push.kind)
        self.end_to_end = push.end_to_end
        self.expired = push.expired
        if push.expired:
            reason = EXPIRED_REASONS.get(push.expired_reason or "", "it expired")
            self.status_line = f"Expired on {format_time(push.expired_at)}: {reason}."
            self.time_line = f"Was due to expire {format_time(push.expires_at)}"
        else:
            self.status_line = "Active: the secret link works."
            self.time_line = f"{describe_duration(push.time_left(utcnow()))} left (until {format_time(push.expires_at)})"
        self.views_line = (
            f"{plural(push.views_used, 'view')} used of {push.expire_after_views}, "
            f"{push.views_left} left"
        )
        self.policies_line = describe_policies(push)
        self.has_note = bool(managed.note)  # the note itself goes to the browser by send_note
        self.events = [
            {
                "time": format_time(event.created_at),
                "event": describe_event(event.kind, event.actor),
                "ip": event.ip or "–",
                "browser": describe_user_agent(event.user_agent),
                "user_agent": event.user_agent or "–",
                "referrer": event.referrer or "–",
            }
            for event in managed.events
        ]

    @rx.event
    async def expire_now(self):
        try:
            managed = await in_thread(expire_managed, runtime(), self._manage_token(), client_of(self))
        except PushUnavailable:
            self.status = "unavailable"
            return
        except ServerBusy:
            self.message = BUSY_MESSAGE
            return
        self._show(managed)
        self.lockouts = []
        await self._show_group(managed.push)
        return [rx.set_value(NOTE_BOX, ""), rx.set_value(LINK_BOX, "")]


# --- the page -----------------------------------------------------------------------------------


def _fact(label: str, value: rx.Var, fact_id: str) -> rx.Component:
    return rx.data_list.item(
        rx.data_list.label(label),
        rx.data_list.value(rx.text(value, id=fact_id)),
    )


def _group_list() -> rx.Component:
    """The pushes of the same secret for the other recipients, and who has viewed."""
    return rx.vstack(
        rx.heading("The same secret, one link per recipient", as_="h2", size="3"),
        rx.foreach(ManageState.group, lambda member: rx.text(
            rx.text.strong(member["recipient"]), ": ", member["status"],
            rx.cond(member["this"] != "", rx.text(" (this link)", as_="span", color_scheme="gray")),
            size="2", class_name="manage-group-member")),
        spacing="1",
        width="100%",
        id="manage-group",
    )


def _expire_button() -> rx.Component:
    return confirm_button(
        label="Expire now",
        icon="ban",
        button_id="expire-now",
        title="Expire this push now?",
        description="The secret is deleted and its link stops working for everyone. This cannot be undone.",
        confirm_label="Expire",
        confirm_id="confirm-expire",
        on_confirm=ManageState.expire_now,
    )


def _status_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(ManageState.name, as_="h1", size="6"),
                rx.badge(
                    rx.cond(ManageState.expired, "Expired", "Active"),
                    color_scheme=rx.cond(ManageState.expired, "gray", "green"),
                    id="push-state",
                ),
                align="center",
                wrap="wrap",
            ),
            rx.data_list.root(
                _fact("Kind", ManageState.kind, "push-kind"),
                _fact("Status", ManageState.status_line, "status-line"),
                _fact("Views", ManageState.views_line, "views-line"),
                _fact("Time", ManageState.time_line, "time-line"),
                rx.cond(ManageState.policies_line != "", _fact("Protection", ManageState.policies_line, "policies-line")),
                rx.cond(ManageState.recipient != "", _fact("For", ManageState.recipient, "recipient-line")),
                orientation={"initial": "vertical", "sm": "horizontal"},
            ),
            rx.cond(ManageState.group.length() > 0, _group_list()),
            rx.foreach(ManageState.lockouts, lambda line: rx.callout(line, icon="lock", color_scheme="amber", width="100%",
                                                                   class_name="manage-lockout")),
            rx.text(ManageState.message, role="alert", color_scheme="red", size="2"),
            rx.cond(
                ~ManageState.expired,
                rx.hstack(
                    rx.button(rx.icon("pencil", size=16, aria_hidden="true"), "Edit", variant="soft", on_click=TO_EDIT,
                              id="edit-push"),
                    rx.button(rx.icon("printer", size=16, aria_hidden="true"), "Print for handing over", variant="soft",
                              color_scheme="gray", on_click=TO_PRINT, id="print-push"),
                    _expire_button(),
                    wrap="wrap",
                    spacing="3",
                ),
            ),
            spacing="4",
            width="100%",
        ),
        width="100%",
    )


def _link_card() -> rx.Component:
    """Always mounted while the push lives (filled on mount), so the link reaches a field."""
    return rx.cond(
        (ManageState.status == "found") & ~ManageState.expired,
        rx.card(
            rx.vstack(
                rx.el.label(rx.text("Secret link", size="2", weight="medium"), html_for=LINK_BOX),
                rx.cond(ManageState.end_to_end, rx.text(LINK_NOT_KEPT, size="2", color_scheme="gray", id="manage-e2e")),
                rx.hstack(rx.box(rx.input(id=LINK_BOX, read_only=True, width="100%", size="2"), flex="1", min_width="0"),
                          copy_button(LINK_BOX), width="100%", display=rx.cond(ManageState.end_to_end, "none", "flex")),
                spacing="1",
                width="100%",
            ),
            width="100%",
            on_mount=ManageState.send_link,
        ),
    )


def _note_card() -> rx.Component:
    """Always mounted (hidden without a note) so the load event can fill it."""
    return rx.box(
        rx.card(
            rx.vstack(
                rx.el.label(rx.text("Your note", size="2", weight="medium"), html_for=NOTE_BOX),
                rx.text_area(id=NOTE_BOX, read_only=True, width="100%", style={"& textarea": {"fieldSizing": "content"}}),
                spacing="1",
                width="100%",
            ),
            width="100%",
        ),
        rx.cond(ManageState.has_note, rx.box(on_mount=ManageState.send_note, display="none")),
        display=rx.cond(ManageState.has_note, "block", "none"),
        width="100%",
    )


AUDIT_COLUMNS = (("Time", "time"), ("Event", "event"), ("IP", "ip"), ("Browser", "browser"), ("Referrer", "referrer"))


def _audit_table() -> rx.Component:
    """A table on wider screens; on a phone, one small card per event (five columns don't fit)."""
    table = rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(title) for title, _ in AUDIT_COLUMNS])),
        rx.table.body(
            rx.foreach(
                ManageState.events,
                lambda event: rx.table.row(
                    rx.table.cell(event["time"], white_space="nowrap"),
                    rx.table.cell(event["event"]),
                    rx.table.cell(event["ip"], white_space="nowrap"),
                    rx.table.cell(user_agent_cell(event), min_width="12rem", word_break="break-word"),
                    rx.table.cell(event["referrer"], word_break="break-all"),
                    class_name="audit-row",
                ),
            )
        ),
        size="1",
        variant="surface",
        width="100%",
        id="audit-log",
    )
    cards = rx.vstack(
        rx.foreach(
            ManageState.events,
            lambda event: rx.card(
                rx.vstack(
                    rx.hstack(rx.text(event["event"], weight="medium", size="2"), rx.spacer(), rx.text(event["time"], size="1", color_scheme="gray"), width="100%"),
                    rx.hstack(rx.text(event["ip"], " · ", size="1", color_scheme="gray"), rx.box(user_agent_cell(event), font_size="var(--font-size-1)"),
                              spacing="1", align="start"),
                    rx.cond(event["referrer"] != "–", rx.text("From ", event["referrer"], size="1", color_scheme="gray", word_break="break-all")),
                    spacing="1",
                    width="100%",
                ),
                width="100%",
                size="1",
            ),
        ),
        spacing="2",
        width="100%",
    )
    return rx.vstack(
        rx.heading("Audit log", as_="h2", size="4"),
        rx.box(table, overflow_x="auto", width="100%", display=rx.breakpoints(initial="none", sm="block")),
        rx.box(cards, width="100%", display=rx.breakpoints(initial="block", sm="none")),
        spacing="2",
        width="100%",
    )


def _unavailable() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("No push behind this manage link", as_="h1", size="5"),
            rx.text("Check that you copied the whole link.", color_scheme="gray"),
            rx.text(ManageState.message, color_scheme="red", size="2"),
            rx.link("Go to My pushes", href="/my-pushes"),
            spacing="3",
        ),
        width="100%",
        id="manage-unavailable",
    )


def manage_page() -> rx.Component:
    return page_shell(
        rx.match(
            ManageState.status,
            ("loading", rx.card(rx.skeleton(rx.box(height="10rem")), width="100%")),
            ("unavailable", _unavailable()),
            rx.fragment(_status_card()),
        ),
        _link_card(),
        _note_card(),
        rx.cond(ManageState.status == "found", _audit_table()),
    )
