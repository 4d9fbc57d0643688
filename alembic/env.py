"""Alembic environment for plain `alembic` commands; `reflex db migrate` configures its own."""

from alembic import context
from sqlmodel import SQLModel

from pwpush_app.core import models  # noqa: F401  (registers the tables)
from pwpush_app.core.db import make_engine
from pwpush_app.settings import get_settings

target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    url = context.config.attributes.get("db_url") or get_settings().db_url
    connectable = context.config.attributes.get("connection") or make_engine(url)
    if hasattr(connectable, "connect"):
        try:
            with connectable.connect() as connection:
                _run(connection)
        finally:
            connectable.dispose()
    else:
        _run(connectable)


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
