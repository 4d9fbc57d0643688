"""Master key rotation: re-wrap every live push's data key under the newest master key.

Payloads are sealed under per-push data keys, so a rotation re-wraps 32-byte keys and never
touches the payloads.  What it cannot move are the link lookup hashes: the database keeps
only an HMAC of each secret link (and manage link), never the token, so a push created
under an old key is found by its link only while that old key is still configured
(``PWPUSH_MASTER_KEY_PREVIOUS``).  Links expire by design, so the old key can go once the
last push filed under it has expired; the report says when that is.

Run it with ``python -m pwpush_app rotate-keys``; running it again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, update
from sqlalchemy import select as sa_select

from pwpush_app.core.clock import iso_utc, utcnow
from pwpush_app.core.crypto import DecryptionError
from pwpush_app.core.db import transaction
from pwpush_app.core.models import Push
from pwpush_app.core.runtime import Runtime
from pwpush_app.core.sealing import rewrap_records

ROTATION_BATCH = 200


@dataclass(frozen=True)
class RotationReport:
    current_key_id: str
    # Live pushes whose data key this run moved to the current master key.
    rewrapped: int
    # Live pushes whose data key was already under the current master key.
    already_current: int
    # Live pushes whose data key is under a master key that is not configured: they
    # cannot be opened until that key is added to PWPUSH_MASTER_KEY_PREVIOUS.
    unreadable: int
    # Live pushes whose link (and manage link) hashes were made under an earlier key.
    links_under_old_keys: int
    # When the last of those expires at the latest: the earlier keys are needed until then.
    old_links_expire_by: datetime | None
    # Queued mails, webhooks, two-factor secrets and requests (their own data keys): re-wrapped, and those under a key not configured.
    records_rewrapped: int = 0
    records_unreadable: int = 0

    def describe(self) -> str:
        """The report in plain words, as the command prints it."""
        lines = [
            f"Current master key id: {self.current_key_id}.",
            f"Re-wrapped {_pushes(self.rewrapped)} under the current key; {self.already_current} already used it.",
        ]
        if self.records_rewrapped or self.records_unreadable:
            lines.append(f"Re-wrapped {self.records_rewrapped} queued mails, webhooks, two-factor secrets and requests; "
                         f"{self.records_unreadable} could not be opened.")
        if self.unreadable:
            lines.append(
                f"Live pushes that could not be opened (their master key is not configured): {self.unreadable}. "
                "Add that key to PWPUSH_MASTER_KEY_PREVIOUS and run rotate-keys again."
            )
        if self.links_under_old_keys:
            lines.append(
                f"Live pushes whose links still need an earlier key: {self.links_under_old_keys}. "
                f"Keep PWPUSH_MASTER_KEY_PREVIOUS until they expire, at the latest {iso_utc(self.old_links_expire_by)}."
            )
        elif not self.unreadable and not self.records_unreadable:
            lines.append("No live push needs an earlier key: PWPUSH_MASTER_KEY_PREVIOUS can be removed.")
        return "\n".join(lines)


def _pushes(count: int) -> str:
    return f"{count} live push" if count == 1 else f"{count} live pushes"


def rotate_keys(runtime: Runtime, now: datetime | None = None) -> RotationReport:
    """Re-wrap live pushes' data keys under the current master key, a batch per transaction."""
    now = now or utcnow()
    keyring = runtime.keyring
    current = keyring.current_key_id
    rewrapped = already_current = unreadable = 0
    last_id = ""
    while True:
        with transaction(runtime.engine) as db:
            rows = db.execute(
                sa_select(Push.id, Push.wrapped_key)
                .where(Push.expired == False, Push.wrapped_key.is_not(None), Push.id > last_id)  # noqa: E712
                .order_by(Push.id)
                .limit(ROTATION_BATCH)
            ).all()
            for push_id, wrapped in rows:
                if keyring.wrapped_key_id(wrapped) == current:
                    already_current += 1
                    continue
                try:
                    fresh = keyring.rewrap(push_id, wrapped)
                except DecryptionError:
                    unreadable += 1
                    continue
                # Only if nothing changed it meanwhile: an expiry must never get its key back.
                rewrapped += db.execute(
                    update(Push)
                    .where(Push.id == push_id, Push.expired == False, Push.wrapped_key == wrapped)  # noqa: E712
                    .values(wrapped_key=fresh)
                    .execution_options(synchronize_session=False)
                ).rowcount
        if len(rows) < ROTATION_BATCH:
            break
        last_id = rows[-1][0]

    with transaction(runtime.engine) as db:
        old_links, latest = db.execute(
            sa_select(func.count(), func.max(Push.expires_at)).where(
                Push.expired == False,  # noqa: E712
                Push.views_remaining > 0,
                Push.expires_at > now,
                Push.token_key_id != current,
            )
        ).one()
    records_rewrapped, records_unreadable = rewrap_records(runtime)
    return RotationReport(
        records_rewrapped=records_rewrapped,
        records_unreadable=records_unreadable,
        current_key_id=current,
        rewrapped=rewrapped,
        already_current=already_current,
        unreadable=unreadable,
        links_under_old_keys=old_links,
        old_links_expire_by=latest,
    )

