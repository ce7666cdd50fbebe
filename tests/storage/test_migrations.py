"""Alembic owns the schema: the migrations build exactly what the models describe."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from core import Storage
from plugins.storage.sqlalchemy.backend import MIGRATIONS
from plugins.storage.sqlalchemy.tables import Base


def _differences(storage: Storage) -> list[Any]:
    engine = storage.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "target_metadata": Base.metadata})
        return list(compare_metadata(context, Base.metadata))


def test_the_migrated_schema_matches_the_models(storage: Storage) -> None:
    assert _differences(storage) == []


def test_the_migrations_are_at_head(storage: Storage) -> None:
    with storage.engine.connect() as conn:  # type: ignore[attr-defined]
        assert MigrationContext.configure(conn).get_current_revision() == "0001"


def test_downgrading_to_nothing_and_back_rebuilds_the_same_schema(storage: Storage) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with storage.engine.begin() as conn:  # type: ignore[attr-defined]
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    with storage.engine.connect() as conn:  # type: ignore[attr-defined]
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    storage.upgrade()
    assert _differences(storage) == []
