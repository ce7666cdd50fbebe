"""The storage contract suite, as a pytest plugin: every storage passes the same tests.

A storage written anywhere runs it with its conftest naming the plugin and one fixture,
``storage_factory``, that opens the storage under test on a database of the test's own::

    # conftest.py (the rootdir's: pytest reads ``pytest_plugins`` only there)
    import pytest
    from my_storage import MyBackend

    pytest_plugins = ["core.testing.storage"]

    @pytest.fixture
    def storage_factory(tmp_path):
        url = f"mystore:///{tmp_path}/store"
        return lambda cipher: MyBackend().open(url, cipher=cipher)

and a test module that takes the suite's tests::

    # test_storage_contract.py
    from core.testing.storage.contract import *  # noqa: F403

``storage_factory(cipher)`` returns an opened, not yet upgraded, :class:`core.Storage`; every
call within one test opens the same database (the token tests open a second store on it with
other keys), and each test gets an empty one. Parametrise the fixture to run the suite on
several databases, as the built-in storage does (tests/storage/conftest.py).

The plugin provides the fixtures the tests take: ``storage`` (opened with
:data:`TEST_SECRET_KEY`, upgraded, disposed after the test), ``shop``, ``other_shop`` and ``job``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from core import Job, NewShop, Schedule, Shop, Storage, TokenCipher

from .. import TEST_SECRET_KEY
from .factories import T0

__all__ = ["TEST_SECRET_KEY", "StorageFactory", "job", "other_shop", "shop", "storage", "storage_factory"]

pytest.register_assert_rewrite("core.testing.storage.cases")

StorageFactory = Callable[[TokenCipher], Storage]
"""Opens the storage under test on this test's database with the given cipher."""



@pytest.fixture
def storage_factory() -> StorageFactory:
    """Define this fixture in your conftest: the storage contract suite has nothing to test without it."""
    raise pytest.UsageError(
        "the storage contract suite needs a `storage_factory` fixture: define one in your conftest.py that "
        "returns `lambda cipher: YourBackend().open(url_of_an_empty_database, cipher=cipher)` "
        "(see core.testing.storage)")


@pytest.fixture
def storage(storage_factory: StorageFactory) -> Iterator[Storage]:
    opened = storage_factory(TokenCipher([TEST_SECRET_KEY]))
    opened.upgrade()
    yield opened
    opened.dispose()


@pytest.fixture
def shop(storage: Storage) -> Shop:
    with storage.transaction() as tx:
        return tx.add_shop(NewShop(name="north", url="https://north.myshopify.com", token="shpat_north", api_version="2026-07"))


@pytest.fixture
def other_shop(storage: Storage) -> Shop:
    with storage.transaction() as tx:
        return tx.add_shop(NewShop(name="south", url="https://south.myshopify.com", token_env="SOUTH_TOKEN", api_version="2026-07"))


@pytest.fixture
def job(storage: Storage, shop: Shop) -> Job:
    with storage.transaction() as tx:
        return tx.create_job(
            shop_id=shop.id, kind="canceled-items", schedule=Schedule(every_seconds=300), next_run_at=T0
        )
