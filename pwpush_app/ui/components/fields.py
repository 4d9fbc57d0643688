"""Small pieces the forms share: labels, validation messages, copy buttons."""

from __future__ import annotations

import reflex as rx

from pwpush_app.ui.i18n import t


def submit_button(*children, disabled: rx.Var | bool = False, **props) -> rx.Component:
    """The submit button of a form the page handles (an event, not a native POST).

    Disabled until the page is connected: before that the browser would submit the form
    itself, as a GET with every field, the secret too, in the address (history, proxies'
    logs). With its only submit button disabled, neither a click nor Enter submits it."""
    return rx.button(*children, type="submit", disabled=~rx.State.is_hydrated | disabled, **props)


def field_label(text: str, html_for: str) -> rx.Component:
    return rx.el.label(rx.text(text, size="2", weight="medium"), html_for=html_for)


def field_error(message: rx.Var, field: str) -> rx.Component:
    """The validation message beside its field (empty until the core refuses something)."""
    return rx.cond(
        message != "",
        rx.text(message, id=f"{field}-error", size="2", color_scheme="red", role="alert"),
        rx.fragment(),
    )


# Read-only fields that show something to read and copy (a revealed secret, a new link):
# Radix greys read-only fields as if disabled; these keep the normal text colour.
READABLE = {
    "backgroundImage": "none",
    "& textarea, & input": {"color": "var(--gray-12)", "WebkitTextFillColor": "var(--gray-12)"},
    "& textarea::selection, & input::selection": {"backgroundColor": "var(--accent-a5)"},
}


def copy_button(target_id: str, label=None, aria_label=None, copied=None) -> rx.Component:
    """Copies the current value of an element (a field filled by an event, never a state var).
    Without words of its own it says "Copy" and "Copied to the clipboard" in the visitor's language.

    The script is compiled into the bundle (no eval), so it runs under a strict CSP.
    """
    copy = (
        f"() => {{ const el = document.getElementById('{target_id}');"
        " const text = el.value !== undefined ? el.value : el.textContent;"
        " if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(text); }"
        " else if (el.select) { el.select(); document.execCommand('copy'); } }"
    )
    if aria_label is None:
        aria_label = t("Copy to the clipboard") if label is None else f"{label} to the clipboard"
    return rx.button(
        rx.icon("copy", size=16, aria_hidden="true"),
        t("Copy") if label is None else label,
        type="button",
        variant="soft",
        aria_label=aria_label,
        on_click=[rx.call_function(copy), rx.toast(t("Copied to the clipboard") if copied is None else copied, duration=2000)],
    )


def shown_if(condition, child: rx.Component) -> rx.Component:
    """Hidden, not unmounted: a field must exist when an event's result (a secret, a link)
    arrives for it."""
    return rx.box(child, display=rx.cond(condition, "block", "none"), width="100%")
