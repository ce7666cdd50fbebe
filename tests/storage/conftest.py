"""The built-in storage under the contract suite (core.testing.storage): its backend, loaded
through its entry point like in production, on a fresh database of every kind it serves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core import Storage, StorageBackend, TokenCipher
from core.plugins import collect, make_plugin_manager
from core.testing.storage import StorageFactory

from ..services import fresh_mariadb_database, fresh_postgres_database


@pytest.fixture
def backend() -> StorageBackend:
    """The built-in backend, loaded through its entry point like in production."""
    pm = make_plugin_manager(allow=["sqlalchemy_storage"])
    backends = [b for b in collect(pm, "register_storages") if b.name == "sqlalchemy"]
    assert len(backends) == 1
    return backends[0]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres),
                        pytest.param("mariadb", marks=pytest.mark.mariadb)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every storage test runs on real SQLite, PostgreSQL and MariaDB, each a fresh database."""
    if request.param == "sqlite":
        yield f"sqlite:///{(tmp_path / 'store.db').as_posix()}"
        return
    with (fresh_postgres_database() if request.param == "postgresql" else fresh_mariadb_database()) as url:
        yield url


@pytest.fixture
def storage_factory(backend: StorageBackend, database_url: str) -> StorageFactory:
    def open_store(cipher: TokenCipher) -> Storage:
        return backend.open(database_url, cipher=cipher)

    return open_store
