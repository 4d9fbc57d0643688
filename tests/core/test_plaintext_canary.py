"""Plaintext never touches disk or logs; after expiry even the ciphertext is gone from disk.

Unique random canaries go in as payload, note and passphrase (the name is a plaintext label
by design); then every file of the data folder (database, WAL, shared memory, key file)
and every log line is searched for them, in UTF-8 and UTF-16.
"""

from __future__ import annotations

import logging
import secrets
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from pwpush_app.core.create import NewPush, create_push
from pwpush_app.core.errors import WrongPassphrase
from pwpush_app.core.owners import expire_by_owner
from pwpush_app.core.purge import purge_expired
from pwpush_app.core.reveal import expire_by_viewer, reveal_push

from .common import ALICE, SENDER, T0, push_row


def encodings(text: str) -> list[bytes]:
    return [text.encode("utf-8"), text.encode("utf-16-le"), text.encode("utf-16-be")]


def files_under(folder: Path, modified_since: float = 0) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.stat().st_mtime >= modified_since
    }


def pieces(blob: bytes, size: int = 32, most: int = 16) -> list[bytes]:
    """Up to `most` evenly spread slices of a value.  SQLite splits a large value over
    overflow pages, so the whole value is not contiguous in its file; 32 bytes of a random
    value never appear by chance, and 16 slices hit every page a value spans."""
    starts = range(0, max(len(blob) - size, 0) + 1, size)
    step = max(1, len(starts) // most)
    return [blob[i:i + size] for i in starts[::step]]


def assert_absent(needles: dict[str, bytes], haystacks: dict[str, bytes]) -> None:
    found = [(what, where) for what, needle in needles.items() for where, hay in haystacks.items() if needle in hay]
    assert found == []


def test_no_payload_note_passphrase_or_link_token_reaches_disk_or_logs(make_runtime, db_engine, request, caplog, capfd):
    # Every logger at DEBUG, SQLAlchemy's statements and parameters included (it sets its
    # own logger to WARNING on import).
    started = time.time() - 1
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
    # No configured key: the generated master.key sits in the data folder and is scanned too.
    runtime = make_runtime(PWPUSH_MASTER_KEY="")
    canaries: dict[str, str] = {}
    created = []
    for i, size in enumerate((40, 3000, 20_000)):  # inline, big row, overflow pages
        payload = f"CANARY-payload-{i}-{secrets.token_hex(16)}-" + secrets.token_urlsafe(size)
        note = f"CANARY-note-{i}-{secrets.token_hex(16)}"
        passphrase = f"CANARY-pass-{i}-{secrets.token_hex(8)}"
        push = create_push(
            runtime, NewPush(payload=payload, note=note, passphrase=passphrase, name=f"label {i}", expire_after_views=3),
            SENDER, now=T0,
        )
        canaries |= {f"payload {i}": payload, f"note {i}": note, f"passphrase {i}": passphrase,
                     f"link {i}": push.url_token, f"manage link {i}": push.manage_token}
        created.append((push, passphrase))
    for push, passphrase in created[:2]:
        with pytest.raises(WrongPassphrase):
            reveal_push(runtime, push.url_token, ALICE, passphrase=passphrase[:-1], now=T0)
        assert reveal_push(runtime, push.url_token, ALICE, passphrase=passphrase, now=T0).payload.startswith("CANARY")
    reveal_push(runtime, created[0][0].url_token, ALICE, passphrase=created[0][1], now=T0)

    stored = files_under(runtime.settings.data_dir)
    assert "master.key" in stored
    postgres_files: dict[str, bytes] = {}
    if db_engine == "sqlite":
        assert {"pwpush.db", "pwpush.db-wal", "pwpush.db-shm"} <= set(stored)
    else:
        # PostgreSQL's files for this database, its shared catalogs, and the write-ahead log
        # segments written during this test (the WAL is on disk at every commit).
        with runtime.engine.connect() as connection:
            oid = connection.execute(text("SELECT oid FROM pg_database WHERE datname = current_database()")).scalar()
        cluster = request.getfixturevalue("postgres").dir / "data"
        for part, since in ((f"base/{oid}", 0), ("global", 0), ("pg_wal", started)):
            postgres_files |= {f"{part}/{name}": blob for name, blob in files_under(cluster / part, since).items()}
        assert any(name.startswith("pg_wal/") for name in postgres_files)
    # A control: what the database does store (a link's lookup hash) is found in its files.
    control = push_row(runtime, created[-1][0].push.id)["token_digest"].encode()
    assert any(control in blob for blob in [*stored.values(), *postgres_files.values()])
    out, err = capfd.readouterr()
    stored |= {"log records": caplog.text.encode("utf-8"), "stdout": out.encode(), "stderr": err.encode()}
    # The capture did see the core's messages and the SQL sent to the database.
    assert "generated a new master key" in caplog.text
    assert "INSERT INTO push" in caplog.text and "UPDATE push SET views_remaining" in caplog.text
    needles = {
        f"{what} ({encoding}) [{n}]": piece
        for what, secret in canaries.items()
        for encoding, blob in zip(("utf-8", "utf-16-le", "utf-16-be"), encodings(secret))
        for n, piece in enumerate(pieces(blob))
    }
    assert_absent(needles, stored)
    # The PostgreSQL database is UTF-8: one encoding is enough in its (large) files.
    assert_absent({what: piece for what, piece in needles.items() if "(utf-8)" in what}, postgres_files)


# PostgreSQL keeps old row versions until VACUUM and in its WAL until recycled: this
# guarantee is SQLite's (secure_delete + WAL checkpoint); on PostgreSQL the data key is gone.
@pytest.mark.sqlite_only
def test_after_expiry_and_purge_the_ciphertext_is_gone_from_every_file(runtime, make_push):
    pushes = [make_push(f"secret {i} " + secrets.token_urlsafe(200 * i ** 3), note=f"note {i}",
                       passphrase="pass" if i == 0 else "", expire_after_views=2, expire_after_minutes=5)
              for i in range(5)]
    sealed: dict[str, bytes] = {}
    for i, push in enumerate(pushes):
        row = push_row(runtime, push.push.id)
        for column in ("payload_sealed", "note_sealed", "wrapped_key"):
            sealed[f"{column} {i}"] = row[column]
        if row["passphrase_hash"]:
            sealed[f"passphrase_hash {i}"] = row["passphrase_hash"].encode()
    # A control: while the pushes live, the scan does find their ciphertext.
    on_disk = b"".join(files_under(runtime.settings.data_dir).values())
    assert all(any(piece in on_disk for piece in pieces(blob)) for blob in sealed.values())
    # Reveals rewrite the row, leaving copies of the page in the WAL.
    reveal_push(runtime, pushes[0].url_token, ALICE, passphrase="pass", now=T0)
    reveal_push(runtime, pushes[1].url_token, ALICE, now=T0)
    for _ in range(2):
        reveal_push(runtime, pushes[2].url_token, ALICE, now=T0)  # expired by views
    expire_by_owner(runtime, pushes[3].push, SENDER, now=T0)
    expire_by_viewer(runtime, pushes[4].url_token, ALICE, now=T0)
    # The rest run out of time; the purge job also folds the WAL back into the database.
    assert purge_expired(runtime, now=T0 + timedelta(minutes=5)) == 2

    after = files_under(runtime.settings.data_dir)
    assert "pwpush.db" in after
    assert_absent({f"{what} [{n}]": piece for what, blob in sealed.items() for n, piece in enumerate(pieces(blob))},
                  after)
