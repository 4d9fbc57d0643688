"""The password generator: pronounceable syllables, like Password Pusher's.

A syllable is a consonant, a vowel and sometimes a closing consonant ("ka", "rut"); a
password is a few syllables joined by a separator, optionally title-cased and each
followed by a digit: ``Kab4-Ruti7-Mo2``.  Every choice comes from `secrets`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

CONSONANTS = "bcdfghjkmnpqrstvwxz"  # no "l": it reads like "1" and "I"
VOWELS = "aeiouy"
DIGITS = "23456789"  # no 0/1: they read like O/l
SEPARATORS = {"dash": "-", "underscore": "_", "dot": ".", "space": " ", "none": ""}
MIN_SYLLABLES = 2
MAX_SYLLABLES = 10


@dataclass(frozen=True)
class GeneratorOptions:
    syllables: int = 3
    numbers: bool = True
    title_case: bool = True
    separator: str = "dash"  # a key of SEPARATORS

    @classmethod
    def from_text(cls, syllables: str, numbers: str, title_case: str, separator: str) -> "GeneratorOptions":
        """Options as the browser remembers them (strings); anything odd falls back to the default."""
        try:
            count = min(max(int(syllables), MIN_SYLLABLES), MAX_SYLLABLES)
        except (TypeError, ValueError):
            count = cls.syllables
        return cls(
            syllables=count,
            numbers=numbers != "0",
            title_case=title_case != "0",
            separator=separator if separator in SEPARATORS else cls.separator,
        )


def _syllable(options: GeneratorOptions) -> str:
    text = secrets.choice(CONSONANTS) + secrets.choice(VOWELS)
    if secrets.randbelow(2):
        text += secrets.choice(CONSONANTS)
    if options.title_case:
        text = text.capitalize()
    if options.numbers:
        text += secrets.choice(DIGITS)
    return text


def generate_password(options: GeneratorOptions = GeneratorOptions()) -> str:
    return SEPARATORS[options.separator].join(_syllable(options) for _ in range(options.syllables))
