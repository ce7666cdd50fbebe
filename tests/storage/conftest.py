"""Fixtures of the storage contract suite: the backend comes through the plugin manager."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core import Job, NewShop, Schedule, Shop, Storage, StorageBackend, TokenCipher
from core.plugins import collect, make_plugin_manager

from ..conftest import TEST_SECRET_KEY
from .factories import T0


@pytest.fixture
def backend() -> StorageBackend:
    """The built-in backend, loaded through its entry point like in production."""
    pm = make_plugin_manager(allow=["sqlalchemy_storage"])
    backends = [b for b in collect(pm, "register_storages") if b.name == "sqlalchemy"]
    assert len(backends) == 1
    return backends[0]


@pytest.fixture
def storage(backend: StorageBackend, database_url: str) -> Iterator[Storage]:
    opened = backend.open(database_url, cipher=TokenCipher([TEST_SECRET_KEY]))
    opened.upgrade()
    yield opened
    opened.dispose()


@pytest.fixture
def shop(storage: Storage) -> Shop:
    with storage.transaction() as tx:
        return tx.add_shop(NewShop(name="north", url="https://north.myshopify.com", token="shpat_north"))


@pytest.fixture
def other_shop(storage: Storage) -> Shop:
    with storage.transaction() as tx:
        return tx.add_shop(NewShop(name="south", url="https://south.myshopify.com", token_env="SOUTH_TOKEN"))


@pytest.fixture
def job(storage: Storage, shop: Shop) -> Job:
    with storage.transaction() as tx:
        return tx.create_job(
            shop_id=shop.id, kind="canceled-items", schedule=Schedule(every_seconds=300), next_run_at=T0
        )
