"""Shared fixtures: real SQLite files, fresh PostgreSQL databases, a real Redis database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.settings import Settings
from core.testing import TEST_SECRET_KEY

from .services import REDIS_URL, fresh_postgres_database, redis_available, unavailable

# The storage contract suite's fixtures (storage, shop, other_shop, job); tests/storage/conftest.py
# gives it the built-in storage on every database. pytest reads this only in the rootdir's conftest.
pytest_plugins = ["core.testing.storage"]

__all__ = ["TEST_SECRET_KEY"]  # the Fernet key of every test (and of the suite): stored shop tokens are encrypted


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never read the developer's environment or config file."""
    import os

    for key in list(os.environ):
        if key.startswith("SYNC_GATEWAY_") and not key.startswith("SYNC_GATEWAY_TEST_"):
            monkeypatch.delenv(key)
    monkeypatch.delenv("REDIS_URL", raising=False)
    # stored shop tokens are encrypted; tests of running without a key delete it themselves
    monkeypatch.setenv("SYNC_GATEWAY_SECRET_KEY", TEST_SECRET_KEY)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{(tmp_path / 'store.db').as_posix()}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every storage-facing test runs on real SQLite and on real PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{(tmp_path / 'store.db').as_posix()}"
    else:
        with fresh_postgres_database() as url:
            yield url


@pytest.fixture
def redis_url() -> str:
    """A real Redis. Tests share its database, so each uses its own queue (``queue_name``)."""
    reason = redis_available()
    if reason:
        unavailable("Redis", reason)
    return REDIS_URL


@pytest.fixture
def queue_name(redis_url: str) -> Iterator[str]:
    """A queue of this test's own on the real Redis; its keys are deleted afterwards."""
    import uuid

    import redis

    name = f"test-{uuid.uuid4().hex[:10]}"
    yield name
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=f"*{name}*", count=1000):
        client.delete(key)
    client.close()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url)
