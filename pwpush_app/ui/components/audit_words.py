"""What the audit trail's events and a push's end are called on the pages (the manage page
and the dashboard say it the same way)."""

from __future__ import annotations

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
}
EXPIRED_REASONS = {
    "views": "its views ran out",
    "time": "its time ran out",
    "owner": "you expired it",
    "viewer": "the recipient deleted it",
}


def describe_event(kind: str, actor: str | None) -> str:
    label = EVENT_LABELS.get(kind, kind)
    if kind == "expire" and actor:
        label += " by the " + ("owner" if actor == "owner" else "recipient")
    elif kind == "expire_auto" and actor:
        label += f" ({actor})"
    return label
