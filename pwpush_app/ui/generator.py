"""The password generator on the create page: pronounceable syllables (core/passwords.py).

It starts from the site's defaults (PWP__GEN__*); a visitor's changes are remembered in
this browser's local storage. A generated password goes straight into the secret field
as the event's result: like a typed secret, it is never kept in state.
"""

from __future__ import annotations

import reflex as rx

from pwpush_app.core.passwords import (
    MAX_SYLLABLES,
    MIN_SYLLABLES,
    SITE_SEPARATORS,
    GeneratorOptions,
    generate_password,
    separator_choices,
)
from pwpush_app.settings import get_settings
from pwpush_app.ui.components.fields import field_label
from pwpush_app.ui.i18n import N_, t

PAYLOAD_FIELD = "payload"
# Each separator's name (in the viewer's language) and the character it puts between syllables.
SEPARATOR_LABELS = {"dash": (N_("Dash"), "-"), "underscore": (N_("Underscore"), "_"), "dot": (N_("Dot"), "."),
                    "space": (N_("Space"), ""), "none": (N_("None"), "")}


def _site_defaults():
    return get_settings().pages.generator


def separator_labels() -> dict[str, tuple[str, str]]:
    """The separators a visitor may pick: ours, and the site's own set (PWP__GEN__SEPARATORS)."""
    choices = separator_choices(_site_defaults())
    labels = {key: label for key, label in SEPARATOR_LABELS.items() if key in choices}
    if SITE_SEPARATORS in choices:
        labels[SITE_SEPARATORS] = (N_("Mixed") if len(choices[SITE_SEPARATORS]) > 1 else N_("Site's"),
                                   choices[SITE_SEPARATORS])
    return labels


_START = GeneratorOptions.starting(_site_defaults())


class GeneratorState(rx.State):
    # The starting values are the site's (compiled into the page); a visitor's own choices
    # are kept in their browser's local storage under these names.
    gen_syllables: str = rx.LocalStorage(str(_START.syllables), name="pwpush.generator.syllables")
    gen_numbers: str = rx.LocalStorage("1" if _START.numbers else "0", name="pwpush.generator.numbers")
    gen_title_case: str = rx.LocalStorage("1" if _START.title_case else "0", name="pwpush.generator.title_case")
    gen_separator: str = rx.LocalStorage(_START.separator, name="pwpush.generator.separator")

    @rx.event
    def set_gen_syllables(self, value: str):
        self.gen_syllables = str(GeneratorOptions.from_text(value, "1", "1", "dash", _site_defaults()).syllables)

    @rx.event
    def set_gen_separator(self, value: str):
        self.gen_separator = GeneratorOptions.from_text("3", "1", "1", value, _site_defaults()).separator

    @rx.event
    def set_gen_numbers(self, on: bool):
        self.gen_numbers = "1" if on else "0"

    @rx.event
    def set_gen_title_case(self, on: bool):
        self.gen_title_case = "1" if on else "0"

    @rx.event
    def generate(self):
        """Put a fresh password into the secret field: handed to the browser, not kept in state."""
        options = GeneratorOptions.from_text(self.gen_syllables, self.gen_numbers, self.gen_title_case, self.gen_separator,
                                             _site_defaults())
        return rx.set_value(PAYLOAD_FIELD, generate_password(options))


def generator_options() -> rx.Component:
    return rx.popover.root(
        rx.popover.trigger(
            rx.icon_button(
                rx.icon("sliders-horizontal", size=16),
                type="button",
                variant="soft",
                aria_label=t("Password generator options"),
                title=t("Generator options"),
                id="generator-options",
            )
        ),
        rx.popover.content(
            rx.vstack(
                rx.text(t("Generated passwords"), size="2", weight="bold"),
                rx.hstack(
                    field_label(t("Syllables"), "gen-syllables"),
                    rx.spacer(),
                    rx.select(
                        [str(n) for n in range(MIN_SYLLABLES, MAX_SYLLABLES + 1)],
                        value=GeneratorState.gen_syllables,
                        on_change=GeneratorState.set_gen_syllables,
                        id="gen-syllables",
                        size="1",
                    ),
                    width="100%",
                    align="center",
                ),
                rx.hstack(
                    field_label(t("Separator"), "gen-separator"),
                    rx.spacer(),
                    rx.select.root(
                        rx.select.trigger(id="gen-separator"),
                        rx.select.content(
                            *[rx.select.item(t(word) + (f"  {mark}" if mark else ""), value=key)
                              for key, (word, mark) in separator_labels().items()]
                        ),
                        value=GeneratorState.gen_separator,
                        on_change=GeneratorState.set_gen_separator,
                        size="1",
                    ),
                    width="100%",
                    align="center",
                ),
                rx.checkbox(
                    t("Numbers"),
                    checked=GeneratorState.gen_numbers == "1",
                    on_change=GeneratorState.set_gen_numbers,
                ),
                rx.checkbox(
                    t("Title case"),
                    checked=GeneratorState.gen_title_case == "1",
                    on_change=GeneratorState.set_gen_title_case,
                ),
                rx.text(t("Remembered in this browser."), size="1", color_scheme="gray"),
                spacing="3",
                min_width="14rem",
            ),
            side="bottom",
            align="start",
        ),
    )
