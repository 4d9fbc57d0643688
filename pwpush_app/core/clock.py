"""Time, in one place: aware UTC datetimes. Core functions take `now=` so tests can move it."""

from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso_utc(moment: datetime | None, timespec: str = "seconds") -> str | None:
    """ISO 8601 in UTC with a Z; the API passes "milliseconds", as Password Pusher shows them."""
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).isoformat(timespec=timespec).replace("+00:00", "Z")
