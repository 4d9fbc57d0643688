"""Where the master key comes from: configured, or generated once; never a built-in default."""

from __future__ import annotations

import logging
import multiprocessing
import os
import stat
import subprocess
import sys

import pytest

from pwpush_app.core.create import NewPush, create_push
from pwpush_app.core.db import migrate
from pwpush_app.core.reveal import reveal_push
from pwpush_app.core.runtime import KEY_FILE_NAME, open_runtime
from pwpush_app.master_key import MasterKeyError, generate_master_key_text, load_or_create_key_file
from pwpush_app.settings import SettingsError, load_settings

from .common import ALICE, SENDER, T0

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def start(data_dir, **env):
    """What a start does: read the settings, migrate, open the runtime."""
    settings = load_settings({"PWPUSH_DATA_DIR": str(data_dir), **env})
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings.db_url)
    return open_runtime(settings)


def test_without_a_key_the_first_start_generates_a_private_key_file_and_says_so(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    runtime = start(tmp_path / "data")

    key_file = tmp_path / "data" / KEY_FILE_NAME
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert f"generated a new master key in {key_file}" in caplog.text
    assert "Back it up" in caplog.text
    created = create_push(runtime, NewPush(payload="survives a restart"), SENDER, now=T0)

    caplog.clear()
    restarted = start(tmp_path / "data")

    assert restarted.keyring.current_key_id == runtime.keyring.current_key_id
    assert "generated" not in caplog.text
    assert reveal_push(restarted, created.url_token, ALICE, now=T0).payload == "survives a restart"


def test_two_fresh_installations_get_different_keys(tmp_path):
    one, two = start(tmp_path / "one"), start(tmp_path / "two")

    assert one.keyring.current_key_id != two.keyring.current_key_id
    assert (tmp_path / "one" / KEY_FILE_NAME).read_text() != (tmp_path / "two" / KEY_FILE_NAME).read_text()


def test_a_key_file_others_can_read_is_refused_with_a_clear_message(tmp_path):
    start(tmp_path / "data")
    key_file = tmp_path / "data" / KEY_FILE_NAME
    key_file.chmod(0o644)

    with pytest.raises(MasterKeyError) as refused:
        start(tmp_path / "data")

    assert str(refused.value) == (f"{key_file} is open to its group or others (mode 644); the master key must be "
                                  f"readable by the service's user only: run chmod 600 {key_file}")


def test_the_command_line_reports_an_unsafe_key_file_without_a_traceback(tmp_path):
    start(tmp_path / "data")
    key_file = tmp_path / "data" / KEY_FILE_NAME
    key_file.chmod(0o640)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PWPUSH_", "PWP__", "REFLEX_DB"))}
    env["PWPUSH_DATA_DIR"] = str(tmp_path / "data")

    result = subprocess.run([sys.executable, "-m", "pwpush_app", "rotate-keys"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)

    assert result.returncode != 0
    assert f"run chmod 600 {key_file}" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_configured_key_file_is_used_and_no_key_is_generated(tmp_path):
    key_path = tmp_path / "secret.key"
    key_path.write_text(generate_master_key_text() + "\n")
    key_path.chmod(0o600)

    from_file = start(tmp_path / "data", PWPUSH_MASTER_KEY_FILE=str(key_path))
    same_key_inline = start(tmp_path / "data", PWPUSH_MASTER_KEY=key_path.read_text().strip())

    assert not (tmp_path / "data" / KEY_FILE_NAME).exists()
    assert from_file.keyring.current_key_id == same_key_inline.keyring.current_key_id


def _create_key(path, barrier, results):
    barrier.wait()
    key, _created = load_or_create_key_file(path)
    results.put(key.hex())


def test_workers_starting_together_agree_on_one_generated_key(tmp_path):
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(4), context.Queue()
    path = tmp_path / "data" / KEY_FILE_NAME
    workers = [context.Process(target=_create_key, args=(path, barrier, results)) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)

    keys = {results.get(timeout=5) for _ in workers}
    assert len(keys) == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == [KEY_FILE_NAME]  # no temp files left behind


def test_a_damaged_generated_key_file_is_named_in_the_refusal(tmp_path):
    start(tmp_path / "data")
    key_file = tmp_path / "data" / KEY_FILE_NAME
    key_file.write_text(key_file.read_text()[:20])

    with pytest.raises(MasterKeyError) as refused:
        start(tmp_path / "data")

    assert str(key_file) in str(refused.value)
    assert "32 random bytes" in str(refused.value)


@pytest.mark.parametrize("content", ["not a key\n", "", "\n"])
def test_a_configured_key_file_without_a_key_stops_the_settings_naming_the_variable(tmp_path, content):
    key_path = tmp_path / "secret.key"
    key_path.write_text(content)
    key_path.chmod(0o600)

    with pytest.raises(SettingsError) as refused:
        load_settings({"PWPUSH_DATA_DIR": str(tmp_path / "data"), "PWPUSH_MASTER_KEY_FILE": str(key_path)})

    assert "PWPUSH_MASTER_KEY_FILE" in str(refused.value)
    assert "32 random bytes" in str(refused.value)


def test_keys_and_database_passwords_never_show_in_a_printed_settings_or_runtime(tmp_path):
    current, previous = generate_master_key_text(), generate_master_key_text()
    settings = load_settings({
        "PWPUSH_DATA_DIR": str(tmp_path / "data"),
        "PWPUSH_MASTER_KEY": current,
        "PWPUSH_MASTER_KEY_PREVIOUS": previous,
        "REFLEX_DB_URL": "postgresql+psycopg://pwpush:db-pa55word@127.0.0.1:1/pwpush",
        "REFLEX_REDIS_URL": "redis://:redis-pa55word@127.0.0.1:1/0",
    })
    runtime = open_runtime(settings)
    subkey = runtime.keyring._keys[0].wrap_key
    keys = [current, previous, subkey.hex(), repr(subkey)[2:-1]]

    # What a log line with `%r`, an f-string or a traceback with locals would show.
    for shown in (repr(settings), str(settings), repr(runtime), repr(runtime.keyring), repr(runtime.keyring._keys)):
        for secret in (*keys, "db-pa55word", "redis-pa55word"):
            assert secret not in shown
    runtime.engine.dispose()
