"""The schema comes from Alembic migrations, and the models agree with them."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlmodel import SQLModel

from alembic import command
from pwpush_app.core import models  # noqa: F401  (registers the tables)

ROOT = Path(__file__).resolve().parents[2]
TABLES = set(SQLModel.metadata.tables)


def alembic_config(db_url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.attributes["db_url"] = db_url
    return config


def table_names(db_url: str) -> set[str]:
    engine = create_engine(db_url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_creates_the_tables_and_downgrade_then_upgrade_works(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'empty.db'}"
    config = alembic_config(db_url)

    command.upgrade(config, "head")
    assert table_names(db_url) == TABLES
    assert {"push", "audit_event", "pwpush_user"} <= TABLES

    command.downgrade(config, "base")
    assert table_names(db_url) == set()

    command.upgrade(config, "head")
    assert table_names(db_url) == TABLES


def test_the_models_match_the_migrations(db_url):
    """`db_url` is a database migrated to head, on each engine."""
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": True, "render_as_batch": True}
            )
            differences = compare_metadata(context, SQLModel.metadata)
    finally:
        engine.dispose()

    assert differences == []
