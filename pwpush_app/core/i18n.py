"""Languages: which one a visitor gets, and the catalogues that hold every translated string.

- The catalogues are gettext `.po` files (pwpush_app/locales/<code>/LC_MESSAGES/messages.po),
  managed with Babel's `pybabel` (docs/web-app.md).  The msgid is the English text itself, so
  English needs no catalogue and a string missing from one shows in English, never blank.
- `choose_locale`: `?locale=xx` first (as Password Pusher), then the choice this browser
  remembered (a cookie), then the browser's Accept-Language, then PWP__DEFAULT_LOCALE; only
  codes in PWP__ENABLED_LANGUAGE_CODES are ever chosen.
- `translate(code, text)`: server-side text (API errors, mails) goes through the same
  catalogues; the pages look strings up in the browser (ui/i18n.py).
- `said(template, **values)`: English text with values (`{count}`), which remembers its
  sentences so that `in_language` translates the template first and fills it after; `*_minutes`
  values read "8 minutes" in each language, `*_span` minutes in their largest whole unit
  ("7 days"), `*_count` numbers grouped ("1,048,576", "1 048 576").  A `Said` is a `str`: English callers see no change.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from babel.core import Locale, UnknownLocaleError
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.units import format_unit

from pwpush_app.settings_languages import DEFAULT_LOCALE, LANGUAGES, N_, RIGHT_TO_LEFT, normalise  # noqa: F401 (N_: ours to import)

__all__ = ["DEFAULT_LOCALE", "LANGUAGES", "RIGHT_TO_LEFT", "accepted_languages", "catalogue", "choose_locale",
           "direction", "N_", "Said", "in_language", "joined", "normalise", "said", "span_words", "text_of", "translate"]

# The cookie a browser remembers its visitor's choice in (ui/i18n.py sets it; the login forms read it).
COOKIE = "pwp_locale"
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"

def accepted_languages(header: str | None) -> list[str]:
    """Accept-Language's ranges, most wanted first (`q=0` ones dropped; ties keep their order)."""
    ranges = []
    for position, item in enumerate((header or "")[:1000].split(",")):
        tag, _, params = item.strip().partition(";")
        weight = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if tag and tag != "*" and weight > 0:
            ranges.append((-weight, position, tag))
    return [tag for _, _, tag in sorted(ranges)]


def choose_locale(*, query: str | None, remembered: str | None, accept_language: str | None,
                  default: str = DEFAULT_LOCALE, enabled: tuple[str, ...] | list[str] = tuple(LANGUAGES)) -> str:
    for wanted in (query, remembered, *accepted_languages(accept_language)):
        found = normalise(wanted, enabled)
        if found:
            return found
    return normalise(default, enabled) or (enabled[0] if enabled else DEFAULT_LOCALE)


def direction(code: str) -> str:
    return "rtl" if code in RIGHT_TO_LEFT else "ltr"


def catalogue_path(code: str) -> Path:
    return LOCALES_DIR / code.replace("-", "_") / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=64)
def catalogue(code: str) -> dict[str, str]:
    """English msgid → this language's text, translated entries only (read once per process)."""
    path = catalogue_path(code)
    if code == "en" or not path.exists():
        return {}
    with path.open("rb") as file:
        messages = read_po(file, locale=code.replace("-", "_"))
    return {m.id: m.string for m in messages if m.id and isinstance(m.id, str) and m.string and not m.fuzzy}


def translate(code: str, text: str) -> str:
    """Server-side text in the visitor's language; English (the msgid) where there is no translation."""
    return catalogue(code).get(text, text)


# --- text with values, translated on the server (API errors, mails) ------------------------------

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")

Sentences = tuple[tuple[str, dict], ...]


class Said(str):
    """English text (a `str`) that keeps its sentences: (English template, values) pairs."""

    sentences: Sentences = ()

    def __new__(cls, sentences: Sentences):
        text = super().__new__(cls, " ".join(_fill(template, values, "en") for template, values in sentences))
        text.sentences = tuple(sentences)
        return text

    def __reduce__(self):
        return Said, (self.sentences,)


def said(template: str, **values) -> Said:
    """One sentence with its values (the template marked with `N_` where it is written)."""
    return Said(((template, values),))


def joined(*texts: str) -> Said:
    """Texts (plain or `Said`) one after the other, as one text."""
    return Said(tuple(sentence for text in texts for sentence in _sentences(text)))


def _sentences(text: str) -> Sentences:
    return getattr(text, "sentences", ()) or ((str(text).strip(), {}),)


def text_of(error: Exception) -> str:
    """A refusal's message with its sentences (an exception's `str()` loses them)."""
    message = error.args[0] if error.args and isinstance(error.args[0], str) else str(error)
    sentences = getattr(message, "sentences", ()) or getattr(error, "sentences", ())
    return Said(sentences) if sentences else message


@lru_cache(maxsize=64)
def _babel(code: str) -> Locale | None:
    try:
        return Locale.parse(code.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return None


def span_unit(minutes: int) -> tuple[int, str]:
    """A span of minutes in its largest whole unit: 10080 -> (7, "day"), 90 -> (90, "minute")."""
    for size, unit in ((24 * 60, "day"), (60, "hour")):
        if minutes and minutes % size == 0:
            return minutes // size, unit
    return minutes, "minute"


def span_words(minutes: int, code: str = "en") -> str:
    """Minutes in their largest whole unit, in language `code`: "7 days", "7 jours"."""
    count, unit = span_unit(minutes)
    babel = _babel(code) if code != "en" else None
    if babel is None:
        return f"{count} {unit}{'s' if count != 1 else ''}"
    return format_unit(count, f"duration-{unit}", length="long", locale=babel)


def _word(name: str, value, code: str) -> str:
    if name.endswith("_said"):  # a value that is itself a catalogue entry: "it did not answer in time"
        return translate(code, str(value))
    if not isinstance(value, int) or isinstance(value, bool):
        return str(value)
    babel = _babel(code) if code != "en" else None
    if name.endswith("_span"):  # minutes, in the largest whole unit: "7 days", "7 jours"
        return span_words(value, code)
    if name.endswith("_count"):  # a number grouped as the language groups it: "1,048,576", "1 048 576"
        return f"{value:,}" if babel is None else format_decimal(value, locale=babel)
    for suffix, unit in (("_minutes", "minute"), ("_seconds", "second")):
        if name.endswith(suffix):
            if babel is None:  # English, as the messages always read
                return f"{value} {unit}{'s' if value != 1 or unit == 'second' else ''}"
            return format_unit(value, f"duration-{unit}", length="long", locale=babel)
    return format_decimal(value, locale=babel) if babel is not None and value >= 10000 else str(value)


def _fill(template: str, values: dict, code: str) -> str:
    """One pass: a value that itself holds "{name}" (a push's name, an address) stays as it is."""
    return _PLACEHOLDER.sub(lambda found: _word(found[1], values[found[1]], code) if found[1] in values else found[0],
                            template)


@lru_cache(maxsize=256)
def _made_by(template: str) -> re.Pattern:
    pattern = re.escape(template)
    for name in _PLACEHOLDER.findall(template):
        pattern = pattern.replace(re.escape("{" + name + "}"), f"(?P<{name}>.+?)", 1)
    return re.compile(pattern, re.DOTALL)


def sentences_in(text: str, templates) -> list[dict]:
    """The sentence a stored English text was made from by one of `templates` (a failure's
    reason, an admin log's detail), with its values, as a page reads them (`refusal_text`);
    [] when none of them made it (it is shown as it is)."""
    for template in templates:
        found = _made_by(template).fullmatch(text or "")
        if found:
            return [{"text": template, "values": found.groupdict()}]
    return []


def in_language(code: str | None, text: str) -> str:
    """`text` (plain English, or a `Said`) in language `code`; English where a sentence has no translation."""
    if not text or not code or code == "en":
        return str(text)
    sentences = getattr(text, "sentences", ())
    if not sentences:
        return translate(code, str(text))
    return " ".join(_fill(translate(code, template), values, code) for template, values in sentences)
