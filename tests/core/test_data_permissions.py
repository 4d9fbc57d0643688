"""The data folder is its owner's alone: the folder 0700, the database, its WAL and shared
memory, the generated key and the encrypted files 0600, whatever the umask; a master key
file its group or others could read stops the start, naming the variable and the fix."""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import subprocess
import sys

import pytest

from pwpush_app.core.create import NewPush, create_push
from pwpush_app.core.db import migrate
from pwpush_app.core.reveal import reveal_push
from pwpush_app.core.runtime import open_runtime
from pwpush_app.master_key import generate_master_key_text
from pwpush_app.settings import SettingsError, load_settings

from .common import ALICE, SENDER, T0
from .files_support import push_files, signed_in_sender

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def mode_of(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def usual_umask():
    """022, as a login shell or `make run` has it: new files world-readable unless we say so."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_a_first_start_makes_a_data_folder_only_its_owner_can_enter_or_read(tmp_path, usual_umask):
    data = tmp_path / "data"  # not there yet: the start makes it
    settings = load_settings({"PWPUSH_DATA_DIR": str(data), "PWP__FILES__REQUIRE_LOGIN": "false"})
    runtime = open_runtime(settings)  # no key configured: generates data/master.key
    migrate(settings.db_url)  # what `python -m pwpush_app migrate` does at each start
    try:
        created = create_push(runtime, NewPush(payload="perm-canary", expire_after_views=2), SENDER, now=T0)
        reveal_push(runtime, created.url_token, ALICE, now=T0)
        push_files(runtime, signed_in_sender(runtime), [("a.txt", b"file canary " * 1000)])
        # The engine is still open: the WAL and the shared memory file exist now.
        names = {p.relative_to(data).as_posix() for p in data.rglob("*")}
        assert {"pwpush.db", "pwpush.db-wal", "pwpush.db-shm", "master.key", "files"} <= names, names
        modes = {p.relative_to(data).as_posix(): mode_of(p) for p in data.rglob("*")}
    finally:
        runtime.engine.dispose()

    assert mode_of(data) == 0o700
    loose = {name: f"{mode:o}" for name, mode in modes.items()
             if mode != (0o700 if (data / name).is_dir() else 0o600)}
    assert loose == {}
    assert any(name.startswith("files/") and (data / name).is_file() for name in modes)  # a blob was checked


def test_an_existing_database_left_readable_by_others_is_closed_at_start(tmp_path, usual_umask, caplog):
    # What `reflex db migrate` (Reflex's own engine) or an older version left behind: 0644.
    data = tmp_path / "data"
    data.mkdir()  # 0755: an existing folder's mode is the admin's; the start says so
    database = data / "pwpush.db"
    sqlite3.connect(database).close()
    assert mode_of(database) == 0o644
    settings = load_settings({"PWPUSH_DATA_DIR": str(data), "PWPUSH_MASTER_KEY": generate_master_key_text()})
    migrate(settings.db_url)
    caplog.set_level(logging.WARNING)
    runtime = open_runtime(settings)
    try:
        create_push(runtime, NewPush(payload="x"), SENDER, now=T0)
        assert mode_of(database) == 0o600
        assert mode_of(f"{database}-wal") == 0o600
        assert mode_of(f"{database}-shm") == 0o600
    finally:
        runtime.engine.dispose()
    assert f"run chmod 700 {data}" in caplog.text


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o620])
def test_a_key_file_its_group_or_others_can_open_stops_the_start_naming_the_variable(tmp_path, mode):
    key_file = tmp_path / "master.key"
    key_file.write_text(generate_master_key_text() + "\n")
    key_file.chmod(mode)

    with pytest.raises(SettingsError) as refused:
        load_settings({"PWPUSH_DATA_DIR": str(tmp_path / "data"), "PWPUSH_MASTER_KEY_FILE": str(key_file)})

    message = str(refused.value)
    assert "PWPUSH_MASTER_KEY_FILE" in message
    assert f"(mode {mode:o})" in message
    assert f"run chmod 600 {key_file}" in message


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_a_key_file_for_its_owner_alone_is_accepted(tmp_path, mode):
    key_file = tmp_path / "master.key"
    key_file.write_text(generate_master_key_text() + "\n")
    key_file.chmod(mode)

    settings = load_settings({"PWPUSH_DATA_DIR": str(tmp_path / "data"), "PWPUSH_MASTER_KEY_FILE": str(key_file)})
    runtime = open_runtime(settings)
    runtime.engine.dispose()


def test_the_start_command_refuses_a_readable_key_file_with_the_fix_and_no_traceback(tmp_path):
    key_file = tmp_path / "master.key"
    key_file.write_text(generate_master_key_text() + "\n")
    key_file.chmod(0o644)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PWPUSH_", "PWP__", "REFLEX_DB"))}
    env.update(PWPUSH_DATA_DIR=str(tmp_path / "data"), PWPUSH_MASTER_KEY_FILE=str(key_file))

    # deploy/pwpush.service runs `migrate` before the server.
    result = subprocess.run([sys.executable, "-m", "pwpush_app", "migrate"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)

    assert result.returncode == 2
    assert "PWPUSH_MASTER_KEY_FILE" in result.stderr and f"run chmod 600 {key_file}" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()  # refused before anything was made
