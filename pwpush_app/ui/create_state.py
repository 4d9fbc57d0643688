"""The create form's state: the sender's harmless choices, and what turns the form into a `NewPush`.

The form is uncontrolled: the secret, passphrase, name and note travel once, in the
upload that sends the form (create_text_upload.py, create_files.py), straight into the
core, and are never assigned to state.
Only harmless choices (kind, lifetime preset, toggles, generator options) live here.
Every rule (limits, defaults, messages) is the core's: this translates the form into a
`NewPush` and puts the core's messages next to their fields.
"""

from __future__ import annotations

import dataclasses

import reflex as rx

from pwpush_app.core.audit import Client
from pwpush_app.core.create import NewPush, describe_minutes
from pwpush_app.core.file_uploads import files_need_login
from pwpush_app.core.link_mail import split_addresses
from pwpush_app.core.recipients import asks_for_recipients, parse_recipients
from pwpush_app.settings import KindPolicy, get_settings
from pwpush_app.ui.common import UI_KINDS, client_of, form_text, form_whole_number
from pwpush_app.ui.components.audit_words import duration_words
from pwpush_app.ui.i18n import N_, refusal_text, sentences_of, t
from pwpush_app.ui.session import current_user

LIFETIME_PRESETS = (5, 15, 30, 60, 3 * 60, 12 * 60, 1440, 3 * 1440, 7 * 1440, 14 * 1440, 30 * 1440, 90 * 1440)
UNIT_MINUTES = {"minutes": 1, "hours": 60, "days": 1440}
CUSTOM = "custom"
KIND_SHORT_LABELS = {"text": N_("Text"), "file": N_("Files"), "url": N_("URL"), "qr": N_("QR")}
# The kind tabs' accessible names.
KIND_PUSH_NAMES = {"text": N_("Text push"), "file": N_("Files push"), "url": N_("URL push"), "qr": N_("QR code push")}
# The custom lifetime's units, as the select shows them (its values stay these English keys).
UNIT_WORDS = {"minutes": N_("minutes"), "hours": N_("hours"), "days": N_("days")}


def lifetime_choices(policy: KindPolicy) -> list[tuple[str, str]]:
    """The presets the kind's policy allows, its default among them, then "custom"."""
    minutes = {m for m in LIFETIME_PRESETS if policy.minutes_min <= m <= policy.minutes_max}
    minutes.add(policy.minutes_default)
    return [(str(m), describe_minutes(m)) for m in sorted(minutes)] + [(CUSTOM, "Custom…")]


def lifetime_words(minutes: rx.Var | int | str) -> rx.Var:
    """A lifetime choice ("3 days", "3 jours") in the viewer's language; "Custom…" likewise."""
    if isinstance(minutes, rx.Var):
        return rx.cond(minutes == CUSTOM, t("Custom…"), duration_words(minutes.to(int) * 60))
    if minutes == CUSTOM:
        return t("Custom…")
    return duration_words(rx.Var.create(int(minutes) * 60))


class Refusal(Exception):
    """A field's message as `sentences_of` reads it (a core `Said` keeps its sentences)."""

    def __init__(self, text: str):
        super().__init__(text)
        self.sentences = getattr(text, "sentences", ())


def error_text(field: str) -> rx.Var:
    """A field's refusal in the viewer's language ("" while there is none)."""
    # Its sentences only while the refusal stands (a change of the field forgets it in `errors`).
    sentences = rx.cond(CreateState.errors.contains(field), CreateState.error_sentences.get(field, []), [])
    return refusal_text(CreateState.errors.get(field, ""), sentences)


def kind_policy(kind: str = "text") -> KindPolicy:
    return get_settings().policy(kind)


class CreateState(rx.State):
    kind: str = "text"
    errors: dict[str, str] = {}
    # Each refusal's sentences (English templates and values), worded in the viewer's language.
    error_sentences: dict[str, list[dict]] = {}
    # Counts the answers to the form: a field's forget_error carries the count of when the
    # sender typed, so one sent late (debounced) forgets nothing newer than that typing.
    answer_round: int = 0
    lifetime_choice: str = str(kind_policy().minutes_default)
    retrieval_step: bool = kind_policy().retrieval_step_default
    deletable_by_viewer: bool = kind_policy().deletable_by_viewer_default
    deletable_allowed: bool = True
    retrieval_step_allowed: bool = kind_policy().retrieval_step_allowed
    secret_hidden: bool = False
    creating: bool = False
    # File pushes: who may send and how much, read when the kind is chosen (never compiled
    # into the pages: a build serves sites with any file limits, frontend.RUN_TIME_SETTINGS).
    files_need_login: bool = True
    max_file_bytes: int = 0

    async def sender(self) -> Client:
        """Who is creating: this browser's client, with the account's id when logged in
        (then the push belongs to the account: dashboard, API lists)."""
        user = await current_user(self)
        return dataclasses.replace(client_of(self), user_id=user.id if user else None)

    @rx.event
    async def choose_kind(self, kind: str):
        if kind not in UI_KINDS or not kind_policy(kind).enabled:
            return
        policy = kind_policy(kind)
        self.kind = kind
        self.lifetime_choice = str(policy.minutes_default)
        self.retrieval_step = policy.retrieval_step_default
        self.retrieval_step_allowed = policy.retrieval_step_allowed
        self.deletable_allowed = policy.deletable_by_viewer_allowed
        self.deletable_by_viewer = policy.deletable_by_viewer_default and policy.deletable_by_viewer_allowed
        settings = get_settings()
        self.files_need_login = files_need_login(settings, await self.sender())
        self.max_file_bytes = settings.max_file_bytes_per_push
        self.errors = {}

    @rx.event
    def choose_lifetime(self, choice: str):
        self.lifetime_choice = choice
        self.errors.pop("expire_after", None)

    @rx.event
    def set_retrieval_step(self, on: bool):
        self.retrieval_step = bool(on)

    @rx.event
    def set_deletable_by_viewer(self, on: bool):
        self.deletable_by_viewer = bool(on)

    def answer(self, errors: dict[str, str]) -> None:
        """The form's submission was answered: these refusals (none when it was created)."""
        self.errors = errors
        self.error_sentences = {field: sentences_of(Refusal(text)) for field, text in errors.items()}
        self.answer_round += 1

    @rx.event
    def forget_error(self, field: str, answer_round: int):
        """The sender changed this field: its refusal is stale, unless the refusal came after
        the change (the event left late: a typed value followed by Create at once).  (Bound
        to the field's change with the field's name only: the value is never sent.)"""
        if answer_round != self.answer_round:
            return
        if isinstance(field, str) and field in self.errors:
            self.errors.pop(field, None)
            self.errors.pop("form", None)
            self.error_sentences = {k: v for k, v in self.error_sentences.items() if k in self.errors}

    @rx.event
    def forget_errors(self):
        """A fresh visit (or reload) of the form starts without old refusals."""
        self.errors = {}

    @rx.event
    def toggle_secret_hidden(self):
        self.secret_hidden = not self.secret_hidden

    def _lifetime_minutes(self, form_data: dict) -> int | str:
        if self.lifetime_choice != CUSTOM:
            return form_whole_number(self.lifetime_choice)
        amount = form_whole_number(form_data.get("custom_amount"))
        unit = UNIT_MINUTES.get(form_text(form_data, "custom_unit"), 0)
        return amount * unit if isinstance(amount, int) and unit else str(amount)

    def new_push(self, form_data: dict) -> NewPush:
        """The form's fields (sent once, never stored) and the choices kept in state."""
        return NewPush(
            payload=form_text(form_data, "payload"),
            kind=self.kind,
            name=form_text(form_data, "name"),
            note=form_text(form_data, "note"),
            passphrase=form_text(form_data, "passphrase"),
            expire_after_views=form_whole_number(form_data.get("expire_after_views")),
            expire_after_minutes=self._lifetime_minutes(form_data),
            retrieval_step=self.retrieval_step,
            deletable_by_viewer=self.deletable_by_viewer,
            notify_emails_to=form_text(form_data, "notify_emails_to"),
            allowed_ips=form_text(form_data, "allowed_ips"),
            burn_after_failed_passphrases=_optional_number(form_data.get("burn_after_failed_passphrases")),
            recipients=form_text(form_data, "recipients"),
            verify_email=form_text(form_data, "verify_email") or None,
            verify_recipients=form_data.get("verify_recipients") in ("on", True, "true") or None,
        )


def _optional_number(text) -> int | str | None:
    """An optional whole-number field: None when left empty."""
    return form_whole_number(text) if str(text or "").strip() else None


def mailed_to(request: NewPush) -> str:
    """The addresses a new push's link is being mailed to (or its recipients' links), for
    the share section."""
    if asks_for_recipients(request):
        return ", ".join(r.email for r in parse_recipients(request.recipients) if r.email)
    return ", ".join(split_addresses(request.notify_emails_to))
