"""What the audit trail's events, its user agents, a push's end and passphrase lock-outs are
called on the pages (the manage page and the dashboard say it the same way)."""

from __future__ import annotations

from datetime import datetime, timezone

import reflex as rx

from pwpush_app.core.audit import NO_PASSPHRASE

EVENT_LABELS = {
    "creation": "Created",
    "view": "Viewed",
    "failed_view": "Viewed after expiry (refused)",
    "failed_passphrase": "Wrong passphrase",
    "passphrase_lock": "Locked: too many wrong passphrases, every attempt refused for a while",
    "expire": "Deleted",
    "expire_auto": "Expired",
    "owner_view": "Manage page opened",
    "edit": "Edited",
    "creation_email_send": "Link mailed",
    "refused_address": "Opened from an address you did not allow (refused)",
    "passphrase_burn": "Wrong passphrase: your limit was reached, the secret is deleted",
    "code_sent": "Verification code emailed to the recipient",
    "wrong_code": "Wrong verification code",
    "code_verified": "Recipient verified by the emailed code",
}
EXPIRED_REASONS = {
    "views": "its views ran out",
    "time": "its time ran out",
    "owner": "you expired it",
    "viewer": "the recipient deleted it",
    "guesses": "too many wrong passphrases",
    "admin": "an administrator expired it",
}


def describe_event(kind: str, actor: str | None) -> str:
    label = EVENT_LABELS.get(kind, kind)
    if kind == "expire" and actor:
        label += " by " + {"owner": "the owner", "admin": "an administrator"}.get(actor, "the recipient")
    elif kind == "expire_auto" and actor:
        label += f" ({EXPIRED_REASONS.get(actor, actor)})"
    elif kind == "failed_passphrase" and actor == NO_PASSPHRASE:
        label = "Opened without the passphrase (not counted as a guess)"
    return label


def describe_user_agent(raw: str) -> str:
    """'Chrome 126 on Windows 10', 'Mobile Safari 17 on iOS 17 (iPhone)', 'curl 8',
    'Slackbot-LinkExpanding 1 (a bot)'; the raw string when nothing is recognised.
    (ua-parser: ~7 ms for a string first seen, then cached.)"""
    if not raw:
        return "–"
    from ua_parser import parse as parse_user_agent  # not at every server start (~15-35 ms)

    found = parse_user_agent(raw[:255]).with_defaults()
    browser = " ".join(p for p in (found.user_agent.family, found.user_agent.major) if p and p != "Other")
    system = " ".join(p for p in (found.os.family, found.os.major) if p and p != "Other")
    if not browser and not system:
        return raw[:60] + ("…" if len(raw) > 60 else "")
    text = " on ".join(p for p in (browser or "Unknown browser", system) if p)
    if found.device.family == "Spider":
        text += " (a bot)"
    elif found.device.family not in ("Other", "") and found.device.family not in text:
        text += f" ({found.device.family})"
    return text


def describe_lockout(ip: str | None, until: datetime, max_failures: int, push_max_failures: int) -> str:
    """What the owner reads about recipients locked out by wrong passphrases."""
    when = f"{until.day} {until.astimezone(timezone.utc):%b %Y, %H:%M} UTC"
    if ip is None:
        return (f"Locked for everyone: {push_max_failures} wrong passphrases from all recipients together. "
                f"Attempts are refused until {when}.")
    return (f"A recipient at {ip} typed {max_failures} wrong passphrases: their attempts are paused until {when}. "
            "Check that they have the right passphrase.")


def user_agent_cell(event: rx.Var) -> rx.Component:
    """An audit row's browser and system, the raw user agent a click away (a native
    disclosure, so the keyboard opens it too)."""
    return rx.el.details(
        rx.el.summary(event["browser"], style={"cursor": "pointer"}),
        rx.text(event["user_agent"], size="1", color_scheme="gray", word_break="break-all", class_name="raw-user-agent"),
        class_name="user-agent",
    )
