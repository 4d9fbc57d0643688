"""The reveal page's blur (PWP__PW__ENABLE_BLUR, PWP__FILES__ENABLE_BLUR): as in Password
Pusher, a revealed text is blurred so a passer-by can't read it.  Hovering over it or
focusing it (Tab, for keyboard users) shows it; a click keeps it shown (the page's state
drops the class).  No fading for visitors who ask for less motion; never blurred on paper."""

from __future__ import annotations

import reflex as rx

from pwpush_app.ui.i18n import t

BLURRED = "secret-blurred"
BLUR_HINT = "blur-hint"

# On the text until the focus first leaves it: the page gives it the focus after the reveal (a
# screen reader reads it at once), and it stays blurred until the reader hovers, clicks, or
# leaves and comes back.
QUIET = "data-quiet-focus"

BLUR_CSS = f"""
.{BLURRED} textarea, textarea.{BLURRED} {{ filter: blur(0.45em); cursor: pointer; transition: filter 0.15s ease-out; }}
.{BLURRED} textarea:hover, .{BLURRED} textarea:focus:not([{QUIET}]), textarea.{BLURRED}:hover,
textarea.{BLURRED}:focus:not([{QUIET}]) {{ filter: none; }}
@media (prefers-reduced-motion: reduce) {{ .{BLURRED} textarea, textarea.{BLURRED} {{ transition: none; }} }}
@media print {{ .{BLURRED} textarea, textarea.{BLURRED} {{ filter: none; }} }}
"""


def blur_style() -> rx.Component:
    return rx.el.style(BLUR_CSS)


def blur_hint() -> rx.Component:
    return rx.text(t("Blurred for privacy: click or tap it to see it (or hover over it, or press Tab)."), id=BLUR_HINT, size="1",
                   color_scheme="gray")


def quiet_until_left(field_id: str) -> dict:
    """The text's props: it starts QUIET, so its first focus (the page's own, after the reveal)
    keeps it blurred; leaving it drops that for good. (A function compiled into the page: the
    pages' CSP allows no script sent as a string.)"""
    return {"custom_attrs": {QUIET: ""},
            "on_blur": rx.call_function(rx.Var(f"() => document.getElementById('{field_id}')?.removeAttribute('{QUIET}')"))}
