"""The reveal page's cards that hold no secret: a link that no longer works, a deleted
secret, an end-to-end link without its key (issue 20), and the "opened before" notice (issue 21)."""

from __future__ import annotations

import reflex as rx

from pwpush_app.core.errors import PushUnavailable
from pwpush_app.ui.components.e2e import MISSING_KEY

UNAVAILABLE_MESSAGE = PushUnavailable().args[0]


def card(*children, **props) -> rx.Component:
    return rx.card(rx.vstack(*children, spacing="4", width="100%"), width="100%", **props)


def missing_key_card() -> rx.Component:
    """An end-to-end link opened without its key, where the page would reveal on load: held."""
    return card(
        rx.heading("Someone shared a secret with you", as_="h1", size="6"),
        rx.text(MISSING_KEY, id="e2e-missing-key", role="alert", color_scheme="red", size="2", weight="medium"),
        min_height="12rem",
    )


def unavailable_card() -> rx.Component:
    return card(
        rx.hstack(rx.icon("link-2-off", size=28, aria_hidden="true"), rx.heading(UNAVAILABLE_MESSAGE, as_="h1", size="5"), align="center"),
        rx.text(
            "Secret links stop working after their views or time run out, or when someone deletes them. "
            "Ask the sender for a new one.",
            color_scheme="gray",
        ),
        rx.link("Share a secret of your own", href="/"),
        id="unavailable",
        min_height="12rem",
    )


def deleted_card() -> rx.Component:
    return card(
        rx.hstack(rx.icon("trash-2", size=24, aria_hidden="true"), rx.heading("The secret was deleted", as_="h1", size="5"), align="center"),
        rx.text("Nobody can view it again, you included.", color_scheme="gray"),
        id="deleted",
        min_height="12rem",
    )


def opened_before_notice(text: rx.Var, earlier_views: rx.Var) -> rx.Component:
    """How often and when the link was opened before this view (pushes of several views):
    amber when someone did, so an intercepted link shows; nothing for a push of one view."""
    return rx.cond(
        text != "",
        rx.callout(
            text,
            icon=rx.cond(earlier_views, "triangle-alert", "eye"),
            color_scheme=rx.cond(earlier_views, "amber", "gray"),
            size="1",
            width="100%",
            id="opened-before",
        ),
    )
