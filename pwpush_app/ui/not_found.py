"""The page for an address that leads nowhere (Reflex's 404 route): what happened and the
ways home, instead of a bare "404: Page not found"."""

from __future__ import annotations

import reflex as rx

from pwpush_app.ui.components.layout import page_shell
from pwpush_app.ui.i18n import t

LINK_SHAPES = t("Secret links look like {secret} and manage links like {manage}. "
                "A secret link that has expired shows its own page, not this one.")


def _with_codes(sentence: rx.Var, *codes: str) -> list:
    """The sentence with each `{secret}`, `{manage}` written as code (in that order, in every language)."""
    parts = [rx.Var(f"({sentence}.split(/\\{{(?:secret|manage)\\}}/)[{i}] ?? \"\")",
                    _var_data=sentence._get_all_var_data()).to(str) for i in range(len(codes) + 1)]
    shown = [parts[0]]
    for code, after in zip(codes, parts[1:]):
        shown += [rx.code(code, custom_attrs={"dir": "ltr"}), after]
    return shown


def not_found_page() -> rx.Component:
    return page_shell(
        rx.heading(t("Page not found"), as_="h1", size="7", weight="bold"),
        rx.card(
            rx.vstack(
                rx.text(t("There is no page at this address. Check that the whole address was copied."), size="3"),
                rx.text(*_with_codes(LINK_SHAPES, "/p/…", "/manage/…"), size="2", color_scheme="gray"),
                rx.hstack(
                    rx.link(t("Share a secret"), href="/", size="3", weight="medium", id="not-found-home"),
                    rx.link(t("My pushes"), href="/my-pushes", size="3"),
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
        languages=True,
    )
