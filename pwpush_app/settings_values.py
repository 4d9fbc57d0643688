"""How settings are read: the environment's text turned into typed values, every error
collected (so one start names every bad variable), and the documentation table.

Below `settings.py` (which declares every setting) and `settings_kinds.py` (the per-kind
policies); imports nothing of ours.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Callable, Mapping

MINUTES_PER_DAY = 24 * 60


class SettingsError(ValueError):
    """A setting has a value we cannot run with; the message names the variable."""


# How a setting's value is secret, declared with it (the admin's settings page redacts by this,
# never by guessing from names): SECRET hides the whole value, URL_PASSWORD the password in a URL.
SECRET, URL_PASSWORD = "secret", "url password"


@dataclass(frozen=True)
class SettingDoc:
    name: str
    default: str
    description: str  # a catalogue entry (marked with N_ where it is written)
    secret: str = ""
    listed: str = ""  # codes or names after the description, the same in every language


# Every variable, in the order the README lists them (`python -m pwpush_app settings-table`).
SETTINGS_TABLE: list[SettingDoc] = []


def document(name: str, default: object, description: str, secret: str = "", listed: str = "") -> str:
    """Declare a setting for the README's table and the admin's settings page; `secret`: SECRET
    or URL_PASSWORD for a value that must never be shown; `listed`: codes that follow the
    description as they are."""
    if secret not in ("", SECRET, URL_PASSWORD):
        raise ValueError(f"{name}: secret must be SECRET or URL_PASSWORD")
    SETTINGS_TABLE.append(SettingDoc(name, str(default), description, secret, listed))
    return name


def settings_table_markdown() -> str:
    lines = ["| variable | default | what it does |", "|---|---|---|"]
    lines += [f"| `{d.name}` | `{d.default}` | {d.description}{' ' + d.listed + '.' if d.listed else ''} |"
              for d in SETTINGS_TABLE]
    return "\n".join(lines)


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"{name}={raw!r} is not a boolean: use true or false")


def parse_int(name: str, raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number") from None


def parse_str(name: str, raw: str) -> str:
    return raw


# Password Pusher's durations ("2 hours", "3 months", "1 year"), as Rails reads them.
_UNIT_MINUTES = {"minute": 1, "hour": 60, "day": MINUTES_PER_DAY, "week": 7 * MINUTES_PER_DAY,
                 "month": 30 * MINUTES_PER_DAY, "year": 365 * MINUTES_PER_DAY}
_DURATION_RE = re.compile(r"^\s*(\d{1,7})\s*(minute|hour|day|week|month|year)s?\s*$", re.IGNORECASE)


def parse_duration_minutes(name: str, raw: str) -> int:
    """'15 minutes', '2 hours', '3 months' (30 days), '1 year' (365 days) -> minutes."""
    match = _DURATION_RE.match(raw)
    if not match:
        raise SettingsError(f"{name}={raw!r} is not a duration: write e.g. '2 hours', '3 days', '3 months' or '1 year'")
    return int(match.group(1)) * _UNIT_MINUTES[match.group(2).lower()]


def parse_networks(name: str, raw: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """'10.0.0.1, 192.168.0.0/16 2001:db8::/32' (commas or spaces) -> networks."""
    networks = []
    for part in re.split(r"[,\s]+", raw.strip()):
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise SettingsError(f"{name}: {part!r} is not an IP address or network (e.g. 10.0.0.1 or 10.0.0.0/8)") from None
    return tuple(networks)


_HOST_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_HOST_RE = re.compile(rf"^\.?{_HOST_LABEL}(\.{_HOST_LABEL})*\.?$")


def parse_hosts(name: str, raw: str) -> tuple[str, ...]:
    """'secrets.example.com .example.org 10.0.0.5' (spaces or commas) -> lower-case host
    names; a leading dot stands for the domain and all its subdomains (as in Rails)."""
    hosts = []
    for part in re.split(r"[,\s]+", raw.strip().lower()):
        if not part:
            continue
        bare = part[1:-1] if part.startswith("[") and part.endswith("]") else part
        try:
            hosts.append(str(ipaddress.ip_address(bare)))
            continue
        except ValueError:
            pass
        if not _HOST_RE.match(part) or len(part) > 253:
            raise SettingsError(f"{name}: {part!r} is not a host name: write it without scheme, port or path "
                                "(secrets.example.com, or .example.com for every subdomain)")
        hosts.append(part.rstrip("."))
    return tuple(hosts)


def parse_words(name: str, raw: str) -> tuple[str, ...]:
    """Space- or comma-separated words ('a.example b.example')."""
    return tuple(word for word in re.split(r"[,\s]+", raw.strip()) if word)


class Reader:
    """Reads variables from one environment mapping; collects every error at once, and
    remembers every name it was asked about (tests hold that list against the README and
    against Password Pusher's settings)."""

    def __init__(self, environ: Mapping[str, str]):
        self.environ = environ
        self.errors: list[str] = []
        self.names: set[str] = set()

    def get(self, name: str, default, parse: Callable[[str, str], object]):
        self.names.add(name)
        raw = self.environ.get(name)
        if raw is None or raw == "":
            return default
        try:
            return parse(name, raw)
        except SettingsError as error:
            self.errors.append(str(error))
            return default

    def bool(self, name: str, default: bool) -> bool:
        return self.get(name, default, parse_bool)

    def int(self, name: str, default: int, low: int | None = None, high: int | None = None) -> int:
        value = self.get(name, default, parse_int)
        if low is not None and value < low or high is not None and value > high:
            self.errors.append(f"{name}={value} is out of range: it must be between {low} and {high}")
            return default
        return value

    def str(self, name: str, default: str | None) -> str | None:
        return self.get(name, default, parse_str)

    def is_set(self, name: str) -> bool:
        self.names.add(name)
        return bool(self.environ.get(name))
