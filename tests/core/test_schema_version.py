"""A server start skips Alembic only when the database is surely at the newest schema
(pwpush_app/core/schema_version.py): every other case goes to Alembic."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

from alembic import command
from pwpush_app.core.schema_version import VERSIONS, head_revisions, is_current, sqlite_file

ROOT = Path(__file__).resolve().parents[2]


def alembic_config(db_url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.attributes["db_url"] = db_url
    return config


def test_the_heads_read_from_the_files_are_alembics_own():
    heads = set(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())
    assert head_revisions() == heads


def test_a_branch_left_unmerged_gives_two_heads_and_a_merge_one(tmp_path):
    versions = tmp_path / "versions"
    shutil.copytree(VERSIONS, versions, ignore=shutil.ignore_patterns("__pycache__"))
    (head,) = head_revisions(versions)
    (versions / "9998_side.py").write_text(f"revision = '9998_side'\ndown_revision = {head!r}\n")
    (versions / "9999_other.py").write_text(f"revision: str = '9999_other'\ndown_revision: str = {head!r}\n")
    assert head_revisions(versions) == {"9998_side", "9999_other"}
    (versions / "9999_merge.py").write_text("revision = '9999_merge'\ndown_revision = ('9998_side', '9999_other')\n")
    assert head_revisions(versions) == {"9999_merge"}
    (versions / "9999_odd.py").write_text("revision = make_revision()\n")  # not understood: no answer
    assert head_revisions(versions) is None


def test_only_a_sqlite_file_at_the_head_revision_is_current(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'pwpush.db'}"
    config = alembic_config(db_url)
    assert not is_current(db_url)  # no file yet
    command.upgrade(config, "head")
    assert is_current(db_url)

    command.downgrade(config, "-1")  # one migration behind: Alembic must run
    assert not is_current(db_url)
    command.upgrade(config, "head")
    assert is_current(db_url)

    with sqlite3.connect(tmp_path / "pwpush.db") as db:  # ahead (a newer release ran here) or unknown
        db.execute("UPDATE alembic_version SET version_num = '9999_newer'")
    assert not is_current(db_url)
    with sqlite3.connect(tmp_path / "pwpush.db") as db:
        db.execute("DROP TABLE alembic_version")
    assert not is_current(db_url)
    (tmp_path / "garbage.db").write_bytes(b"not a database" * 100)
    assert not is_current(f"sqlite:///{tmp_path / 'garbage.db'}")


def test_other_databases_are_left_to_alembic():
    assert sqlite_file("sqlite:////data/pwpush.db") == Path("/data/pwpush.db")
    assert sqlite_file("sqlite+pysqlite:///relative.db") == Path("relative.db")
    assert sqlite_file("sqlite://") is None and sqlite_file("sqlite:///:memory:") is None
    assert not is_current("postgresql+psycopg://pwpush:secret@localhost/pwpush")
