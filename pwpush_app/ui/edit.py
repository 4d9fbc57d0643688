"""Edit (`/manage/[manage_token]/edit` and `/dashboard/edit/[push_id]`): the owner changes a
live push, as Password Pusher's edit page lets them (core/owners.py: `edit_push`).

Reached from the manage page (the creator holds the manage link) and from the dashboard (the
account's own push, checked by the core).  The secret and the passphrase are never shown:
their fields start empty and an empty field keeps them.  Like the create form, the form is
uncontrolled and its texts travel once, in the submit event, straight into the core; the
current note (owner-visible, encrypted at rest) reaches its field as an event result.
"""

from __future__ import annotations

import dataclasses

import reflex as rx

from pwpush_app.core.clock import utcnow
from pwpush_app.core.errors import InvalidPush, NoLongerEditable, PushError, PushUnavailable, ServerBusy
from pwpush_app.core.models import Push
from pwpush_app.core.owners import PushEdit, edit_push, owned_push
from pwpush_app.core.records import find_managed, open_note
from pwpush_app.settings import get_settings
from pwpush_app.ui.common import (
    BUSY_MESSAGE,
    KIND_LABELS,
    client_of,
    form_text,
    form_whole_number,
    in_thread,
    runtime,
)
from pwpush_app.ui.components.audit_words import duration_words, iso_moment
from pwpush_app.ui.components.fields import field_error, field_label, submit_button
from pwpush_app.ui.components.layout import page_shell
from pwpush_app.ui.create_state import CUSTOM, LIFETIME_PRESETS, UNIT_MINUTES, UNIT_WORDS, lifetime_words
from pwpush_app.ui.i18n import N_, local_time, t, t_var
from pwpush_app.ui.session import current_user

NOTE_FIELD = "edit-note"
NOTE_FILLED = "edit-note-filled"
CLEARED_FIELDS = ("edit-payload", "edit-passphrase")
EXPIRED_MESSAGE = NoLongerEditable().args[0]


class EditState(rx.State):
    # loading | found | unavailable | expired
    status: str = "loading"
    from_dashboard: bool = False
    kind: str = "text"
    kind_label: str = ""
    name: str = ""
    views_total: str = ""
    lifetime_choice: str = ""
    lifetime_options: list[str] = []
    # The hints' facts, for the page to word in the visitor's language (times as ISO moments).
    hint_facts: dict[str, str] = {}
    has_passphrase: bool = False
    has_note: bool = False
    retrieval_step: bool = True
    retrieval_step_allowed: bool = True
    deletable: bool = False
    deletable_allowed: bool = True
    errors: dict[str, str] = {}
    notice: str = ""
    message: str = ""
    saving: bool = False

    def _address(self) -> tuple[str, str]:
        """("manage", manage token) or ("account", push id), from the page's own address."""
        parts = self.router.url.path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "dashboard" and parts[1] == "edit":
            return "account", parts[2]
        if len(parts) == 3 and parts[0] == "manage" and parts[2] == "edit":
            return "manage", parts[1]
        return "", ""

    async def _push(self) -> tuple[Push, str | None]:
        """The push this page edits, and the account editing it (None through a manage link);
        PushUnavailable when there is none or it isn't this account's."""
        how, key = self._address()
        if how == "manage":
            return await in_thread(find_managed, runtime(), key), None
        user = await current_user(self) if how == "account" else None
        if user is None:
            raise PushUnavailable()
        return await in_thread(owned_push, runtime(), user.id, key), user.id

    @rx.event
    async def load(self):
        self.reset()
        self.from_dashboard = self._address()[0] == "account"
        try:
            push, _user = await self._push()
        except PushUnavailable:
            self.status = "unavailable"
            return
        except ServerBusy:
            self.status, self.message = "unavailable", BUSY_MESSAGE
            return
        self._show(push)

    def _show(self, push: Push) -> None:
        now = utcnow()
        if not push.is_live(now):
            self.status = "expired"
            return
        policy = get_settings().policy(push.kind)
        age = int((now - push.created_at).total_seconds() // 60)
        self.status = "found"
        self.kind, self.kind_label = push.kind, KIND_LABELS.get(push.kind, push.kind)
        self.name = push.name
        self.views_total = str(push.expire_after_views)
        lowest = max(policy.views_min, push.views_used + 1)
        minutes = {m for m in LIFETIME_PRESETS if max(policy.minutes_min, age + 1) <= m <= policy.minutes_max}
        minutes.add(push.expire_after_minutes)
        self.lifetime_options = [str(m) for m in sorted(minutes)] + [CUSTOM]
        self.lifetime_choice = str(push.expire_after_minutes)
        self.hint_facts = {"used": str(push.views_used), "left": str(push.views_left), "lowest": str(lowest),
                           "max": str(policy.views_max), "age": str(int((now - push.created_at).total_seconds())),
                           "ends": iso_moment(push.expires_at),
                           "time_left": str(max(0, int(push.time_left(now).total_seconds()))),
                           "longest": str(policy.minutes_max * 60)}
        self.has_passphrase, self.has_note = push.has_passphrase, push.note_sealed is not None
        self.retrieval_step, self.retrieval_step_allowed = push.retrieval_step, policy.retrieval_step_allowed
        self.deletable, self.deletable_allowed = push.deletable_by_viewer, policy.deletable_by_viewer_allowed

    @rx.event
    async def send_note(self):
        """Fill the note field once it is on the page: an event result, never state."""
        try:
            push, _user = await self._push()
            note = await in_thread(open_note, runtime(), push)
        except (PushUnavailable, ServerBusy):
            return
        return [rx.set_value(NOTE_FIELD, note), rx.set_value(NOTE_FILLED, "1")]

    @rx.event
    def choose_lifetime(self, choice: str):
        self.lifetime_choice = choice
        self.errors.pop("expire_after", None)

    @rx.event
    def set_retrieval_step(self, on: bool):
        self.retrieval_step = bool(on)

    @rx.event
    def set_deletable(self, on: bool):
        self.deletable = bool(on)

    def _changes(self, form_data: dict, push: Push) -> PushEdit:
        """The form as a PushEdit: empty secret and passphrase fields keep them; what was not
        changed is not sent (so a limit changed since creation doesn't refuse an edit of the name)."""
        views = form_whole_number(form_data.get("expire_after_views"))
        if self.lifetime_choice == CUSTOM:
            amount = form_whole_number(form_data.get("custom_amount"))
            unit = UNIT_MINUTES.get(form_text(form_data, "custom_unit"), 0)
            minutes = amount * unit if isinstance(amount, int) and unit else str(amount)
        else:
            minutes = form_whole_number(self.lifetime_choice)
        passphrase = "" if form_data.get("remove_passphrase") else (form_text(form_data, "passphrase") or None)
        note_known = not self.has_note or form_text(form_data, "note_filled") == "1"
        return PushEdit(
            name=form_text(form_data, "name"),
            note=form_text(form_data, "note") if note_known else None,
            payload=form_text(form_data, "payload") or None,
            passphrase=passphrase,
            expire_after_views=None if views == push.expire_after_views else views,
            expire_after_minutes=None if minutes == push.expire_after_minutes else minutes,
            retrieval_step=self.retrieval_step if self.retrieval_step != push.retrieval_step else None,
            deletable_by_viewer=self.deletable if self.deletable != push.deletable_by_viewer else None,
        )

    @rx.event
    async def save(self, form_data: dict):
        if self.saving or self.status != "found":
            return
        self.saving, self.notice, self.message = True, "", ""
        yield
        try:
            push, user_id = await self._push()
            client = dataclasses.replace(client_of(self), user_id=user_id)
            push = await in_thread(edit_push, runtime(), push, self._changes(form_data, push), client)
        except InvalidPush as refusal:
            self.errors = dict(refusal.errors)
            return
        except NoLongerEditable:
            self.status = "expired"
            return
        except PushUnavailable:
            self.status = "unavailable"
            return
        except ServerBusy:
            self.message = BUSY_MESSAGE
            return
        except PushError as refusal:
            self.message = str(refusal)
            return
        finally:
            self.saving = False
        self._show(push)
        self.errors, self.notice = {}, N_("Saved. The link is the same; the recipient sees the changes.")
        yield [rx.set_value(field, "") for field in CLEARED_FIELDS]


# --- the page -----------------------------------------------------------------------------------

def _error(field: str) -> rx.Component:
    return field_error(t_var(EditState.errors.get(field, "")), field)


BACK = rx.call_function(rx.Var("() => { window.location.assign(window.location.pathname.replace(/\\/edit\\/?$/, '')) }"))


def _back_button() -> rx.Component:
    return rx.cond(
        EditState.from_dashboard,
        rx.link(rx.button(rx.icon("arrow-left", size=16, aria_hidden="true"), t("Dashboard"), variant="soft",
                          color_scheme="gray", type="button"), href="/dashboard"),
        rx.button(rx.icon("arrow-left", size=16, aria_hidden="true"), t("Manage page"), variant="soft", color_scheme="gray",
                  type="button", on_click=BACK, id="edit-back"),
    )


def _secret_field() -> rx.Component:
    words = rx.match(EditState.kind, ("url", t("New web address (optional)")), ("qr", t("New text for the QR code (optional)")),
                     ("file", t("New message beside the files (optional)")), t("New secret (optional)"))
    return rx.vstack(
        rx.el.label(rx.text(words, size="2", weight="medium"), html_for="edit-payload"),
        rx.text_area(id="edit-payload", name="payload", rows="3", width="100%", size="3", spell_check=False,
                     custom_attrs={"autoComplete": "off"}, aria_describedby="edit-payload-help payload-error",
                     placeholder=t("Leave empty to keep the current one"), style={"fontFamily": "var(--code-font-family)"}),
        rx.text(t("The current one is never shown here. A new one replaces it behind the same link."),
                id="edit-payload-help", size="1", color_scheme="gray"),
        _error("payload"),
        spacing="1",
        width="100%",
    )


def _views_words() -> rx.Var:
    facts = EditState.hint_facts
    values = {"left": facts["left"], "lowest": facts["lowest"], "max": facts["max"]}
    return rx.cond(facts["used"] == "1", t("1 view used, {left} left. From {lowest} to {max} in all.", **values),
                   t("{used} views used, {left} left. From {lowest} to {max} in all.", used=facts["used"], **values))


def _lifetime_words() -> rx.Var:
    facts = EditState.hint_facts
    return t("Counted from its creation, {age} ago. Now it ends {time} ({left} left); at most {longest}.",
             age=duration_words(facts["age"].to(int)), time=local_time(facts["ends"]),
             left=duration_words(facts["time_left"].to(int)), longest=duration_words(facts["longest"].to(int)))


def _limits() -> rx.Component:
    views = rx.vstack(
        field_label(t("Views in all"), "edit-views"),
        rx.input(id="edit-views", name="expire_after_views", type="number", input_mode="numeric",
                 default_value=EditState.views_total, key=EditState.views_total, size="3", width="100%",
                 aria_describedby="edit-views-help expire_after_views-error"),
        rx.text(_views_words(), id="edit-views-help", size="1", color_scheme="gray"),
        _error("expire_after_views"),
        spacing="1", flex="1", min_width="10rem",
    )
    lifetime = rx.vstack(
        field_label(t("Lifetime"), "edit-lifetime"),
        rx.select.root(
            rx.select.trigger(id="edit-lifetime", width="100%", aria_describedby="edit-lifetime-help expire_after-error"),
            rx.select.content(rx.foreach(EditState.lifetime_options, lambda o: rx.select.item(lifetime_words(o), value=o))),
            value=EditState.lifetime_choice,
            on_change=EditState.choose_lifetime,
            size="3",
        ),
        rx.cond(
            EditState.lifetime_choice == CUSTOM,
            rx.hstack(
                rx.input(name="custom_amount", type="number", input_mode="numeric", min=1, default_value="2",
                         aria_label=t("Custom lifetime amount"), size="3", width="6rem"),
                rx.select.root(rx.select.trigger(aria_label=t("Custom lifetime unit")),
                               rx.select.content(*[rx.select.item(t(UNIT_WORDS[unit]), value=unit) for unit in UNIT_MINUTES]),
                               name="custom_unit", default_value="days", size="3"),
                width="100%",
            ),
        ),
        rx.text(_lifetime_words(), id="edit-lifetime-help", size="1", color_scheme="gray"),
        _error("expire_after"),
        spacing="1", flex="2", min_width="14rem",
    )
    return rx.flex(views, lifetime, wrap="wrap", width="100%", style={"gap": "1rem"})


def _switch(label: rx.Var, field_id: str, checked, on_change) -> rx.Component:
    return rx.el.label(
        rx.hstack(rx.switch(checked=checked, on_change=on_change, class_name=field_id), rx.text(label, size="2"),
                  align="center", spacing="3"),
        width="100%",
    )


def _options() -> rx.Component:
    return rx.vstack(
        rx.cond(EditState.retrieval_step_allowed,
                _switch(t("Click to reveal (link previews can't use up a view)"), "edit-retrieval-step",
                        EditState.retrieval_step, EditState.set_retrieval_step)),
        rx.cond(EditState.deletable_allowed,
                _switch(t("Recipients may delete it"), "edit-deletable", EditState.deletable, EditState.set_deletable)),
        spacing="3",
        width="100%",
    )


def _private_fields() -> rx.Component:
    def group(*children) -> rx.Component:
        return rx.vstack(*children, spacing="1", width="100%")

    return rx.vstack(
        group(
            field_label(t("Passphrase"), "edit-passphrase"),
            rx.input(id="edit-passphrase", name="passphrase", type="password", auto_complete="new-password", size="3",
                     width="100%", aria_describedby="passphrase-error",
                     placeholder=rx.cond(EditState.has_passphrase, t("Leave empty to keep it"), t("Leave empty for none"))),
            rx.cond(EditState.has_passphrase,
                    rx.el.label(rx.hstack(rx.el.input(type="checkbox", name="remove_passphrase", id="remove-passphrase"),
                                          rx.text(t("Remove the passphrase"), size="2"), align="center", spacing="2"))),
            _error("passphrase"),
        ),
        group(
            field_label(t("Name (only you see it)"), "edit-name"),
            rx.input(id="edit-name", name="name", default_value=EditState.name, key=EditState.name, size="3",
                     width="100%", auto_complete="off", aria_describedby="name-error"),
            _error("name"),
        ),
        group(
            field_label(t("Note (only you see it, encrypted)"), NOTE_FIELD),
            rx.text_area(id=NOTE_FIELD, name="note", rows="2", size="3", width="100%", aria_describedby="note-error"),
            rx.el.input(type="hidden", id=NOTE_FILLED, name="note_filled"),
            rx.cond(EditState.has_note, rx.box(on_mount=EditState.send_note, display="none")),
            _error("note"),
        ),
        spacing="4",
        width="100%",
    )


def _form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.hstack(rx.badge(rx.match(EditState.kind, ("text", t("Text")), ("file", t("Files")), ("url", t("URL")),
                                        ("qr", t("QR code")), EditState.kind_label), variant="soft", color_scheme="gray"), _back_button(),
                      justify="between", align="center", width="100%"),
            _secret_field(),
            rx.card(rx.vstack(_limits(), rx.separator(size="4"), _options(), spacing="4"), width="100%"),
            _private_fields(),
            rx.cond(EditState.notice != "", rx.callout(t_var(EditState.notice), icon="circle-check", color_scheme="green",
                                                       id="edit-notice", role="status", width="100%")),
            rx.cond(EditState.message != "", rx.callout(t_var(EditState.message), icon="triangle-alert", color_scheme="red",
                                                        role="alert", width="100%")),
            submit_button(rx.icon("save", size=16, aria_hidden="true"), t("Save changes"), size="3",
                      loading=EditState.saving, id="edit-save", width="100%"),
            spacing="4",
            width="100%",
        ),
        on_submit=EditState.save,
        reset_on_submit=False,
        no_validate=True,
        width="100%",
        id="edit-form",
    )


def _gone(heading: rx.Var, text: rx.Var, element_id: str) -> rx.Component:
    return rx.card(
        rx.vstack(rx.heading(heading, as_="h2", size="5"), rx.text(text, color_scheme="gray"),
                  rx.text(t_var(EditState.message), color_scheme="red", size="2"), _back_button(), spacing="3"),
        width="100%",
        id=element_id,
    )


def edit_page() -> rx.Component:
    return page_shell(
        # (page_shell's own heading takes plain text; these are in the visitor's language)
        rx.heading(t("Edit a push"), as_="h1", size="7", weight="bold"),
        rx.text(t("Change its limits, options and private notes, or give the same link a new secret."), size="3",
                color_scheme="gray"),
        rx.match(
            EditState.status,
            ("loading", rx.card(rx.skeleton(rx.box(height="12rem")), width="100%")),
            ("unavailable", _gone(t("No push of yours here"), t("Check that you copied the whole manage link, or open "
                                                                  "it from your dashboard."), "edit-unavailable")),
            ("expired", _gone(t_var(rx.Var.create(EXPIRED_MESSAGE)),
                              t("Its secret is deleted. Create a new push to share it again."), "edit-expired")),
            _form(),
        ),
        languages=True,
    )
