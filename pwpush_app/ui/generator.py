"""The password generator on the create page: pronounceable syllables (core/passwords.py).

Its options are remembered in this browser's local storage. A generated password goes
straight into the secret field as the event's result: like a typed secret, it is never
kept in state.
"""

from __future__ import annotations

import reflex as rx

from pwpush_app.core.passwords import MAX_SYLLABLES, MIN_SYLLABLES, SEPARATORS, GeneratorOptions, generate_password
from pwpush_app.ui.components.fields import field_label

PAYLOAD_FIELD = "payload"
SEPARATOR_LABELS = {"dash": "Dash  -", "underscore": "Underscore  _", "dot": "Dot  .", "space": "Space", "none": "None"}


class GeneratorState(rx.State):
    gen_syllables: str = rx.LocalStorage("3", name="pwpush.generator.syllables")
    gen_numbers: str = rx.LocalStorage("1", name="pwpush.generator.numbers")
    gen_title_case: str = rx.LocalStorage("1", name="pwpush.generator.title_case")
    gen_separator: str = rx.LocalStorage("dash", name="pwpush.generator.separator")

    @rx.event
    def set_gen_syllables(self, value: str):
        self.gen_syllables = str(GeneratorOptions.from_text(value, "1", "1", "dash").syllables)

    @rx.event
    def set_gen_separator(self, value: str):
        self.gen_separator = value if value in SEPARATORS else "dash"

    @rx.event
    def set_gen_numbers(self, on: bool):
        self.gen_numbers = "1" if on else "0"

    @rx.event
    def set_gen_title_case(self, on: bool):
        self.gen_title_case = "1" if on else "0"

    @rx.event
    def generate(self):
        """Put a fresh password into the secret field: handed to the browser, not kept in state."""
        options = GeneratorOptions.from_text(self.gen_syllables, self.gen_numbers, self.gen_title_case, self.gen_separator)
        return rx.set_value(PAYLOAD_FIELD, generate_password(options))


def generator_options() -> rx.Component:
    return rx.popover.root(
        rx.popover.trigger(
            rx.icon_button(
                rx.icon("sliders-horizontal", size=16),
                type="button",
                variant="soft",
                aria_label="Password generator options",
                title="Generator options",
                id="generator-options",
            )
        ),
        rx.popover.content(
            rx.vstack(
                rx.text("Generated passwords", size="2", weight="bold"),
                rx.hstack(
                    field_label("Syllables", "gen-syllables"),
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
                    field_label("Separator", "gen-separator"),
                    rx.spacer(),
                    rx.select.root(
                        rx.select.trigger(id="gen-separator"),
                        rx.select.content(
                            *[rx.select.item(label, value=key) for key, label in SEPARATOR_LABELS.items()]
                        ),
                        value=GeneratorState.gen_separator,
                        on_change=GeneratorState.set_gen_separator,
                        size="1",
                    ),
                    width="100%",
                    align="center",
                ),
                rx.checkbox(
                    "Numbers",
                    checked=GeneratorState.gen_numbers == "1",
                    on_change=GeneratorState.set_gen_numbers,
                ),
                rx.checkbox(
                    "Title case",
                    checked=GeneratorState.gen_title_case == "1",
                    on_change=GeneratorState.set_gen_title_case,
                ),
                rx.text("Remembered in this browser.", size="1", color_scheme="gray"),
                spacing="3",
                min_width="14rem",
            ),
            side="bottom",
            align="start",
        ),
    )
