"""My pushes (`/my-pushes`): the pushes this browser created, kept in its local storage.

Only what the creator needs to find a push again is remembered: its name, when it was
made, when it expires and its manage token. Never the secret, never the secret link. The
list lives in the browser only: the page's own script reads and writes it
(components/browser_pushes.py); no state var holds it.
"""

from __future__ import annotations

import reflex as rx

from pwpush_app.ui.components.browser_pushes import forget_all_pushes, forget_push, remembered_pushes
from pwpush_app.ui.components.layout import page_shell


def _push_row(row: rx.Var) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.vstack(
                rx.link(
                    rx.cond(row["name"] != "", row["name"], "Unnamed push"),
                    href="/manage/" + row["manage_token"].to(str),
                    weight="medium",
                ),
                rx.text("Created ", row["created"], " · expires ", row["expires"], size="1", color_scheme="gray"),
                spacing="1",
                min_width="0",
            ),
            rx.spacer(),
            rx.icon_button(
                rx.icon("x", size=16),
                variant="ghost",
                color_scheme="gray",
                aria_label="Forget this push in this browser",
                title="Forget in this browser",
                on_click=forget_push(row["manage_token"].to(str)),
            ),
            align="center",
            width="100%",
        ),
        width="100%",
        class_name="my-push",
    )


def my_pushes_page() -> rx.Component:
    return page_shell(
        rx.cond(
            remembered_pushes.length() > 0,
            rx.vstack(
                rx.foreach(remembered_pushes, _push_row),
                rx.button(
                    "Forget all in this browser",
                    variant="ghost",
                    color_scheme="gray",
                    size="1",
                    on_click=forget_all_pushes(),
                ),
                width="100%",
                spacing="2",
            ),
            rx.callout(
                "This browser has not created any pushes yet (or its list was cleared).",
                icon="info",
                color_scheme="gray",
                width="100%",
            ),
        ),
        heading="My pushes",
        subheading="Pushes created in this browser. Open one to see its audit log or expire it. "
        "This list lives only in this browser.",
    )
