"""The dashboard's line about the account's requests for secrets (ui/requests.py has the page):
how many wait for an answer and how many were answered, with a link to them.  Counts only:
no message, no link."""

from __future__ import annotations

import reflex as rx

from pwpush_app.core.errors import ServerBusy
from pwpush_app.core.requests import requests_of
from pwpush_app.ui.common import in_thread, plural, runtime
from pwpush_app.ui.i18n import t
from pwpush_app.ui.session import current_user


class RequestsSummaryState(rx.State):
    summary: str = ""  # English, "" without requests (the page words `waiting` and `answered`)
    waiting: int = 0
    answered: int = 0

    @rx.event
    async def load(self, _tick: str = ""):
        user = await current_user(self)
        if user is None:
            self.summary = ""
            return
        try:
            views = await in_thread(requests_of, runtime(), user.id)
        except ServerBusy:
            return
        waiting = sum(1 for view in views if view.state == "open")
        answered = sum(1 for view in views if view.state == "answered")
        self.waiting, self.answered = waiting, answered
        self.summary = (f"Requests: {plural(waiting, 'request')} waiting for an answer, {answered} answered."
                        if views else "")


def _summary_words() -> rx.Var:
    answered = RequestsSummaryState.answered
    return rx.cond(
        RequestsSummaryState.waiting == 1,
        t("Requests: 1 request waiting for an answer, {answered} answered.", answered=answered),
        t("Requests: {count} requests waiting for an answer, {answered} answered.", count=RequestsSummaryState.waiting,
          answered=answered),
    )


def requests_summary() -> rx.Component:
    return rx.box(
        rx.cond(
            RequestsSummaryState.summary != "",
            rx.callout(rx.text(_summary_words(), " ", rx.link(t("See them"), href="/requests",
                                                                         underline="always")),
                       icon="inbox", color_scheme="gray", width="100%", id="dash-requests"),
        ),
        on_mount=RequestsSummaryState.load,
        width="100%",
    )
