"""Rotating the master key: old pushes keep opening, rotate-keys moves their data keys."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import text

from pwpush_app.core import keys
from pwpush_app.core.clock import utcnow
from pwpush_app.core.create import NewPush, create_push
from pwpush_app.core.crypto import DecryptionError
from pwpush_app.core.errors import PushUnavailable
from pwpush_app.core.keys import rotate_keys
from pwpush_app.core.owners import expire_by_owner
from pwpush_app.core.records import find_managed, find_push, open_note
from pwpush_app.core.reveal import reveal_push
from pwpush_app.master_key import generate_master_key_text

from .common import ALICE, SENDER, T0, push_row

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KEY_A, KEY_B, KEY_C = (generate_master_key_text() for _ in range(3))


def wrapped_key_id(runtime, push_id: str) -> str:
    return runtime.keyring.wrapped_key_id(push_row(runtime, push_id)["wrapped_key"])


def make_pushes(runtime, count: int, now=T0, **fields):
    return [
        create_push(runtime, NewPush(payload=f"secret {i}", note=f"note {i}", **fields), SENDER, now=now)
        for i in range(count)
    ]


def test_pushes_made_under_the_old_key_open_with_it_as_previous(make_runtime):
    old = make_runtime(PWPUSH_MASTER_KEY=KEY_A)
    made = make_pushes(old, 2)

    rotated = make_runtime(PWPUSH_MASTER_KEY=KEY_B, PWPUSH_MASTER_KEY_PREVIOUS=KEY_A)

    assert [reveal_push(rotated, p.url_token, ALICE, now=T0).payload for p in made] == ["secret 0", "secret 1"]
    # Without the old key they are out of reach.
    only_new = make_runtime(PWPUSH_MASTER_KEY=KEY_B)
    with pytest.raises(PushUnavailable):
        reveal_push(only_new, made[0].url_token, ALICE, now=T0)


def test_rotate_keys_moves_data_keys_to_the_new_key_but_links_still_need_the_old_one(make_runtime):
    old = make_runtime(PWPUSH_MASTER_KEY=KEY_A)
    made = make_pushes(old, 3, expire_after_minutes=60)
    latest = create_push(old, NewPush(payload="lives longest", expire_after_minutes=120), SENDER, now=T0)
    gone = create_push(old, NewPush(payload="already expired"), SENDER, now=T0)
    expire_by_owner(old, gone.push, SENDER, now=T0)
    rotated = make_runtime(PWPUSH_MASTER_KEY=KEY_B, PWPUSH_MASTER_KEY_PREVIOUS=KEY_A)
    fresh = create_push(rotated, NewPush(payload="made under B"), SENDER, now=T0)

    report = rotate_keys(rotated, now=T0)

    assert (report.rewrapped, report.already_current, report.unreadable) == (4, 1, 0)
    assert report.current_key_id == rotated.keyring.current_key_id
    assert report.links_under_old_keys == 4
    assert report.old_links_expire_by == T0 + timedelta(minutes=120)
    words = report.describe()
    assert "Re-wrapped 4 live pushes" in words
    assert "Live pushes whose links still need an earlier key: 4." in words
    assert "Keep PWPUSH_MASTER_KEY_PREVIOUS until they expire, at the latest 2026-11-25T14:00:00Z." in words
    for p in [*made, latest, fresh]:
        assert wrapped_key_id(rotated, p.push.id) == rotated.keyring.current_key_id
    assert push_row(rotated, gone.push.id)["wrapped_key"] is None  # never brought back

    # Key B alone opens every data key ...
    only_new = make_runtime(PWPUSH_MASTER_KEY=KEY_B)
    for i, p in enumerate(made):
        assert open_note(only_new, find_managed(rotated, p.manage_token)) == f"note {i}"
    # ... but finds pushes made under A by their links only with A still configured.
    assert find_push(only_new, made[0].url_token) is None
    assert reveal_push(rotated, made[0].url_token, ALICE, now=T0).payload == "secret 0"
    assert reveal_push(only_new, fresh.url_token, ALICE, now=T0).payload == "made under B"


def test_rotate_keys_again_changes_nothing(make_runtime):
    make_pushes(make_runtime(PWPUSH_MASTER_KEY=KEY_A), 2)
    rotated = make_runtime(PWPUSH_MASTER_KEY=KEY_B, PWPUSH_MASTER_KEY_PREVIOUS=KEY_A)
    rotate_keys(rotated, now=T0)
    rows_before = [push_row(rotated, p) for p in _ids(rotated)]

    again = rotate_keys(rotated, now=T0)

    assert (again.rewrapped, again.already_current) == (0, 2)
    assert [push_row(rotated, p) for p in _ids(rotated)] == rows_before


def _ids(runtime) -> list[str]:
    with runtime.engine.connect() as connection:
        return list(connection.execute(text("SELECT id FROM push ORDER BY id")).scalars())


def test_rotate_keys_works_through_many_batches(make_runtime, monkeypatch):
    made = make_pushes(make_runtime(PWPUSH_MASTER_KEY=KEY_A), 11)
    rotated = make_runtime(PWPUSH_MASTER_KEY=KEY_B, PWPUSH_MASTER_KEY_PREVIOUS=KEY_A)
    monkeypatch.setattr(keys, "ROTATION_BATCH", 3)

    report = rotate_keys(rotated, now=T0)

    assert report.rewrapped == 11
    assert {wrapped_key_id(rotated, p.push.id) for p in made} == {rotated.keyring.current_key_id}


def test_pushes_under_a_key_that_is_not_configured_are_reported_not_damaged(make_runtime):
    lost = make_pushes(make_runtime(PWPUSH_MASTER_KEY=KEY_C), 1)[0]
    make_pushes(make_runtime(PWPUSH_MASTER_KEY=KEY_A), 1)
    rotated = make_runtime(PWPUSH_MASTER_KEY=KEY_B, PWPUSH_MASTER_KEY_PREVIOUS=KEY_A)
    before = push_row(rotated, lost.push.id)["wrapped_key"]

    report = rotate_keys(rotated, now=T0)

    assert (report.rewrapped, report.unreadable) == (1, 1)
    assert "Live pushes that could not be opened (their master key is not configured): 1." in report.describe()
    assert push_row(rotated, lost.push.id)["wrapped_key"] == before
    with pytest.raises(DecryptionError):
        rotated.keyring.open_data_key(lost.push.id, before)
    # Adding its key later repairs it.
    repaired = rotate_keys(make_runtime(PWPUSH_MASTER_KEY=KEY_B, PWPUSH_MASTER_KEY_PREVIOUS=f"{KEY_A},{KEY_C}"), now=T0)
    assert (repaired.rewrapped, repaired.unreadable) == (1, 0)


def test_when_nothing_needs_the_old_key_the_report_says_it_can_go(make_runtime):
    runtime = make_runtime(PWPUSH_MASTER_KEY=KEY_B, PWPUSH_MASTER_KEY_PREVIOUS=KEY_A)
    make_pushes(runtime, 1)

    report = rotate_keys(runtime, now=T0)

    assert report.links_under_old_keys == 0 and report.old_links_expire_by is None
    assert "PWPUSH_MASTER_KEY_PREVIOUS can be removed" in report.describe()


def test_the_rotate_keys_command_prints_the_report(make_runtime):
    old = make_runtime(PWPUSH_MASTER_KEY=KEY_A)
    make_pushes(old, 2, now=utcnow())  # the command reads the real clock: live pushes are live now
    env = {**os.environ, "PWPUSH_DATA_DIR": str(old.settings.data_dir), "REFLEX_DB_URL": old.settings.db_url,
           "PWPUSH_MASTER_KEY": KEY_B, "PWPUSH_MASTER_KEY_PREVIOUS": KEY_A}

    def run():
        return subprocess.run([sys.executable, "-m", "pwpush_app", "rotate-keys"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)

    first, second = run(), run()

    assert first.returncode == 0, first.stderr
    assert "Re-wrapped 2 live pushes under the current key; 0 already used it." in first.stdout
    assert "Live pushes whose links still need an earlier key: 2." in first.stdout
    assert second.returncode == 0
    assert "Re-wrapped 0 live pushes under the current key; 2 already used it." in second.stdout
