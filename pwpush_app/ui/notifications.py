"""The account page's cards about mail: what to be told about one's pushes (by mail, or one
daily digest), webhooks with their delivery log, and mails that could not be delivered.

A webhook's signing secret is shown once: the event that makes it hands it to a read-only
field as an event result (`rx.set_value`), never through a state var.  The endpoint's
address arrives in the form's data and goes straight to the core, which seals it.
"""

from __future__ import annotations

import reflex as rx

from pwpush_app.core import outbox, webhooks
from pwpush_app.core.errors import ServerBusy
from pwpush_app.core.owner_events import NoticeChoices, choose_notices, notice_choices
from pwpush_app.settings import get_settings
from pwpush_app.ui.common import BUSY_MESSAGE, in_thread, runtime
from pwpush_app.ui.components.audit_words import iso_moment
from pwpush_app.ui.components.fields import copy_button, field_label, submit_button
from pwpush_app.ui.i18n import N_, local_time, refusal_text, sentences_of, stored_sentences, stored_text, t, t_var
from pwpush_app.ui.session import current_user

SECRET_BOX = "webhook-secret"
CHOICES = ("on_view", "on_failed_passphrase", "on_expire", "daily_digest")
DELIVERY_WORDS = {"pending": N_("Retrying"), "delivered": N_("Delivered"), "failed": N_("Given up")}
SIGNATURE_EXAMPLE = """import hashlib, hmac, time

def is_from_pwpush(secret: str, headers, body: bytes) -> bool:
    timestamp = headers["X-Pwpush-Timestamp"]
    expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body,
                                    hashlib.sha256).hexdigest()
    fresh = abs(time.time() - int(timestamp)) < 300
    return fresh and hmac.compare_digest(expected, headers["X-Pwpush-Signature"])"""


class NoticesState(rx.State):
    on_view: bool = False
    on_failed_passphrase: bool = False
    on_expire: bool = False
    daily_digest: bool = False
    saved: str = ""
    endpoints: list[dict[str, str]] = []
    deliveries: list[dict[str, str]] = []
    problems: list[dict[str, str]] = []
    webhook_error: str = ""
    webhook_error_sentences: list[dict] = []
    # The endpoint whose new secret is on screen ("" for none).
    secret_for: str = ""

    def _refused(self, text: str, refusal: Exception | None = None) -> None:
        """A webhook refusal: worded from its sentences when the core gave them (none for a busy server)."""
        self.webhook_error, self.webhook_error_sentences = text, sentences_of(refusal) if refusal else []

    async def _user_id(self) -> str | None:
        user = await current_user(self)
        return user.id if user else None

    @rx.event
    async def load(self):
        self.saved, self.webhook_error, self.secret_for = "", "", ""
        user_id = await self._user_id()
        if user_id is None:
            return
        choices = await in_thread(notice_choices, runtime(), user_id)
        for name in CHOICES:
            setattr(self, name, getattr(choices, name))
        await self._refresh(user_id)

    async def _refresh(self, user_id: str) -> None:
        # Moments as ISO: the browser writes them in the viewer's zone and language.
        self.endpoints = [{"id": e.id, "display": e.display, "secret_made": iso_moment(e.secret_created_at)}
                          for e in await in_thread(webhooks.webhooks_of, runtime(), user_id)]
        self.deliveries = [_delivery_row(d) for d in await in_thread(webhooks.deliveries_of, runtime(), user_id)]
        self.problems = [_problem_row(p) for p in await in_thread(outbox.mail_problems, runtime(), user_id)]

    @rx.event
    async def refresh(self):
        user_id = await self._user_id()
        if user_id is not None:
            await self._refresh(user_id)

    @rx.event
    async def choose(self, name: str, on: bool):
        if name not in CHOICES:
            return
        user_id = await self._user_id()
        if user_id is None:
            return rx.redirect("/login")
        setattr(self, name, bool(on))
        try:
            await in_thread(choose_notices, runtime(), user_id, NoticeChoices(
                self.on_view, self.on_failed_passphrase, self.on_expire, self.daily_digest))
        except ServerBusy:
            self.saved = BUSY_MESSAGE
            return
        self.saved = N_("Saved.")

    @rx.event
    async def add_webhook(self, form_data: dict):
        user_id = await self._user_id()
        if user_id is None:
            yield rx.redirect("/login")
            return
        url = form_data.get("webhook_url")
        try:
            endpoint, secret = await in_thread(webhooks.add_webhook, runtime(), user_id, url if isinstance(url, str) else "")
        except webhooks.WebhookError as refusal:
            self._refused(str(refusal), refusal)
            return
        except ServerBusy:
            self._refused(BUSY_MESSAGE)
            return
        self.webhook_error, self.secret_for = "", endpoint.id
        await self._refresh(user_id)
        yield
        yield [rx.set_value(SECRET_BOX, secret), rx.set_value("webhook_url", "")]

    @rx.event
    async def new_secret(self, webhook_id: str):
        user_id = await self._user_id()
        if user_id is None:
            return
        try:
            secret = await in_thread(webhooks.replace_secret, runtime(), user_id, webhook_id)
        except webhooks.WebhookError as refusal:
            self._refused(str(refusal), refusal)
            return
        self.webhook_error, self.secret_for = "", webhook_id
        await self._refresh(user_id)
        yield
        yield rx.set_value(SECRET_BOX, secret)

    @rx.event
    async def remove(self, webhook_id: str):
        await self._act(webhooks.remove_webhook, webhook_id)
        self.secret_for = ""
        return rx.set_value(SECRET_BOX, "")

    @rx.event
    async def test(self, webhook_id: str):
        await self._act(webhooks.send_test_event, webhook_id)

    @rx.event
    async def dismiss(self, mail_id: str):
        await self._act(outbox.dismiss_mail_problem, mail_id)

    async def _act(self, action, target: str) -> None:
        user_id = await self._user_id()
        if user_id is None or not isinstance(target, str):
            return
        try:
            await in_thread(action, runtime(), user_id, target)
        except webhooks.WebhookError as refusal:
            self._refused(str(refusal), refusal)
        except ServerBusy:
            self._refused(BUSY_MESSAGE)
        await self._refresh(user_id)


def _delivery_row(d: webhooks.DeliveryView) -> dict[str, str]:
    """`kind` picks the page's sentence for `detail` (ui: `_delivery_detail`); times as ISO moments."""
    if d.status == "delivered":
        kind = "retried" if d.attempts > 1 else "delivered"
    elif d.status == "pending" and d.attempts == 0:
        kind = "waiting"
    else:
        kind = "retrying" if d.status == "pending" else "failed"
    word = N_("Queued") if kind == "waiting" else DELIVERY_WORDS.get(d.status, d.status)
    return {"id": d.id, "time": iso_moment(d.created_at), "event": d.event, "endpoint": d.endpoint, "state": word,
            "kind": kind, "status": str(d.response_status or ""), "attempts": str(d.attempts),
            "next": iso_moment(d.next_attempt_at), "error": d.last_error or "",
            "error_sentences": stored_sentences(d.last_error or "", webhooks.FAILURES)}


def _problem_row(p: outbox.MailProblem) -> dict[str, str]:
    return {"id": p.id, "time": iso_moment(p.created_at), "what": outbox.PURPOSE_LABELS.get(p.purpose, p.purpose),
            "to": p.recipient, "attempts": str(p.attempts), "next": iso_moment(p.next_attempt_at), "error": p.error,
            "error_sentences": stored_sentences(p.error, outbox.FAILURES), "given_up": "yes" if p.given_up else ""}


# --- the cards ------------------------------------------------------------------------------------

def _choice(label, name: str, help_text) -> rx.Component:
    return rx.el.label(
        rx.hstack(
            rx.checkbox(checked=getattr(NoticesState, name), on_change=lambda on: NoticesState.choose(name, on),
                        id=f"notice-{name}", aria_labelledby=f"notice-{name}-label",
                        aria_describedby=f"notice-{name}-help"),
            # The checkbox is a button: a wrapping <label> doesn't name it for assistive technology.
            rx.vstack(rx.text(label, size="2", weight="medium", id=f"notice-{name}-label"),
                      rx.text(help_text, size="1", color_scheme="gray", id=f"notice-{name}-help"), spacing="0"),
            align="start",
            spacing="2",
        ),
    )


def notifications_card() -> rx.Component:
    if not get_settings().mail.configured:
        return rx.fragment()
    return rx.card(
        rx.vstack(
            rx.heading(t("Tell me about my pushes"), as_="h2", size="4"),
            _choice(t("When one is viewed"), "on_view", t("With the time, the viewer's IP address and the views left.")),
            _choice(t("When someone tries a wrong passphrase"), "on_failed_passphrase", t("Nothing is shown to them.")),
            _choice(t("When one expires or its recipient deletes it"), "on_expire", t("Its secret is deleted then.")),
            rx.separator(size="4"),
            _choice(t("One mail a day instead"), "daily_digest",
                    t("A digest at {hour}:00 UTC, only on days when something happened.",
                      hour=f"{get_settings().mail.digest_hour_utc:02d}")),
            rx.text(t_var(NoticesState.saved), size="1", color_scheme="gray", aria_live="polite", id="notices-saved"),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="notices-card",
    )


def _endpoint_row(endpoint: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.text(endpoint["display"], size="2", weight="medium", word_break="break-all"),
            rx.text(t("Secret made {time}", time=local_time(endpoint["secret_made"])), size="1", color_scheme="gray"),
            spacing="0",
            flex="1",
            min_width="10rem",
        ),
        rx.button(t("Send a test"), size="1", variant="soft", on_click=NoticesState.test(endpoint["id"])),
        rx.button(t("New secret"), size="1", variant="soft", on_click=NoticesState.new_secret(endpoint["id"])),
        rx.button(t("Remove"), size="1", variant="soft", color_scheme="red", on_click=NoticesState.remove(endpoint["id"])),
        wrap="wrap",
        align="center",
        spacing="2",
        width="100%",
        class_name="webhook-endpoint",
    )


def _secret_box() -> rx.Component:
    return rx.box(
        rx.vstack(
            rx.callout(t("Copy the signing secret now: it is shown only once. Your receiver checks X-Pwpush-Signature "
                         "with it."), icon="key-round", color_scheme="amber", width="100%"),
            rx.hstack(
                rx.el.input(id=SECRET_BOX, read_only=True, aria_label=t("The webhook's signing secret"), dir="ltr",
                            style={"flex": "1", "minWidth": "0", "fontFamily": "monospace", "padding": "0.5rem",
                                   "border": "1px solid var(--gray-a7)", "borderRadius": "var(--radius-2)",
                                   "background": "var(--color-surface)", "color": "var(--gray-12)"}),
                copy_button(SECRET_BOX, t("Copy"), t("Copy to the clipboard"), t("Copied to the clipboard")),
                width="100%",
            ),
            width="100%",
        ),
        display=rx.cond(NoticesState.secret_for != "", "block", "none"),
        width="100%",
    )


def _reason(row: rx.Var) -> rx.Var:
    """Why a delivery failed, in the visitor's language (an endpoint's or mail server's own answer as it came)."""
    return stored_text(row["error"], row["error_sentences"])


def _delivery_detail(row: rx.Var) -> rx.Component:
    return rx.match(
        row["kind"],
        ("delivered", "HTTP " + row["status"]),
        ("retried", t("HTTP {status} after {count} tries", status=row["status"], count=row["attempts"])),
        ("waiting", t("Waiting to be sent")),
        ("retrying", _reason(row) + " " + t("(try {count}; next at {time})", count=row["attempts"],
                                           time=local_time(row["next"]))),
        _reason(row) + " " + t("({count} tries)", count=row["attempts"]),
    )


def _log_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(local_time(row["time"])),
        rx.table.cell(rx.code(row["event"], word_break="break-all"), rx.text(row["endpoint"], size="1", color_scheme="gray", word_break="break-all")),
        rx.table.cell(rx.text(t_var(row["state"]), weight="medium"),
                      rx.text(_delivery_detail(row), size="1", color_scheme="gray")),
    )


def webhooks_card() -> rx.Component:
    if not get_settings().mail.webhooks:
        return rx.fragment()
    return rx.card(
        rx.vstack(
            rx.heading(t("Webhooks"), as_="h2", size="4"),
            rx.text(t("Your endpoint gets a signed JSON event when one of your pushes is viewed, gets a wrong passphrase, "
                      "expires or is deleted: never the secret, never its link."), size="2"),
            rx.el.details(
                rx.el.summary(rx.text(t("How your receiver checks an event"), size="2", as_="span")),
                rx.text(t("Each request carries X-Pwpush-Timestamp and X-Pwpush-Signature. Recompute the signature over "
                          "the raw body and compare; refuse timestamps older than five minutes; X-Pwpush-Delivery is the "
                          "same for every retry of one event."), size="2", margin_y="0.5rem"),
                rx.el.pre(rx.el.code(SIGNATURE_EXAMPLE), dir="ltr", text_align="left", white_space="pre-wrap", font_size="0.8rem",
                          background="var(--gray-a3)", padding="0.75rem", border_radius="var(--radius-2)", margin="0"),
                width="100%",
            ),
            rx.foreach(NoticesState.endpoints, _endpoint_row),
            _secret_box(),
            rx.form(
                rx.vstack(
                    field_label(t("Endpoint address"), "webhook_url"),
                    rx.hstack(
                        rx.input(id="webhook_url", name="webhook_url", type="url", placeholder="https://hooks.example.com/pwpush",
                                 size="3", flex="1", min_width="14rem", auto_complete="off", aria_describedby="webhook-error",
                                 dir="ltr"),
                        submit_button(t("Add webhook"), id="add-webhook", size="3"),
                        wrap="wrap",
                        width="100%",
                    ),
                    rx.cond(NoticesState.webhook_error != "",
                            rx.text(refusal_text(NoticesState.webhook_error, NoticesState.webhook_error_sentences),
                                    size="2", color_scheme="red", role="alert", id="webhook-error")),
                    spacing="1",
                    width="100%",
                ),
                on_submit=NoticesState.add_webhook,
                reset_on_submit=False,
                width="100%",
            ),
            rx.cond(
                NoticesState.deliveries.length() > 0,
                rx.vstack(
                    rx.hstack(rx.heading(t("Delivery log"), as_="h3", size="3"), rx.spacer(),
                              rx.button(t("Refresh"), size="1", variant="ghost", on_click=NoticesState.refresh, id="refresh-log"),
                              width="100%", align="center"),
                    rx.box(
                        rx.table.root(
                            rx.table.header(rx.table.row(rx.table.column_header_cell(t("When")),
                                                         rx.table.column_header_cell(t("Event")),
                                                         rx.table.column_header_cell(t("Result")))),
                            rx.table.body(rx.foreach(NoticesState.deliveries, _log_row)),
                            # Fixed columns that wrap: Radix puts a table in a scroll area, which
                            # keyboard users could not scroll on a phone.
                            size="1", width="100%", layout="fixed", id="delivery-log",
                        ),
                        width="100%",
                    ),
                    width="100%",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="webhooks-card",
    )


def _problem(row: rx.Var) -> rx.Component:
    return rx.callout.root(
        rx.callout.icon(rx.icon("mail-x")),
        rx.callout.text(
            rx.text.strong(t("{what} to {address}", what=t_var(row["what"]), address=row["to"])),
            " (", local_time(row["time"]), "): ",
            rx.cond(row["given_up"] != "", t("Not delivered"),
                    t("Retrying (try {count}; next at {time})", count=row["attempts"], time=local_time(row["next"]))),
            ". ", _reason(row),
        ),
        rx.cond(row["given_up"] != "", rx.button(t("Dismiss"), size="1", variant="ghost", on_click=NoticesState.dismiss(row["id"]))),
        color_scheme=rx.cond(row["given_up"] != "", "red", "amber"),
        width="100%",
        class_name="mail-problem",
    )


def mail_problems_card() -> rx.Component:
    return rx.cond(
        NoticesState.problems.length() > 0,
        rx.vstack(
            rx.heading(t("Mail that did not arrive"), as_="h2", size="4"),
            rx.foreach(NoticesState.problems, _problem),
            width="100%",
            id="mail-problems",
        ),
    )
