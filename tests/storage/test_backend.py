"""Opening a SQLAlchemy store: registration, URLs, pools, SQLite settings, database errors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from core import (
    ConfigurationError,
    StorageBackend,
    StorageError,
)


def test_hook_register_storages(backend: StorageBackend) -> None:
    """The plugin's ``register_storages`` contributes one backend serving SQLite, PostgreSQL and MySQL/MariaDB."""
    assert isinstance(backend, StorageBackend)
    assert backend.name == "sqlalchemy"
    assert backend.schemes == ("sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg",
                               "mysql", "mysql+pymysql", "mariadb", "mariadb+pymysql")


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
    with pytest.raises(ConfigurationError, match="does not serve 'mssql' URLs"):
        backend.open("mssql://user@localhost/gateway")


@pytest.mark.parametrize(("url", "driver"), [
    ("mysql://gateway@db.invalid/gateway", "mysql+pymysql"),
    ("mariadb://gateway@db.invalid/gateway", "mariadb+pymysql"),
    ("mysql+pymysql://gateway@db.invalid/gateway?pool_size=20", "mysql+pymysql"),
])
def test_mysql_and_mariadb_urls_are_served_by_pymysql_in_utf8mb4(backend: StorageBackend, url: str,
                                                                 driver: str) -> None:
    store = backend.open(url)  # the engine connects lazily
    try:
        for engine in store.engines:  # type: ignore[attr-defined]
            assert engine.url.drivername == driver and engine.dialect.driver == "pymysql"
            assert dict(engine.url.query) == {"charset": "utf8mb4"}  # 4-byte characters (emoji) fit
            assert engine.pool.size() == (20 if "pool_size" in url else 10)
    finally:
        store.dispose()


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


def test_database_failures_surface_as_storage_errors(backend: StorageBackend, tmp_path: Path) -> None:
    store = backend.open(f"sqlite:///{(tmp_path / 'empty.db').as_posix()}")  # never upgraded: no tables
    try:
        with pytest.raises(StorageError, match="the database refused"), store.transaction() as tx:
            tx.list_shops()
    finally:
        store.dispose()


