"""What the core tests share: clients, a fixed clock, and plain-SQL looks at the stored rows."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

from sqlalchemy import text

from pwpush_app.core.audit import Client

ALICE = Client(ip="203.0.113.7", user_agent="Mozilla/5.0 (recipient)", referrer="https://chat.example/")
MALLORY = Client(ip="198.51.100.66", user_agent="curl/8", referrer="")
SENDER = Client(ip="192.0.2.1", user_agent="Mozilla/5.0 (sender)", referrer="")

# A fixed clock: tests move time with `now=` instead of sleeping.
T0 = datetime(2026, 11, 25, 12, 0, 0, tzinfo=timezone.utc)


def run_at_once(target, arguments) -> None:
    """`target(argument)` for every argument, each in a thread of its own, all at once; waits
    for them (two minutes at most: a thread still running then has hung, and fails the test)."""
    threads = [threading.Thread(target=target, args=(argument,)) for argument in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"


def push_row(runtime, push_id: str) -> dict:
    """The stored row, read with plain SQL: what a copy of the database would show."""
    with runtime.engine.connect() as connection:
        row = connection.execute(text("SELECT * FROM push WHERE id = :id"), {"id": push_id}).mappings().one()
    return dict(row)


def audit_rows(runtime, push_id: str) -> list[dict]:
    with runtime.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT * FROM audit_event WHERE push_id = :id ORDER BY id"), {"id": push_id}
        ).mappings()
        return [dict(r) for r in rows]


def audit_kinds(runtime, push_id: str) -> list[str]:
    return [r["kind"] for r in audit_rows(runtime, push_id)]


def count_rows(runtime) -> dict[str, int]:
    with runtime.engine.connect() as connection:
        return {
            table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("push", "audit_event", "pwpush_user")
        }


def set_column(runtime, push_id: str, column: str, value) -> None:
    """Tamper with a stored row, as someone with write access to the database could."""
    with runtime.engine.begin() as connection:
        connection.execute(text(f"UPDATE push SET {column} = :v WHERE id = :id"), {"v": value, "id": push_id})
