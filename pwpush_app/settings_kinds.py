"""Each kind's policy (text, file, url, qr): lifetimes, views, and which switches a sender
gets, under Password Pusher's names (PWP__PW__..., PWP__FILES__..., PWP__URL__...,
PWP__QR__...).  Below `settings.py`; read through its `Reader`.
"""

from __future__ import annotations

from dataclasses import dataclass

from pwpush_app.settings_languages import N_
from pwpush_app.settings_values import MINUTES_PER_DAY, Reader, document

KINDS = ("text", "file", "url", "qr")
# Password Pusher's prefix for each kind's settings.
KIND_ENV_PREFIX = {"text": "PWP__PW__", "file": "PWP__FILES__", "url": "PWP__URL__", "qr": "PWP__QR__"}
ABSOLUTE_MAX_MINUTES = 365 * MINUTES_PER_DAY
ABSOLUTE_MAX_VIEWS = 1000


@dataclass(frozen=True)
class KindPolicy:
    """Defaults and limits for one kind of push."""

    kind: str
    enabled: bool
    minutes_default: int
    minutes_min: int
    minutes_max: int
    views_default: int
    views_min: int
    views_max: int
    retrieval_step_default: bool
    deletable_by_viewer_default: bool
    # URL pushes redirect after the reveal: the viewer never gets a delete button.
    deletable_by_viewer_allowed: bool = True
    # ENABLE_RETRIEVAL_STEP: the sender may choose a retrieval step at all (off: never one).
    retrieval_step_allowed: bool = True
    # ENABLE_BLUR (text and file pushes): the reveal page blurs the text until it is
    # hovered, focused or clicked.
    blur: bool = False


# The kinds whose reveal page shows text a passer-by could read (Password Pusher's pw and files).
BLURRED_KINDS = ("text", "file")


def document_kind_settings() -> None:
    for prefix in KIND_ENV_PREFIX.values():
        document(f"{prefix}EXPIRE_AFTER_DAYS_DEFAULT / _MIN / _MAX", "7 / 1 / 90", N_("Lifetime in whole days (Password Pusher's names)."))
        document(f"{prefix}EXPIRE_AFTER_MINUTES_DEFAULT / _MIN / _MAX", "10080 / 5 / 129600", N_("Lifetime in minutes; wins over the day settings."))
        document(f"{prefix}EXPIRE_AFTER_VIEWS_DEFAULT / _MIN / _MAX", "5 / 1 / 100", N_("Views before the push expires."))
        document(f"{prefix}ENABLE_RETRIEVAL_STEP", "true", N_("Offer the retrieval step at all (false: never one, whatever the sender asks)."))
        document(f"{prefix}RETRIEVAL_STEP_DEFAULT", "true", N_("Recipients click to reveal (protects against link-preview bots)."))
        if prefix in ("PWP__PW__", "PWP__FILES__"):
            document(f"{prefix}ENABLE_BLUR", "true", N_("Blur the text on the reveal page until the recipient hovers over it, focuses it (Tab) or clicks it."))
        if prefix != "PWP__URL__":
            document(f"{prefix}ENABLE_DELETABLE_PUSHES", "true", N_("Offer \"recipients may delete\" at all (false: never deletable by recipients)."))
            document(f"{prefix}DELETABLE_PUSHES_DEFAULT", "true", N_("Recipients may delete the push after viewing."))


def read_policy(r: Reader, kind: str, enabled: bool) -> KindPolicy:
    p = KIND_ENV_PREFIX[kind]

    def minutes(which: str, default_minutes: int) -> tuple[int, str]:
        """The value in minutes, and how to name it in a message (the variable that set it)."""
        name = f"{p}EXPIRE_AFTER_MINUTES_{which}"
        days_name = f"{p}EXPIRE_AFTER_DAYS_{which}"
        if r.is_set(name):
            r.is_set(days_name)
            return r.int(name, default_minutes, 1, ABSOLUTE_MAX_MINUTES), name
        if r.is_set(days_name):
            days = r.int(days_name, 1, 1, ABSOLUTE_MAX_MINUTES // MINUTES_PER_DAY)
            return days * MINUTES_PER_DAY, f"{days_name} ({days} days)"
        return default_minutes, f"{name} (not set)"

    def views(which: str, default_views: int) -> tuple[int, str]:
        name = f"{p}EXPIRE_AFTER_VIEWS_{which}"
        value = r.int(name, default_views, 1, ABSOLUTE_MAX_VIEWS)
        return value, name if r.is_set(name) else f"{name} (not set)"

    m_min = minutes("MIN", 5)
    m_default = minutes("DEFAULT", 7 * MINUTES_PER_DAY)
    m_max = minutes("MAX", 90 * MINUTES_PER_DAY)
    if not m_min[0] <= m_default[0] <= m_max[0]:
        r.errors.append(
            "lifetimes must satisfy min <= default <= max; got "
            + ", ".join(f"{name} = {value} minutes" for value, name in (m_min, m_default, m_max))
        )
    v_min, v_default, v_max = views("MIN", 1), views("DEFAULT", 5), views("MAX", 100)
    if not v_min[0] <= v_default[0] <= v_max[0]:
        r.errors.append(
            "views must satisfy min <= default <= max; got "
            + ", ".join(f"{name} = {value}" for value, name in (v_min, v_default, v_max))
        )
    retrieval_allowed = r.bool(f"{p}ENABLE_RETRIEVAL_STEP", True)
    # URL pushes: never deletable by viewers, whatever the settings say.
    deletable_allowed = kind != "url" and r.bool(f"{p}ENABLE_DELETABLE_PUSHES", True)
    deletable_default = r.bool(f"{p}DELETABLE_PUSHES_DEFAULT", True) if kind != "url" else False
    return KindPolicy(
        kind=kind,
        enabled=enabled,
        minutes_default=m_default[0],
        minutes_min=m_min[0],
        minutes_max=m_max[0],
        views_default=v_default[0],
        views_min=v_min[0],
        views_max=v_max[0],
        retrieval_step_default=retrieval_allowed and r.bool(f"{p}RETRIEVAL_STEP_DEFAULT", True),
        deletable_by_viewer_default=deletable_allowed and deletable_default,
        deletable_by_viewer_allowed=deletable_allowed,
        retrieval_step_allowed=retrieval_allowed,
        blur=kind in BLURRED_KINDS and r.bool(f"{p}ENABLE_BLUR", True),
    )
