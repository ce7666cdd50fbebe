"""``storage.read(timeout_seconds=…)`` (on SQLite, PostgreSQL and MariaDB): a read that runs too long is stopped in the database
and raises ``core.ReadTimeout``; the connection is then as good as new, and reads without a
limit, or within it, are untouched."""

from __future__ import annotations

import time

import pytest

from core import ReadTimeout, Shop, Storage, StorageError

SLOW = {
    # seconds of work for either database, whatever the machine: a sleep, a long recursive count
    "postgresql": "SELECT pg_sleep(30)",
    "sqlite": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n",
    "mysql": "SELECT SLEEP(30)",  # stopped with error 1969 (BENCHMARK() would return 0 instead)
}


def slow_statement(storage: Storage) -> str:
    return SLOW[storage.engine.dialect.name]  # type: ignore[attr-defined]


def test_a_read_past_its_limit_is_stopped_with_a_read_timeout(storage: Storage, shop: Shop) -> None:
    started = time.monotonic()
    with pytest.raises(ReadTimeout) as raised, storage.read(timeout_seconds=0.3) as tx:
        tx._conn.exec_driver_sql(slow_statement(storage))  # type: ignore[attr-defined]
    assert 0.3 <= time.monotonic() - started < 3
    assert isinstance(raised.value, StorageError)
    assert str(raised.value) == ("the read took longer than 0.3 s and was stopped: "
                                 "ask for fewer rows or a narrower filter")
    # the pool's connection carries no limit into the next read
    with storage.read() as tx:
        assert [s.name for s in tx.list_shops()] == ["north"]
        if storage.engine.dialect.name == "postgresql":  # type: ignore[attr-defined]
            assert tx._conn.exec_driver_sql("SHOW statement_timeout").scalar() == "0"  # type: ignore[attr-defined]
        if storage.engine.dialect.name == "mysql":  # type: ignore[attr-defined]
            assert float(tx._conn.exec_driver_sql("SELECT @@max_statement_time").scalar()) == 0  # type: ignore[attr-defined]


def test_reads_within_the_limit_are_untouched(storage: Storage, shop: Shop) -> None:
    for _ in range(3):
        with storage.read(timeout_seconds=5) as tx:
            assert tx.get_shop_by_name("north") == shop


def test_other_errors_stay_storage_errors(storage: Storage, shop: Shop) -> None:
    with pytest.raises(StorageError) as raised, storage.read(timeout_seconds=5) as tx:
        tx._conn.exec_driver_sql("SELECT * FROM no_such_table")  # type: ignore[attr-defined]
    assert not isinstance(raised.value, ReadTimeout)


@pytest.mark.postgres
def test_on_postgresql_the_stopped_query_is_gone_from_the_server(backend, postgres_url: str) -> None:  # type: ignore[no-untyped-def]
    storage = backend.open(postgres_url)
    storage.upgrade()
    try:
        with pytest.raises(ReadTimeout), storage.read(timeout_seconds=0.3) as tx:
            tx._conn.exec_driver_sql("SELECT pg_sleep(30) AS read_timeout_probe")
        with storage.transaction() as tx:
            running = tx._session.connection().exec_driver_sql(  # type: ignore[attr-defined]
                "SELECT count(*) FROM pg_stat_activity WHERE strpos(query, 'read_timeout_probe') > 0 "
                "AND state = 'active' AND pid <> pg_backend_pid()").scalar()
        assert running == 0
    finally:
        storage.dispose()
