"""Requests (`/requests`): a logged-in user asks someone for a secret, and sees what came of it.

The form (message, how long the request's link works, the answer's views and lifetime)
creates a request in the core (core/requests.py); its link goes to the browser as the
event's result (`rx.set_value` into the share field), never into state.  The list below
shows the account's requests with their state, polled every few seconds so an answer
appears without a reload; a request's message, its link and its answer's link are fetched
on demand by events that check ownership in the core (`request_of`), as event results
again: a crafted event naming another account's request finds nothing.
"""

from __future__ import annotations

import dataclasses

import reflex as rx

from pwpush_app.core import links
from pwpush_app.core.clock import utcnow
from pwpush_app.core.errors import InvalidPush, PushError, PushUnavailable, ServerBusy
from pwpush_app.core.owners import owned_push
from pwpush_app.core.records import open_link_token
from pwpush_app.core.requests import MAX_MESSAGE_CHARS, NewRequest, create_request, request_of, requests_of
from pwpush_app.core.throttle import RateLimited
from pwpush_app.ui.common import (
    BUSY_MESSAGE,
    busy_or_said,
    client_of,
    form_text,
    form_whole_number,
    in_thread,
    runtime,
    site_base_url,
)
from pwpush_app.ui.components.audit_words import duration_words, iso_moment
from pwpush_app.ui.components.copy_on_arrival import copy_on_arrival
from pwpush_app.ui.components.fields import READABLE, copy_button, field_error, field_label, shown_if, submit_button
from pwpush_app.ui.components.layout import page_shell
from pwpush_app.ui.create_state import kind_policy, lifetime_choices, lifetime_words
from pwpush_app.ui.i18n import N_, local_time, t, t_var
from pwpush_app.ui.session import current_user

LINK_FIELD = "request-link"
COPY_PREFIX = "request-copy-"
MESSAGE_PREFIX = "request-message-"
POLL_MS = 4000
NOTIFY = "notify_by_email"
STATE_COLOURS = {"open": "blue", "answered": "green", "expired": "gray"}


def _row(view, now) -> dict[str, str]:
    """What the list shows of a request: facts, never its message or links (the page words
    them in the visitor's language, times as ISO moments)."""
    return {"id": view.id, "state": view.state, "colour": STATE_COLOURS[view.state],
            "created": iso_moment(view.created_at), "expires": iso_moment(view.expires_at),
            "left": str(max(0, int((view.expires_at - now).total_seconds()))) if view.state == "open" else "0",
            "answered_at": iso_moment(view.answered_at), "files": "yes" if view.answer_kind == "file" else "",
            "views": str(view.answer_views), "seconds": str(view.answer_minutes * 60),
            "mail": "yes" if view.notify_by_email else "",
            "answered": "yes" if view.answer_push_id else ""}


class RequestsState(rx.State):
    rows: list[dict[str, str]] = []
    loaded: bool = False
    errors: dict[str, str] = {}
    # A request was just made: the share field (filled by the event's result) shows.
    created: bool = False
    working: bool = False
    notice: str = ""

    async def _user(self):
        user = await current_user(self)
        if user is None:
            self.rows, self.loaded = [], False
        return user

    async def _refresh(self, user_id: str) -> None:
        try:
            views = await in_thread(requests_of, runtime(), user_id)
        except ServerBusy:
            self.notice = BUSY_MESSAGE
            return
        now = utcnow()
        self.rows, self.loaded = [_row(view, now) for view in views], True

    @rx.event
    async def load(self):
        self.errors, self.created, self.notice, self.working = {}, False, "", False
        user = await self._user()
        if user is None:
            return rx.redirect("/login")
        await self._refresh(user.id)

    @rx.event
    async def poll(self, _tick: str = ""):
        if not self.loaded:
            return
        user = await self._user()
        if user is None:
            return rx.redirect("/login")
        await self._refresh(user.id)

    @rx.event
    async def ask(self, form_data: dict):
        user = await self._user()
        if user is None:
            return rx.redirect("/login")
        self.working, self.notice = True, ""
        request = NewRequest(message=form_text(form_data, "message"),
                             expire_after_minutes=form_whole_number(form_data.get("expire_after_minutes")),
                             answer_views=form_whole_number(form_data.get("answer_views")),
                             answer_minutes=form_whole_number(form_data.get("answer_minutes")),
                             notify_by_email=form_data.get(NOTIFY) in ("on", True, "true"))
        client = dataclasses.replace(client_of(self), user_id=user.id)
        try:
            made = await in_thread(create_request, runtime(), request, client)
        except InvalidPush as refusal:
            self.errors, self.working = dict(refusal.errors), False
            return
        except (RateLimited, ServerBusy, PushError) as refusal:
            self.errors, self.working = {"message": busy_or_said(refusal)}, False
            return
        self.errors, self.created, self.working = {}, True, False
        await self._refresh(user.id)
        # The link leaves as the event's result, into the share field: never state.
        return [rx.set_value(LINK_FIELD, links.request_link(site_base_url(self), made.token)),
                rx.set_value("message", "")]

    @rx.event
    def ask_another(self):
        self.created, self.errors = False, {}
        return rx.set_value(LINK_FIELD, "")

    async def _mine(self, request_id: str):
        user = await self._user()
        if user is None:
            return None, rx.redirect("/login")
        if not isinstance(request_id, str):
            return None, None
        try:
            return await in_thread(request_of, runtime(), user.id, request_id), None
        except PushUnavailable:
            self.notice = N_("That request is not one of yours.")
            return None, None

    @rx.event
    async def copy_link(self, request_id: str):
        view, refusal = await self._mine(request_id)
        if view is None:
            return refusal
        if view.link_token is None:
            self.notice = N_("This request no longer takes an answer: its link is gone.")
            return
        self.notice = ""
        return rx.set_value(COPY_PREFIX + view.id, links.request_link(site_base_url(self), view.link_token))

    @rx.event
    async def show_message(self, request_id: str):
        view, refusal = await self._mine(request_id)
        if view is None:
            return refusal
        return rx.set_value(MESSAGE_PREFIX + view.id, view.message or "(Deleted when the request expired.)")

    @rx.event
    async def open_answer(self, request_id: str):
        view, refusal = await self._mine(request_id)
        if view is None:
            return refusal
        if view.answer_push_id is None:
            self.notice = N_("That request has no answer.")
            return
        user = await self._user()
        try:
            push = await in_thread(owned_push, runtime(), user.id, view.answer_push_id)
        except PushUnavailable:
            push = None
        token = await in_thread(open_link_token, runtime(), push) if push is not None else None
        if token is None:
            self.notice = N_("The answer has expired: its secret is deleted.")
            return
        self.notice = ""
        return rx.redirect(links.secret_path(token))


# --- the page ---------------------------------------------------------------------------------------

def _error(field: str) -> rx.Component:
    return field_error(t_var(RequestsState.errors.get(field, "")), field)


def _lifetime(field: str, label: rx.Var, help_text: rx.Var) -> rx.Component:
    policy = kind_policy("text")
    return rx.vstack(
        field_label(label, field),
        rx.select.root(
            rx.select.trigger(id=field, width="100%", aria_describedby=f"{field}-help {field}-error"),
            rx.select.content(*[rx.select.item(lifetime_words(value), value=value) for value, _ in lifetime_choices(policy)[:-1]]),
            name=field, default_value=str(policy.minutes_default), size="3",
        ),
        rx.text(help_text, id=f"{field}-help", size="1", color_scheme="gray"),
        _error(field),
        spacing="1", flex="1", min_width="12rem",
    )


def _form() -> rx.Component:
    policy = kind_policy("text")
    return rx.card(rx.form(
        rx.vstack(
            field_label(t("What do you need?"), "message"),
            rx.text_area(name="message", id="message", placeholder=t("Send me the VPN password, please."),
                         max_length=MAX_MESSAGE_CHARS, rows="3", size="3", width="100%",
                         aria_describedby="message-help message-error"),
            rx.text(t("The person you send the link to reads this. Don't write the secret itself here."),
                    id="message-help", size="1", color_scheme="gray"),
            _error("message"),
            rx.flex(
                _lifetime("expire_after_minutes", t("The link takes an answer for"), t("Then it stops working.")),
                rx.vstack(
                    field_label(t("The answer opens"), "answer_views"),
                    rx.input(name="answer_views", id="answer_views", type="number", input_mode="numeric",
                             min=policy.views_min, max=policy.views_max, default_value=str(policy.views_default),
                             size="3", width="100%", aria_describedby="answer_views-help answer_views-error"),
                    rx.text(t("times ({min} to {max})", min=policy.views_min, max=policy.views_max), id="answer_views-help", size="1",
                            color_scheme="gray"),
                    _error("answer_views"),
                    spacing="1", flex="1", min_width="8rem",
                ),
                _lifetime("answer_minutes", t("The answer lasts"), t("From when it arrives; then it is deleted.")),
                spacing="3", wrap="wrap", width="100%",
            ),
            rx.vstack(
                rx.checkbox(t("Email me when it is answered"), name=NOTIFY, id=NOTIFY, default_checked=True, size="2",
                            spacing="2", aria_describedby=f"{NOTIFY}-help"),
                rx.text(t("Where this site sends mail. Your webhooks hear of the answer either way."),
                        id=f"{NOTIFY}-help", size="1", color_scheme="gray"),
                _error(NOTIFY),
                spacing="1",
            ),
            submit_button(rx.cond(RequestsState.working, rx.spinner(size="2"), rx.icon("send", size=16)),
                          t("Create the request link"), id="ask", size="3", disabled=RequestsState.working),
            spacing="3", width="100%",
        ),
        on_submit=RequestsState.ask, reset_on_submit=False,
    ), width="100%")


def _share() -> rx.Component:
    return shown_if(RequestsState.created, rx.card(rx.vstack(
        rx.heading(t("Send this link to the person who has the secret"), as_="h2", size="4"),
        rx.hstack(
            rx.input(id=LINK_FIELD, read_only=True, size="3", width="100%", aria_label=t("The request's link"),
                     style=READABLE,
                     on_focus=rx.call_function(rx.Var(f"() => document.getElementById('{LINK_FIELD}')?.select()"))),
            copy_button(LINK_FIELD, t("Copy"), t("Copy to the clipboard"), t("Copied to the clipboard")),
            width="100%", align="center",
        ),
        rx.text(t("It takes one answer. The answer is encrypted for you: it appears below and on your dashboard, "
                  "and you are told by email or webhook where you set those up."), size="2", color_scheme="gray"),
        rx.button(t("Ask for something else"), variant="ghost", on_click=RequestsState.ask_another),
        spacing="3", width="100%",
    ), id="request-share", width="100%"))


def _detail_words(row: rx.Var) -> rx.Var:
    return rx.match(
        row["state"],
        ("open", t("Link works {duration} more", duration=duration_words(row["left"].to(int)))),
        ("answered", rx.cond(row["files"] != "", t("Answered {time} with files", time=local_time(row["answered_at"])),
                             t("Answered {time}", time=local_time(row["answered_at"])))),
        t("Expired {time}", time=local_time(row["expires"])),
    )


def _answer_words(row: rx.Var) -> rx.Var:
    within = duration_words(row["seconds"].to(int))
    opens = rx.cond(row["views"] == "1", t("the answer opens 1 time within {duration}", duration=within),
                    t("the answer opens {count} times within {duration}", count=row["views"], duration=within))
    return rx.cond(row["mail"] != "", opens, t("{answer}, no mail", answer=opens))


def _request_row(row: rx.Var) -> rx.Component:
    request_id = row["id"].to(str)
    return rx.card(rx.vstack(
        rx.hstack(
            rx.badge(rx.match(row["state"], ("open", t("Waiting for an answer")), ("answered", t("Answered")), t("Expired")),
                     color_scheme=row["colour"].to(str), variant="soft", class_name="request-state"),
            rx.text(t("Asked {time}", time=local_time(row["created"])), size="1", color_scheme="gray"),
            wrap="wrap", align="center",
        ),
        rx.text(_detail_words(row), " · ", _answer_words(row), size="2"),
        rx.hstack(
            rx.input(id=MESSAGE_PREFIX + request_id, read_only=True, placeholder=t("Message hidden"), size="2",
                     flex="1", min_width="10rem", style=READABLE, aria_label=t("The request's message")),
            rx.button(t("Show message"), variant="soft", size="2", on_click=RequestsState.show_message(request_id)),
            width="100%", align="center", wrap="wrap",
        ),
        rx.cond(row["state"] == "open", rx.hstack(
            rx.button(rx.icon("copy", size=16), t("Copy link"), variant="soft", size="2",
                      on_click=RequestsState.copy_link(request_id)),
            copy_on_arrival(id=COPY_PREFIX + request_id, label=t("Your browser did not allow copying: copy the link here.")),
            align="center", wrap="wrap",
        )),
        rx.cond(row["answered"] != "", rx.button(rx.icon("eye", size=16), t("Open the answer"), size="2",
                                                 on_click=RequestsState.open_answer(request_id),
                                                 class_name="open-answer")),
        spacing="2", width="100%",
    ), width="100%", class_name="request-row")


def requests_page() -> rx.Component:
    return page_shell(
        # (page_shell's own heading takes plain text; these are in the visitor's language)
        rx.heading(t("Request a secret"), as_="h1", size="7", weight="bold"),
        rx.text(t("Ask someone for a password, a key or a file: they open your link, type the secret or attach "
                  "files, and send it. Only you can open the answer, under the views and time you choose."),
                size="3", color_scheme="gray"),
        rx.moment(interval=POLL_MS, format="HH:mm:ss", display="none", aria_hidden="true", on_change=RequestsState.poll),
        _form(),
        _share(),
        rx.cond(RequestsState.notice != "", rx.callout(t_var(RequestsState.notice), icon="info", width="100%", role="status")),
        rx.heading(t("Your requests"), as_="h2", size="5"),
        rx.cond(
            RequestsState.rows.length() > 0,
            rx.vstack(rx.foreach(RequestsState.rows, _request_row), spacing="2", width="100%"),
            rx.text(t("No requests yet."), color_scheme="gray", id="no-requests"),
        ),
        languages=True,
    )
