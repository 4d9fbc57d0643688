"""The shell around every page: brand header with navigation, one calm column, footer."""

from __future__ import annotations

import reflex as rx

from pwpush_app.settings import get_settings
from pwpush_app.ui.share import ShareState


def account_nav() -> rx.Component:
    # Imported late: the account pages themselves build on page_shell.
    from pwpush_app.ui.account import account_nav as nav

    return nav()

CONTENT_WIDTH = "44rem"


def _nav_link(label: str, href: str, **props) -> rx.Component:
    return rx.link(label, href=href, size="2", weight="medium", color_scheme="gray", high_contrast=True, white_space="nowrap", **props)


def header() -> rx.Component:
    settings = get_settings()
    return rx.el.header(
        # Wraps onto two lines on a narrow phone rather than overflowing sideways.
        rx.flex(
            rx.link(
                rx.hstack(
                    rx.icon("lock-keyhole", size=20, aria_hidden="true"),
                    rx.text(settings.brand_title, size={"initial": "3", "sm": "4"}, weight="bold"),
                    align="center",
                    spacing="2",
                ),
                href="/",
                underline="none",
                color_scheme="gray",
                high_contrast=True,
                aria_label=f"{settings.brand_title}: home",
            ),
            rx.el.nav(
                rx.hstack(
                    # "New push" always means an empty form, even right after creating one.
                    _nav_link("New push", "/", on_click=ShareState.create_another),
                    _nav_link("My pushes", "/my-pushes"),
                    account_nav(),
                    rx.color_mode.button(size="2", variant="ghost", aria_label="Switch light or dark mode"),
                    spacing="3",
                    align="center",
                    wrap="wrap",
                    justify="end",
                ),
                aria_label="Main",
                margin_left="auto",
            ),
            align="center",
            wrap="wrap",
            gap="2",
            width="100%",
            max_width=CONTENT_WIDTH,
            margin_x="auto",
            padding_x="1rem",
            padding_y="0.75rem",
        ),
        border_bottom="1px solid var(--gray-a5)",
        width="100%",
    )


def footer() -> rx.Component:
    return rx.el.footer(
        rx.text(
            "Secrets are encrypted and deleted when their views or time run out.",
            size="1",
            color_scheme="gray",
            align="center",
        ),
        padding="1.5rem 1rem",
        width="100%",
    )


def page_shell(*children: rx.Component, heading: str | None = None, subheading: str | None = None) -> rx.Component:
    """One page: header, an optional heading (the brand tagline on the home page), content, footer."""
    intro = []
    if heading:
        intro.append(rx.heading(heading, as_="h1", size="7", weight="bold"))
    if subheading:
        intro.append(rx.text(subheading, size="3", color_scheme="gray"))
    return rx.box(
        header(),
        rx.el.main(
            rx.vstack(
                *intro,
                *children,
                spacing="4",
                width="100%",
                max_width=CONTENT_WIDTH,
                margin_x="auto",
                padding_x="1rem",
                padding_y="1.5rem",
            ),
            flex="1",
            width="100%",
        ),
        footer(),
        # For scripts and tests: present once the page is connected to the server.
        rx.cond(rx.State.is_hydrated, rx.el.span(id="app-ready", hidden=True)),
        display="flex",
        flex_direction="column",
        min_height="100vh",
    )
