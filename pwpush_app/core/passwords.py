"""The password generator: pronounceable syllables, like Password Pusher's.

A syllable alternates consonants and vowels ("ka", "rut"), between the settings' shortest
and longest syllable; a password is a few syllables joined by a separator, optionally
title-cased and each followed by a digit: ``Kab4-Ruti7-Mo2``.  The letters, the lengths
and the defaults are the site's (PWP__GEN__*, settings_pages.GeneratorDefaults); the
number of syllables, digits, title case and separator are each visitor's to change.
Every choice comes from `secrets`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from pwpush_app.settings_pages import GeneratorDefaults

DIGITS = "23456789"  # no 0/1: they read like O/l
SEPARATORS = {"dash": "-", "underscore": "_", "dot": ".", "space": " ", "none": ""}
# A visitor's choice of "the site's separators" (PWP__GEN__SEPARATORS): one of them at
# random for each gap when there are several.
SITE_SEPARATORS = "site"
MIN_SYLLABLES = 2
MAX_SYLLABLES = 10


def default_separator(defaults: GeneratorDefaults) -> str:
    """The separator choice a visitor starts with."""
    if not defaults.use_separators:
        return "none"
    named = [key for key, text in SEPARATORS.items() if text and text == defaults.separators]
    return named[0] if named else SITE_SEPARATORS


def separator_choices(defaults: GeneratorDefaults) -> dict[str, str]:
    """Separator key -> its characters, the site's own set among them when it is not one of ours."""
    choices = dict(SEPARATORS)
    if default_separator(GeneratorDefaults(separators=defaults.separators)) == SITE_SEPARATORS:
        choices[SITE_SEPARATORS] = defaults.separators
    return choices


@dataclass(frozen=True)
class GeneratorOptions:
    syllables: int = 3
    numbers: bool = True
    title_case: bool = True
    separator: str = "dash"  # a key of separator_choices()
    defaults: GeneratorDefaults = field(default_factory=GeneratorDefaults)

    @classmethod
    def starting(cls, defaults: GeneratorDefaults) -> "GeneratorOptions":
        """What a visitor gets before changing anything: the site's defaults."""
        return cls(syllables=defaults.syllables_count, numbers=defaults.has_numbers, title_case=defaults.title_cased,
                   separator=default_separator(defaults), defaults=defaults)

    @classmethod
    def from_text(cls, syllables: str, numbers: str, title_case: str, separator: str,
                  defaults: GeneratorDefaults | None = None) -> "GeneratorOptions":
        """Options as the browser remembers them (strings); anything odd falls back to the default."""
        start = cls.starting(defaults or GeneratorDefaults())
        try:
            count = min(max(int(syllables), MIN_SYLLABLES), MAX_SYLLABLES)
        except (TypeError, ValueError):
            count = start.syllables
        return cls(
            syllables=count,
            numbers=numbers != "0",
            title_case=title_case != "0",
            separator=separator if separator in separator_choices(start.defaults) else start.separator,
            defaults=start.defaults,
        )


def _syllable(options: GeneratorOptions) -> str:
    d = options.defaults
    length = d.min_syllable_length + secrets.randbelow(d.max_syllable_length - d.min_syllable_length + 1)
    text = "".join(secrets.choice(d.consonants if i % 2 == 0 else d.vowels) for i in range(length))
    if options.title_case:
        text = text.capitalize()
    if options.numbers:
        text += secrets.choice(DIGITS)
    return text


def generate_password(options: GeneratorOptions = GeneratorOptions()) -> str:
    pool = separator_choices(options.defaults).get(options.separator, "")
    parts = [_syllable(options) for _ in range(options.syllables)]
    if len(pool) <= 1:
        return pool.join(parts)
    return parts[0] + "".join(secrets.choice(pool) + part for part in parts[1:])
