"""Alembic environment of the built-in storage.

At run time ``SqlAlchemyStorage.upgrade()`` passes its own connection in
``config.attributes["connection"]`` (no alembic.ini needed). For development, ``alembic.ini``
next to this file lets the Alembic CLI run against ``SYNC_GATEWAY_DATABASE_URL``, e.g.::

    alembic -c plugins/storage/sqlalchemy/migrations/alembic.ini revision --autogenerate -m "..."
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine

from plugins.storage.sqlalchemy.tables import Base, include_object_on

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = os.environ.get("SYNC_GATEWAY_DATABASE_URL") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set SYNC_GATEWAY_DATABASE_URL (or sqlalchemy.url) to run Alembic from the command line")
    return url


def _configure(dialect: str, **kwargs: object) -> None:
    context.configure(
        target_metadata=target_metadata,
        compare_type=True,
        include_object=include_object_on(dialect),
        **kwargs,  # type: ignore[arg-type]
    )


def run_offline() -> None:
    url = _url()
    _configure(url.split(":", 1)[0].split("+", 1)[0], url=url, literal_binds=True, render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection.dialect.name, connection=connection, render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(_url())
    try:
        with engine.connect() as own:
            _configure(own.dialect.name, connection=own, render_as_batch=own.dialect.name == "sqlite")
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
