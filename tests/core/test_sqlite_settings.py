"""SQLite runs in WAL mode with the configured durability, and writers queue in-process."""

import threading

import pytest

from pwpush_app.core import pushes
from pwpush_app.core.audit import Client
from pwpush_app.settings import SettingsError, load_settings


def _pragma(vault, name):
    connection = vault.engine.raw_connection()
    try:
        return connection.cursor().execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        connection.close()


@pytest.mark.sqlite_only
@pytest.mark.parametrize(("setting", "level"), [(None, 2), ("FULL", 2), ("normal", 1)])
def test_durability_follows_the_setting(make_vault, setting, level):
    vault = make_vault(**({"PWPUSH_SQLITE_SYNCHRONOUS": setting} if setting else {}))
    assert _pragma(vault, "synchronous") == level
    assert _pragma(vault, "journal_mode") == "wal"
    assert _pragma(vault, "secure_delete") == 1


def test_a_bad_durability_value_names_the_variable():
    with pytest.raises(SettingsError, match="PWPUSH_SQLITE_SYNCHRONOUS"):
        load_settings({"PWPUSH_SQLITE_SYNCHRONOUS": "OFF", "PWPUSH_MASTER_KEY": "a" * 43 + "="})


def test_many_threads_creating_and_revealing_at_once_all_succeed(vault):
    """Writers queue on a lock instead of failing with 'database is locked'."""
    errors, served = [], []

    def sender(i):
        try:
            created = pushes.create_push(vault, pushes.NewPush(payload=f"secret-{i}", expire_after_views=1), Client(ip="192.0.2.1"))
            served.append(pushes.reveal_push(vault, created.url_token, Client(ip="192.0.2.2")).payload)
        except Exception as error:  # noqa: BLE001 - any failure is the finding
            errors.append(repr(error))

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(served) == sorted(f"secret-{i}" for i in range(40))
