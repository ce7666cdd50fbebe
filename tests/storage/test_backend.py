"""Opening a store: registration, URLs, SQLite settings, units of work, timestamps."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from core import (
    ConfigurationError,
    NewShop,
    Schedule,
    Storage,
    StorageBackend,
    StorageError,
    StorageTx,
    ValidationError,
)

from .factories import T0


def test_hook_register_storages(backend: StorageBackend) -> None:
    """The plugin's ``register_storages`` contributes one backend serving SQLite and PostgreSQL."""
    assert isinstance(backend, StorageBackend)
    assert backend.name == "sqlalchemy"
    assert backend.schemes == ("sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg")


def test_an_opened_store_and_its_transactions_satisfy_the_protocols(storage: Storage) -> None:
    assert isinstance(storage, Storage)
    with storage.transaction() as tx:
        assert isinstance(tx, StorageTx)


def test_postgresql_urls_are_served_by_psycopg_3(backend: StorageBackend) -> None:
    store = backend.open("postgresql://user@db.invalid:5432/gateway")  # the engine connects lazily
    try:
        assert store.engine.url.drivername == "postgresql+psycopg"  # type: ignore[attr-defined]
        assert store.engine.dialect.driver == "psycopg"  # type: ignore[attr-defined]
    finally:
        store.dispose()


def test_a_postgresql_url_sizes_the_connection_pools_and_psycopg_never_sees_those_settings(
        backend: StorageBackend) -> None:
    store = backend.open("postgresql://user@db.invalid:5432/gateway?pool_size=20&max_overflow=0&pool_timeout=7"
                         "&application_name=gateway")
    try:
        for engine in store.engines:  # type: ignore[attr-defined]
            assert (engine.pool.size(), engine.pool._max_overflow, engine.pool._timeout) == (20, 0, 7)
            assert dict(engine.url.query) == {"application_name": "gateway"}  # the rest goes to psycopg
    finally:
        store.dispose()


def test_a_postgresql_store_keeps_ten_connections_per_pool_by_default(backend: StorageBackend) -> None:
    store = backend.open("postgresql://user@db.invalid:5432/gateway")
    try:
        assert [engine.pool.size() for engine in store.engines] == [10, 10]  # type: ignore[attr-defined]
    finally:
        store.dispose()


@pytest.mark.parametrize(("query", "message"), [
    ("pool_size=many", "pool_size must be a whole number, not 'many'"),
    ("pool_size=0", "pool_size must be from 1 to 1000, not 0"),
    ("max_overflow=-1", "max_overflow must be from 0 to 1000, not -1"),
])
def test_a_malformed_pool_setting_is_refused_with_the_setting_named(backend: StorageBackend, query: str,
                                                                    message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        backend.open(f"postgresql://user:secret@db.invalid/gateway?{query}")


def test_urls_of_other_databases_are_refused(backend: StorageBackend) -> None:
    with pytest.raises(ConfigurationError, match="mysql"):
        backend.open("mysql://user@localhost/gateway")


def test_sqlite_gets_its_folder_created_wal_and_foreign_keys(backend: StorageBackend, tmp_path: Path) -> None:
    path = tmp_path / "nested" / "deeper" / "store.db"
    store = backend.open(f"sqlite:///{path.as_posix()}")
    try:
        store.upgrade()
        assert path.exists()
        with store.engine.connect() as conn:  # type: ignore[attr-defined]
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL: no fsync per commit (WAL)
    finally:
        store.dispose()
    with sqlite3.connect(path) as raw:  # the schema is really on disk
        tables = {name for (name,) in raw.execute("select name from sqlite_master where type = 'table'")}
    assert {"shops", "jobs", "job_runs", "orders", "order_items", "cancellations"} <= tables


def test_upgrade_twice_is_harmless(storage: Storage) -> None:
    storage.upgrade()
    with storage.transaction() as tx:
        assert tx.list_shops() == []


def test_a_transaction_commits_when_its_block_ends(storage: Storage) -> None:
    with storage.transaction() as tx:
        tx.add_shop(NewShop(name="kept", url="https://kept.myshopify.com"))
    with storage.transaction() as tx:
        assert tx.get_shop_by_name("kept") is not None


def test_a_transaction_rolls_back_when_its_block_raises(storage: Storage) -> None:
    with pytest.raises(RuntimeError), storage.transaction() as tx:
        tx.add_shop(NewShop(name="lost", url="https://lost.myshopify.com"))
        raise RuntimeError("boom")
    with storage.transaction() as tx:
        assert tx.get_shop_by_name("lost") is None


def test_database_failures_surface_as_storage_errors(backend: StorageBackend, tmp_path: Path) -> None:
    store = backend.open(f"sqlite:///{(tmp_path / 'empty.db').as_posix()}")  # never upgraded: no tables
    try:
        with pytest.raises(StorageError, match="the database refused"), store.transaction() as tx:
            tx.list_shops()
    finally:
        store.dispose()


def test_timestamps_come_back_as_the_same_instant_in_utc(storage: Storage) -> None:
    in_berlin = datetime(2026, 3, 2, 10, 30, 15, 123456, tzinfo=timezone(timedelta(hours=1)))
    with storage.transaction() as tx:
        shop = tx.add_shop(NewShop(name="tz", url="https://tz.myshopify.com"))
        job = tx.create_job(shop_id=shop.id, kind="k", schedule=Schedule(every_seconds=60), next_run_at=in_berlin)
    with storage.transaction() as tx:
        stored = tx.get_job(job.id)
    assert stored is not None and stored.next_run_at == in_berlin
    assert stored.next_run_at.tzinfo is not None and stored.next_run_at.utcoffset() == timedelta(0)
    assert stored.created_at.tzinfo is not None and stored.created_at.utcoffset() == timedelta(0)


def test_naive_timestamps_are_refused(storage: Storage) -> None:
    with storage.transaction() as tx:
        shop = tx.add_shop(NewShop(name="naive", url="https://naive.myshopify.com"))
        with pytest.raises(ValidationError) as caught:
            tx.create_job(shop_id=shop.id, kind="k", schedule=Schedule(), next_run_at=T0.replace(tzinfo=None))
    assert caught.value.field == "next_run_at"

