"""The page for an address that leads nowhere (Reflex's 404 route): what happened and the
ways home, instead of a bare "404: Page not found"."""

from __future__ import annotations

import reflex as rx

from pwpush_app.ui.components.layout import page_shell


def not_found_page() -> rx.Component:
    return page_shell(
        rx.card(
            rx.vstack(
                rx.text("There is no page at this address. Check that the whole address was copied.", size="3"),
                rx.text("Secret links look like ", rx.code("/p/…"), " and manage links like ", rx.code("/manage/…"),
                        ". A secret link that has expired shows its own page, not this one.", size="2",
                        color_scheme="gray"),
                rx.hstack(
                    rx.link("Share a secret", href="/", size="3", weight="medium", id="not-found-home"),
                    rx.link("My pushes", href="/my-pushes", size="3"),
                    spacing="4",
                    align="center",
                    wrap="wrap",
                ),
                spacing="3",
                width="100%",
            ),
            width="100%",
            id="not-found",
        ),
        heading="Page not found",
    )
