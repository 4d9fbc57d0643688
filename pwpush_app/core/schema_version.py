"""Is the database already at the newest schema? Answered without Alembic or SQLAlchemy.

Every start of a server generation checks the migrations. Through Alembic that costs
~0.4 s on a quiet 2-core machine (importing Alembic, loading every migration script,
opening the database through SQLAlchemy), ~1.8 s on a busy one, even when there is nothing
to do, which is nearly always. A SQLite database that is current answers the same question
with the standard library in a few milliseconds: its `alembic_version` row against the
head revision read from the migration files' `revision` / `down_revision` lines.

Anything else (another database, a database behind or ahead, a file that cannot be read,
a migration file this reading does not understand) answers "not known to be current", and
the caller runs Alembic, which migrates or explains. tests/core/test_schema_version.py
checks that the heads read here are Alembic's own.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from pathlib import Path
from urllib.parse import unquote

VERSIONS = Path(__file__).resolve().parents[2] / "alembic" / "versions"
_REVISION = re.compile(r"^revision\s*(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN_REVISION = re.compile(r"^down_revision\s*(?::[^=]*)?=\s*(.+)$", re.M)
_QUOTED = re.compile(r"['\"]([^'\"]+)['\"]")


def head_revisions(versions: Path = VERSIONS) -> set[str] | None:
    """The revisions no migration builds on (one, unless branches were left unmerged);
    None if a file does not read as expected."""
    revisions, parents = set(), set()
    for script in versions.glob("*.py"):
        source = script.read_text()
        revision, down = _REVISION.search(source), _DOWN_REVISION.search(source)
        if not revision or not down:
            return None
        revisions.add(revision[1])
        parents.update(_QUOTED.findall(down[1]))  # None, 'a', or ('a', 'b') for a merge
    heads = revisions - parents
    return heads or None


def sqlite_file(db_url: str) -> Path | None:
    """The file of a `sqlite:///path` URL (any driver); None for every other URL."""
    match = re.match(r"^sqlite(\+\w+)?:///([^?]+)$", db_url)
    if not match or match[2] == ":memory:":
        return None
    return Path(unquote(match[2]))


def is_current(db_url: str) -> bool:
    """True only if the database is known to be at the head revision: a SQLite file whose
    alembic_version rows are exactly the heads of the migration files."""
    path = sqlite_file(db_url)
    heads = head_revisions()
    if path is None or heads is None or not path.is_file():
        return False
    try:
        with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)) as db:
            stamped = {row[0] for row in db.execute("SELECT version_num FROM alembic_version")}
    except sqlite3.Error:
        return False
    return stamped == heads
