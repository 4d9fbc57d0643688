"""The effective settings, as the admin's settings page shows them: every variable of
SETTINGS_TABLE with the value in force and where it came from (the environment, or the
default), secrets redacted.

Redaction follows each setting's declaration (`document(..., secret=SECRET | URL_PASSWORD)`
in settings*.py), never a guess from its name at display time: a secret setting shows only
whether it is set; a URL shows everything but its password (user:•••@host, and
`password=•••` in its query).  Below core: reads a Settings' `environment` only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

from pwpush_app.settings_values import SECRET, SETTINGS_TABLE, URL_PASSWORD, SettingDoc

DEFAULT, ENVIRONMENT = "default", "environment"
HIDDEN = "•••"
SET_HIDDEN = "(set, hidden)"


@dataclass(frozen=True)
class EffectiveSetting:
    """One variable: its value in force (redacted if secret) and where that came from."""

    name: str
    value: str
    source: str
    redacted: bool
    description: str  # a catalogue entry (the page words it in the visitor's language)
    listed: str = ""  # codes after the description, the same in every language


def _members(doc: SettingDoc) -> list[str]:
    """The variables a documented row stands for: `A_DEFAULT / _MIN / _MAX` is three,
    `A__LIGHT_LOGO / __DARK_LOGO` two; a `...` row (a family) is its named examples."""
    tokens = re.findall(r"[A-Za-z0-9_]+", doc.name)
    first, names = tokens[0], [tokens[0]]
    for token in tokens[1:]:
        joint = "__" if token.startswith("__") else "_"
        names.append(first[:first.rindex(joint)] + token if joint in first else token)
    return names


def _stem(name: str) -> str:
    """A family's common start: `PWP__BRAND__ICON_16x16` -> `PWP__BRAND__ICON_`."""
    return re.sub(r"\d+x\d+$", "", name)


def redact_url(value: str) -> str:
    """A URL without its password: the part between the user name's colon and the last `@`
    (a password with an unescaped @ or / stays hidden too), and any password= in the query."""
    scheme, sep, rest = value.partition("://")
    if sep and "@" in rest:
        userinfo, _at, host = rest.rpartition("@")
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":" + HIDDEN
        value = f"{scheme}://{userinfo}@{host}"
    return re.sub(r"(?i)\b(password|passwd|pwd)=[^&;#]*", rf"\1={HIDDEN}", value)


def shown_value(doc: SettingDoc, value: str, from_environment: bool) -> tuple[str, bool]:
    """(what the page shows, whether something was hidden) for one value of this setting."""
    if doc.secret == SECRET and from_environment:
        return SET_HIDDEN, True
    if doc.secret == URL_PASSWORD:
        shown = redact_url(value)
        return shown, shown != value
    return value, False


def effective_settings(environment: Mapping[str, str]) -> list[EffectiveSetting]:
    """Every variable of SETTINGS_TABLE, in its order, from the variables the environment set
    (`Settings.environment`)."""
    rows: list[EffectiveSetting] = []
    for doc in SETTINGS_TABLE:
        names = _members(doc)
        defaults = doc.default.split(" / ")
        if "..." in doc.name:
            stems = tuple(_stem(n) for n in names)
            family = sorted(n for n in environment if n.startswith(stems))
            names = family or [doc.name]
            defaults = [doc.default]
        for i, name in enumerate(names):
            default = defaults[i] if len(defaults) == len(names) else doc.default
            from_environment = name in environment
            value, redacted = shown_value(doc, environment[name] if from_environment else default, from_environment)
            rows.append(EffectiveSetting(name=name, value=value, source=ENVIRONMENT if from_environment else DEFAULT,
                                         redacted=redacted, description=doc.description,
                                         listed=doc.listed))
    return rows
