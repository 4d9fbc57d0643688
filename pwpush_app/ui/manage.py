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
from pwpush_app.core.push_policies import allowed_ips_list
from pwpush_app.core.recipients import group_of
from pwpush_app.core.records import find_managed, open_link_token, open_note
from pwpush_app.core.reveal import passphrase_lockouts
from pwpush_app.ui.common import BUSY_MESSAGE, client_of, in_thread, runtime, site_base_url
from pwpush_app.ui.components.audit_words import (
    EXPIRED_REASONS,
    MEMBER_ENDS,
    describe_event,
    duration_words,
    iso_moment,
    lockout_facts,
    lockout_text,
    user_agent_cell,
    user_agent_facts,
)
from pwpush_app.ui.components.confirm import confirm_button
from pwpush_app.ui.components.fields import copy_button
from pwpush_app.ui.components.layout import page_shell
from pwpush_app.ui.i18n import N_, local_time, t, t_var, time_from_now

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
    # Facts, not sentences: the page words them in the viewer's language (times as ISO moments).
    expired_at: str = ""
    expires_at: str = ""
    expired_reason: str = ""  # English (EXPIRED_REASONS), shown with t_var
    seconds_left: int = 0
    views_used: int = 0
    views_total: int = 0
    views_left: int = 0
    # The sender's policies: allowed addresses ("" for any), deleted after N wrong
    # passphrases (0: never), a code mailed to the recipient.
    allowed_ips: str = ""
    burn_after: int = 0
    verifies_recipient: bool = False
    # A push of one of several recipients (core/recipients.py): whom it is for, and each of
    # the group's pushes: {"recipient", "status", "this": "yes" for this one}.
    recipient: str = ""
    group: list[dict[str, str]] = []
    has_note: bool = False
    events: list[dict[str, str]] = []
    # Recipients locked out by wrong passphrases right now: {"ip" ("" for all), "count", "until"}.
    lockouts: list[dict[str, str]] = []
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
        self.group = [{"recipient": member.recipient or "", "used": str(member.views_used),
                       "total": str(member.expire_after_views), "last": iso_moment(member.last_viewed_at),
                       "live": "yes" if member.is_live(now) else "",
                       "reason": MEMBER_ENDS.get(member.expired_reason or "time", N_("expired")),
                       "this": "yes" if member.id == push.id else ""} for member in members]

    async def _show_lockouts(self, push) -> None:
        settings = runtime().settings
        found = await in_thread(passphrase_lockouts, runtime(), push) if not push.expired else []
        self.lockouts = [lockout_facts(lockout.ip, lockout.until, settings.passphrase_max_failures,
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
        self.name = push.name or ""
        self.kind = push.kind
        self.end_to_end = push.end_to_end
        self.expired = push.expired
        self.expired_at, self.expires_at = iso_moment(push.expired_at), iso_moment(push.expires_at)
        self.expired_reason = EXPIRED_REASONS.get(push.expired_reason or "", N_("it expired")) if push.expired else ""
        self.seconds_left = 0 if push.expired else max(0, int(push.time_left(utcnow()).total_seconds()))
        self.views_used, self.views_total, self.views_left = push.views_used, push.expire_after_views, push.views_left
        self.allowed_ips = ", ".join(allowed_ips_list(push)) if push.allowed_ips else ""
        self.burn_after = push.burn_after_failed_passphrases or 0
        self.verifies_recipient = bool(push.verifies_recipient)
        self.has_note = bool(managed.note)  # the note itself goes to the browser by send_note
        self.events = [
            {
                "time": iso_moment(event.created_at),
                "event": describe_event(event.kind, event.actor),
                "ip": event.ip or "–",
                **user_agent_facts(event.user_agent),
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


def _status_words() -> rx.Var:
    return rx.cond(
        ManageState.expired,
        t("Expired on {time}: {reason}.", time=local_time(ManageState.expired_at), reason=t_var(ManageState.expired_reason)),
        t("Active: the secret link works."),
    )


def _time_words() -> rx.Var:
    return rx.cond(
        ManageState.expired,
        t("Was due to expire {time}", time=local_time(ManageState.expires_at)),
        t("{duration} left (until {time})", duration=duration_words(ManageState.seconds_left),
          time=local_time(ManageState.expires_at)),
    )


def _views_words() -> rx.Var:
    values = {"total": ManageState.views_total, "left": ManageState.views_left}
    return rx.cond(
        ManageState.views_used == 1,
        t("1 view used of {total}, {left} left", **values),
        t("{count} views used of {total}, {left} left", count=ManageState.views_used, **values),
    )


def _policies_words() -> rx.Component:
    return rx.fragment(
        rx.cond(ManageState.allowed_ips != "", rx.text(t("Opens only from {addresses}.", addresses=ManageState.allowed_ips),
                                                       " ", as_="span")),
        rx.cond(ManageState.burn_after == 1, rx.text(t("Deleted by the first wrong passphrase."), " ", as_="span")),
        rx.cond(ManageState.burn_after > 1, rx.text(t("Deleted by {count} wrong passphrases in all.",
                                                      count=ManageState.burn_after), " ", as_="span")),
        rx.cond(ManageState.verifies_recipient, rx.text(t("Opens only with a code emailed to the recipient."), as_="span")),
    )


def _kind_words() -> rx.Var:
    return rx.match(ManageState.kind, ("text", t("Text")), ("file", t("Files")), ("url", t("URL")), ("qr", t("QR code")),
                    ManageState.kind)


def _fact(label: rx.Var, value, fact_id: str) -> rx.Component:
    return rx.data_list.item(
        rx.data_list.label(label),
        rx.data_list.value(rx.text(value, id=fact_id)),
    )


def _member_words(member: rx.Var) -> rx.Component:
    """'viewed 1 of 2 times, last 3 minutes ago; live', 'not viewed yet; expired (revoked)'."""
    seen = rx.cond(
        member["used"] == "0",
        t("not viewed yet"),
        rx.cond(member["total"] == "1", t("viewed {count} of 1 time", count=member["used"]),
                t("viewed {count} of {total} times", count=member["used"], total=member["total"])),
    )
    last = rx.cond((member["used"] != "0") & (member["last"] != ""),
                   t(", last {when}", when=time_from_now(member["last"])), "")
    state = rx.cond(member["live"] != "", t("live"), t("expired ({reason})", reason=t_var(member["reason"])))
    return rx.text(seen, last, "; ", state, as_="span")


def _group_list() -> rx.Component:
    """The pushes of the same secret for the other recipients, and who has viewed."""
    return rx.vstack(
        rx.heading(t("The same secret, one link per recipient"), as_="h2", size="3"),
        rx.foreach(ManageState.group, lambda member: rx.text(
            rx.text.strong(member["recipient"]), ": ", _member_words(member),
            rx.cond(member["this"] != "", rx.text(" ", t("(this link)"), as_="span", color_scheme="gray")),
            size="2", class_name="manage-group-member")),
        spacing="1",
        width="100%",
        id="manage-group",
    )


def _expire_button() -> rx.Component:
    return confirm_button(
        label=t("Expire now"),
        icon="ban",
        button_id="expire-now",
        title=t("Expire this push now?"),
        description=t("The secret is deleted and its link stops working for everyone. This cannot be undone."),
        confirm_label=t("Expire"),
        cancel_label=t("Keep it"),
        confirm_id="confirm-expire",
        on_confirm=ManageState.expire_now,
    )


def _status_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(rx.cond(ManageState.name != "", ManageState.name, t("Unnamed push")), as_="h1", size="6"),
                rx.badge(
                    rx.cond(ManageState.expired, t("Expired"), t("Active")),
                    color_scheme=rx.cond(ManageState.expired, "gray", "green"),
                    id="push-state",
                ),
                align="center",
                wrap="wrap",
            ),
            rx.data_list.root(
                _fact(t("Kind"), _kind_words(), "push-kind"),
                _fact(t("Status"), _status_words(), "status-line"),
                _fact(t("Views"), _views_words(), "views-line"),
                _fact(t("Time"), _time_words(), "time-line"),
                rx.cond((ManageState.allowed_ips != "") | (ManageState.burn_after > 0) | ManageState.verifies_recipient,
                        _fact(t("Protection"), _policies_words(), "policies-line")),
                rx.cond(ManageState.recipient != "", _fact(t("For"), ManageState.recipient, "recipient-line")),
                orientation={"initial": "vertical", "sm": "horizontal"},
            ),
            rx.cond(ManageState.group.length() > 0, _group_list()),
            rx.foreach(ManageState.lockouts, lambda line: rx.callout(lockout_text(line), icon="lock", color_scheme="amber", width="100%",
                                                                   class_name="manage-lockout")),
            rx.text(t_var(ManageState.message), role="alert", color_scheme="red", size="2"),
            rx.cond(
                ~ManageState.expired,
                rx.hstack(
                    rx.button(rx.icon("pencil", size=16, aria_hidden="true"), t("Edit"), variant="soft", on_click=TO_EDIT,
                              id="edit-push"),
                    rx.button(rx.icon("printer", size=16, aria_hidden="true"), t("Print for handing over"), variant="soft",
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
                rx.el.label(rx.text(t("Secret link"), size="2", weight="medium"), html_for=LINK_BOX),
                rx.cond(ManageState.end_to_end, rx.text(t_var(rx.Var.create(LINK_NOT_KEPT)), size="2", color_scheme="gray", id="manage-e2e")),
                rx.hstack(rx.box(rx.input(id=LINK_BOX, read_only=True, width="100%", size="2"), flex="1", min_width="0"),
                          copy_button(LINK_BOX, t("Copy"), t("Copy to the clipboard"), t("Copied to the clipboard")), width="100%", display=rx.cond(ManageState.end_to_end, "none", "flex")),
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
                rx.el.label(rx.text(t("Your note"), size="2", weight="medium"), html_for=NOTE_BOX),
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


AUDIT_COLUMNS = (N_("Time"), N_("Event"), N_("IP"), N_("Browser"), N_("Referrer"))


def _audit_table() -> rx.Component:
    """A table on wider screens; on a phone, one small card per event (five columns don't fit)."""
    table = rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(t(title)) for title in AUDIT_COLUMNS])),
        rx.table.body(
            rx.foreach(
                ManageState.events,
                lambda event: rx.table.row(
                    rx.table.cell(local_time(event["time"]), white_space="nowrap"),
                    rx.table.cell(t_var(event["event"])),
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
                    rx.hstack(rx.text(t_var(event["event"]), weight="medium", size="2"), rx.spacer(), rx.text(local_time(event["time"]), size="1", color_scheme="gray"), width="100%"),
                    rx.hstack(rx.text(event["ip"], " · ", size="1", color_scheme="gray"), rx.box(user_agent_cell(event), font_size="var(--font-size-1)"),
                              spacing="1", align="start"),
                    rx.cond(event["referrer"] != "–", rx.text(t("From {referrer}", referrer=event["referrer"]), size="1", color_scheme="gray", word_break="break-all")),
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
        rx.heading(t("Audit log"), as_="h2", size="4"),
        rx.box(table, overflow_x="auto", width="100%", display=rx.breakpoints(initial="none", sm="block")),
        rx.box(cards, width="100%", display=rx.breakpoints(initial="block", sm="none")),
        spacing="2",
        width="100%",
    )


def _unavailable() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("No push behind this manage link"), as_="h1", size="5"),
            rx.text(t("Check that you copied the whole link."), color_scheme="gray"),
            rx.text(t_var(ManageState.message), color_scheme="red", size="2"),
            rx.link(t("Go to My pushes"), href="/my-pushes"),
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
        languages=True,
    )
