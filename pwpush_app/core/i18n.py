"""Languages: which one a visitor gets, and the catalogues that hold every translated string.

- The catalogues are gettext `.po` files (pwpush_app/locales/<code>/LC_MESSAGES/messages.po),
  managed with Babel's `pybabel` (docs/web-app.md).  The msgid is the English text itself, so
  English needs no catalogue and a string missing from one shows in English, never blank.
- `choose_locale`: `?locale=xx` first (as Password Pusher), then the choice this browser
  remembered (a cookie), then the browser's Accept-Language, then PWP__DEFAULT_LOCALE; only
  codes in PWP__ENABLED_LANGUAGE_CODES are ever chosen.
- `translate(code, text)`: server-side text (API errors, mails) goes through the same
  catalogues; the pages look strings up in the browser (ui/i18n.py).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po

from pwpush_app.settings_languages import DEFAULT_LOCALE, LANGUAGES, RIGHT_TO_LEFT, normalise

__all__ = ["DEFAULT_LOCALE", "LANGUAGES", "RIGHT_TO_LEFT", "accepted_languages", "catalogue", "choose_locale",
           "direction", "N_", "normalise", "translate"]

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


def N_(text: str) -> str:
    """Marks English text that is translated later, where it is shown (pybabel extracts it)."""
    return text
