"""Create (`/`): the form a sender fills in; on success the share section takes its place.

Its state and the submit are in create_state.py; the file upload in create_files.py.
"""

from __future__ import annotations

import reflex as rx

from pwpush_app.core.file_uploads import files_offered
from pwpush_app.settings import get_settings
from pwpush_app.ui.common import UI_KINDS
from pwpush_app.ui.components.fields import field_error, field_label, submit_button
from pwpush_app.ui.components.layout import page_shell
from pwpush_app.ui.components.share import ShareState, share_section
from pwpush_app.ui.create_counters import (
    PAYLOAD_COUNT,
    count_payload_bytes,
    count_qr_characters,
    payload_size_counter,
    qr_help,
)
from pwpush_app.ui.create_e2e import e2e_field, e2e_part
from pwpush_app.ui.create_files import file_fields, send_files_button, send_sealed_files_event
from pwpush_app.ui.create_notify import notify_field
from pwpush_app.ui.create_policies import policy_fields
from pwpush_app.ui.create_recipients import recipients_field
from pwpush_app.ui.create_state import (
    CUSTOM,
    KIND_PUSH_NAMES,
    KIND_SHORT_LABELS,
    UNIT_MINUTES,
    UNIT_WORDS,
    CreateState,
    error_text,
    kind_policy,
    lifetime_choices,
    lifetime_words,
)
from pwpush_app.ui.create_text_upload import send_event as send_text_event
from pwpush_app.ui.generator import GeneratorState, generator_options
from pwpush_app.ui.i18n import N_, t

# --- the form ---------------------------------------------------------------------------------


def _error(field: str) -> rx.Component:
    return field_error(error_text(field), field)


def _forget_error(field: str):
    """For a field's on_change: its refusal goes once the sender types (one event when the
    typing pauses, carrying the field's name, never its value). Debounced, not throttled: a
    throttle drops a change that follows the last event within its window, so a refusal shown
    just after the form was filled would stay however much the sender typed. It carries the
    form's answer count of the moment of typing (CreateState.forget_error)."""
    return CreateState.forget_error(field, CreateState.answer_round).debounce(300)


def enabled_kinds() -> list[str]:
    return [kind for kind in UI_KINDS if kind_policy(kind).enabled and (kind != "file" or files_offered(get_settings()))]


def _kind_selector() -> rx.Component:
    """Text, files, URL, QR code: each kind the settings enable."""
    return rx.radio_cards.root(
        *[
            rx.radio_cards.item(
                rx.text(t(KIND_SHORT_LABELS[kind]), size="2", weight="medium"),
                value=kind,
                aria_label=t(KIND_PUSH_NAMES[kind]),
                id=f"kind-{kind}",
            )
            for kind in enabled_kinds()
        ],
        value=CreateState.kind,
        on_value_change=CreateState.choose_kind,
        columns="4",
        size="1",
        gap="2",
        width="100%",
        aria_label=t("What to share"),
        # Radix's hidden inputs sit one card-width to the left: right to left, that widened the page.
        style={"& input[aria-hidden='true']": {"transform": "none !important"}},
    )


def _count_payload_bytes(limit: int):
    return lambda value: [count_payload_bytes(limit, value), _forget_error("payload")]


def _secret_field() -> rx.Component:
    limit = get_settings().max_payload_bytes
    return rx.vstack(
        field_label(t("Secret"), "payload"),
        rx.text_area(
            id="payload",
            name="payload",
            on_change=_count_payload_bytes(limit),
            # What a sender came for: the first field they type in, without Tab stops before it.
            auto_focus=True,
            placeholder=t("Paste a password, an API key or a private note…"),
            rows="4",
            resize="vertical",
            width="100%",
            size="3",
            spell_check=False,
            custom_attrs={"autoComplete": "off"},
            aria_describedby=f"{PAYLOAD_COUNT} payload-error",
            aria_invalid=CreateState.errors.contains("payload"),
            # Masked like a password field while hidden (text areas have no type="password").
            style={"-webkit-text-security": rx.cond(CreateState.secret_hidden, "disc", "none"),
                   "fontFamily": "var(--code-font-family)"},
        ),
        rx.hstack(
            rx.button(
                rx.icon("wand-sparkles", size=16, aria_hidden="true"),
                t("Generate password"),
                type="button",
                variant="soft",
                on_click=[GeneratorState.generate, CreateState.forget_error("payload", CreateState.answer_round)],
                id="generate",
            ),
            generator_options(),
            rx.spacer(),
            rx.button(
                rx.cond(CreateState.secret_hidden, rx.icon("eye", size=16), rx.icon("eye-off", size=16)),
                rx.cond(CreateState.secret_hidden, t("Show"), t("Hide")),
                type="button",
                variant="ghost",
                color_scheme="gray",
                on_click=CreateState.toggle_secret_hidden,
                aria_pressed=CreateState.secret_hidden,
                aria_controls="payload",
                id="toggle-secret",
            ),
            width="100%",
            align="center",
        ),
        payload_size_counter(limit),
        _error("payload"),
        width="100%",
        spacing="2",
    )


def _url_field() -> rx.Component:
    return rx.vstack(
        field_label(t("Web address"), "payload"),
        rx.input(
            id="payload",
            name="payload",
            on_change=_forget_error("payload"),
            type="url",
            input_mode="url",
            dir="ltr",  # an address reads left to right on a right-to-left page too
            placeholder="https://…",
            size="3",
            width="100%",
            auto_complete="off",
            spell_check=False,
            aria_describedby="payload-help payload-error",
            aria_invalid=CreateState.errors.contains("payload"),
        ),
        rx.text(
            t("The recipient is sent straight to it after the reveal; the address is never shown before."),
            id="payload-help",
            size="1",
            color_scheme="gray",
        ),
        _error("payload"),
        width="100%",
        spacing="1",
    )


def _qr_field() -> rx.Component:
    limit = get_settings().max_qr_chars
    # Counted in the browser: the text never goes to the server until the form is sent.
    count = lambda value: [count_qr_characters(value), _forget_error("payload")]  # noqa: E731
    return rx.vstack(
        field_label(t("Text for the QR code"), "payload"),
        rx.text_area(
            id="payload",
            name="payload",
            placeholder=t("A Wi-Fi password, a one-time code, a short note…"),
            rows="3",
            resize="vertical",
            width="100%",
            size="3",
            spell_check=False,
            max_length=limit,
            custom_attrs={"autoComplete": "off"},
            on_change=count,
            aria_describedby="qr-help payload-error",
            aria_invalid=CreateState.errors.contains("payload"),
            style={"fontFamily": "var(--code-font-family)"},
        ),
        qr_help(limit),
        _error("payload"),
        width="100%",
        spacing="1",
    )


def _payload_fields() -> rx.Component:
    """What is shared: one set of fields per kind, all named `payload` for the core."""

    return rx.match(
        CreateState.kind,
        ("file", file_fields()),
        ("url", _url_field()),
        ("qr", _qr_field()),
        _secret_field(),
    )


def _expiry_fields() -> rx.Component:
    """Each kind has its own defaults and limits; the matching set is on the page."""
    return rx.match(CreateState.kind, *[(kind, _expiry_fields_for(kind)) for kind in enabled_kinds()], _expiry_fields_for("text"))


def _expiry_fields_for(kind: str) -> rx.Component:
    policy = kind_policy(kind)
    views = rx.vstack(
        field_label(t("Views"), "expire_after_views"),
        rx.input(
            id="expire_after_views",
            name="expire_after_views",
            on_change=_forget_error("expire_after_views"),
            type="number",
            input_mode="numeric",
            default_value=str(policy.views_default),
            min=policy.views_min,
            max=policy.views_max,
            size="3",
            width="100%",
            aria_describedby="expire_after_views-help expire_after_views-error",
        ),
        rx.text(t("{min} to {max}", min=policy.views_min, max=policy.views_max), id="expire_after_views-help", size="1", color_scheme="gray"),
        _error("expire_after_views"),
        spacing="1",
        flex="1",
        min_width="8rem",
    )
    lifetime = rx.vstack(
        field_label(t("Expires after"), "lifetime"),
        rx.select.root(
            rx.select.trigger(id="lifetime", width="100%", aria_describedby="expire_after-error"),
            rx.select.content(*[rx.select.item(lifetime_words(value), value=value) for value, _ in lifetime_choices(policy)]),
            value=CreateState.lifetime_choice,
            on_change=CreateState.choose_lifetime,
            size="3",
        ),
        rx.cond(
            CreateState.lifetime_choice == CUSTOM,
            rx.hstack(
                rx.input(
                    name="custom_amount",
                    id="custom_amount",
                    type="number",
                    input_mode="numeric",
                    min=1,
                    default_value="2",
                    aria_label=t("Custom lifetime amount"),
                    size="3",
                    width="6rem",
                ),
                rx.select.root(
                    rx.select.trigger(aria_label=t("Custom lifetime unit"), id="custom_unit"),
                    rx.select.content(*[rx.select.item(t(UNIT_WORDS[unit]), value=unit) for unit in UNIT_MINUTES]),
                    name="custom_unit",
                    default_value="hours",
                    size="3",
                ),
                width="100%",
            ),
        ),
        rx.text(
            t("From {shortest} to {longest}; whichever limit comes first ends it.",
              shortest=lifetime_words(policy.minutes_min), longest=lifetime_words(policy.minutes_max)),
            size="1",
            color_scheme="gray",
        ),
        _error("expire_after"),
        spacing="1",
        flex="2",
        min_width="12rem",
    )
    return rx.flex(views, lifetime, gap="4", wrap="wrap", width="100%")


def _toggle(label: str, help_text: str, field_id: str, checked: rx.Var, on_change) -> rx.Component:
    # The switch sits inside its label (no id): clicking the words flips it, and the form
    # doesn't submit it; its value lives in state.
    return rx.el.label(
        rx.hstack(
            rx.switch(checked=checked, on_change=on_change, aria_describedby=f"{field_id}-help", class_name=field_id),
            rx.vstack(
                rx.text(label, size="2", weight="medium"),
                rx.text(help_text, id=f"{field_id}-help", size="1", color_scheme="gray"),
                spacing="0",
            ),
            align="start",
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _options_fields() -> rx.Component:
    return rx.vstack(
        rx.cond(
            CreateState.retrieval_step_allowed,
            _toggle(
                t("Click to reveal"),
                t("Recipients press a button first, so chat link previews can't use up a view."),
                "retrieval_step",
                CreateState.retrieval_step,
                CreateState.set_retrieval_step,
            ),
        ),
        rx.cond(
            CreateState.deletable_allowed,
            _toggle(
                t("Recipients may delete it"),
                t("Shows a \u201cdelete it now\u201d button after the secret is revealed."),
                "deletable_by_viewer",
                CreateState.deletable_by_viewer,
                CreateState.set_deletable_by_viewer,
            ),
        ),
        spacing="3",
        width="100%",
    )


def _extra_fields() -> rx.Component:
    return rx.vstack(
        field_label(t("Passphrase (required on this site)") if get_settings().require_passphrase
                    else t("Passphrase (optional)"), "passphrase"),
        rx.input(
            id="passphrase",
            name="passphrase",
            on_change=_forget_error("passphrase"),
            type="password",
            auto_complete="new-password",
            placeholder=t("Recipients must type it"),
            size="3",
            width="100%",
            aria_describedby="passphrase-error",
        ),
        _error("passphrase"),
        policy_fields(_forget_error),
        field_label(t("Name (optional, only you see it)"), "name"),
        rx.input(id="name", name="name", on_change=_forget_error("name"), size="3", width="100%", auto_complete="off", aria_describedby="name-error"),
        _error("name"),
        field_label(t("Note (optional, only you see it, encrypted)"), "note"),
        rx.text_area(id="note", name="note", on_change=_forget_error("note"), rows="2", size="3", width="100%", aria_describedby="note-error"),
        _error("note"),
        notify_field() if get_settings().mail.link_by_email else rx.fragment(),
        recipients_field(_forget_error),
        spacing="1",
        width="100%",
    )


def _create_button() -> rx.Component:
    return submit_button(
        rx.icon("send", size=16, aria_hidden="true"),
        t("Create secret link"),
        size="3",
        loading=CreateState.creating,
        id="create",
        width="100%",
    )


def _send_files_button() -> rx.Component:

    return send_files_button()


def create_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            _kind_selector(),
            _error("kind"),
            _payload_fields(),
            e2e_field(),
            rx.card(rx.vstack(_expiry_fields(), rx.separator(size="4"), _options_fields(), spacing="4"), width="100%"),
            _extra_fields(),
            _error("form"),
            rx.cond(CreateState.kind == "file", _send_files_button(), _create_button()),
            spacing="4",
            width="100%",
        ),
        # Text, URL and QR: the secret goes up as an upload (create_text_upload.py); files
        # have their own button (Enter in one of their fields lands here and is ignored).
        on_submit=send_text_event(),
        reset_on_submit=False,
        # The core's messages, beside each field, rather than the browser's bubbles.
        no_validate=True,
        width="100%",
        id="create-form",
    )


# The site's tagline when the operator kept the default (settings.py): then it speaks the visitor's language.
DEFAULT_TAGLINE = N_("Go ahead and email another password")


def create_page() -> rx.Component:
    tagline = get_settings().brand_tagline
    return page_shell(
        # (page_shell's own heading takes plain text; this one is in the visitor's language)
        rx.heading(t("Share a secret"), as_="h1", size="7", weight="bold"),
        rx.text(t(tagline) if tagline == DEFAULT_TAGLINE else tagline, size="3", color_scheme="gray") if tagline
        else rx.fragment(),
        # The form leaves the page once used (taking the secret out of the DOM with it).
        rx.cond(ShareState.shown, rx.fragment(), create_form()),
        e2e_part(send_text_event(), send_sealed_files_event()),
        share_section(),
        languages=True,
    )
