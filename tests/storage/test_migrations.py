"""Alembic owns the schema: the migrations build exactly what the models describe."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from core import Storage
from plugins.storage.sqlalchemy.backend import MIGRATIONS, SCHEMA_REVISION
from plugins.storage.sqlalchemy.tables import Base, include_object_on


def _differences(storage: Storage) -> list[Any]:
    engine = storage.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "target_metadata": Base.metadata,
                                                         "include_object": include_object_on(conn.dialect.name)})
        return list(compare_metadata(context, Base.metadata))


def test_the_migrated_schema_matches_the_models(storage: Storage) -> None:
    assert _differences(storage) == []


def test_the_migrations_are_at_head(storage: Storage) -> None:
    with storage.engine.connect() as conn:  # type: ignore[attr-defined]
        assert MigrationContext.configure(conn).get_current_revision() == SCHEMA_REVISION


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


def test_the_fast_start_revision_is_alembics_head() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from plugins.storage.sqlalchemy.backend import MIGRATIONS, SCHEMA_REVISION

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == SCHEMA_REVISION


def test_an_up_to_date_database_starts_without_alembic(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'fast.db'}"
    code = ("import sys; from core.plugins import make_plugin_manager; from core.runtime import open_storage; "
            f"s = open_storage(make_plugin_manager(), {url!r}); s.upgrade(); s.dispose(); "
            "print('alembic' in sys.modules)")
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    second = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert first.stdout.strip() == "True"  # a new database is migrated
    assert second.stdout.strip() == "False"  # one at head is not: one SELECT, no Alembic import


def test_the_commit_order_migration_keeps_the_history_and_its_ids(storage: Storage) -> None:
    from core import NewShop

    from core.testing.storage.factories import at, judged, line, order

    with storage.transaction() as tx:
        shop = tx.add_shop(NewShop(name="north", url="https://north.myshopify.com", api_version="2026-07"))
        stored = tx.apply_page(shop_id=shop.id, run_id=None, now=at(1),
                               verdicts=judged(order(1, line(10, canceled=1), line(11, quantity=3, canceled=2))))
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with storage.engine.begin() as conn:  # type: ignore[attr-defined]
        config.attributes["connection"] = conn
        command.downgrade(config, "0001")
    storage.upgrade()

    with storage.read() as tx:
        assert tx.list_cancellations(first=10).items == stored.cancellations
    with storage.transaction() as tx:
        newer = tx.apply_page(shop_id=shop.id, run_id=None, now=at(2), verdicts=judged(order(2, line(20, canceled=1))))
    with storage.read() as tx:
        assert tx.list_cancellations(first=10).items == stored.cancellations + newer.cancellations
    assert _differences(storage) == []
