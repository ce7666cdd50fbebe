"""The cancellation history in commit order on the server databases, where writers overlap.

PostgreSQL holds back rows newer than its oldest running transaction (``pg_snapshot_xmin``);
MySQL and MariaDB number each writing transaction's rows at commit, from a counter whose lock
lasts until the commit is done (plugins/storage/sqlalchemy/mysql.py). Either way a poller that
resumes from its last cursor never skips a row that a slower transaction commits later.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator

import pytest

from core import Cancellation, NewShop, Shop, Storage, StorageBackend
from core.testing.storage.factories import at, judged, line, order

from ..services import fresh_mariadb_database, fresh_postgres_database


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres),
                        pytest.param("mariadb", marks=pytest.mark.mariadb)])
def server_storage(request: pytest.FixtureRequest, backend: StorageBackend) -> Iterator[Storage]:
    fresh = fresh_postgres_database if request.param == "postgresql" else fresh_mariadb_database
    with fresh() as url:
        storage = backend.open(url)
        storage.upgrade()
        try:
            yield storage
        finally:
            storage.dispose()


def _resume(storage: Storage, after: str | None) -> tuple[list[Cancellation], str | None]:
    """One poll as an integrator makes it: everything after its cursor, and its new cursor."""
    with storage.read() as tx:
        page = tx.list_cancellations(first=100, after=after)
    return list(page.items), page.cursors[-1] if page.cursors else after


def _apply(storage: Storage, shop: Shop, n: int, minute: float) -> tuple[Cancellation, ...]:
    with storage.transaction() as tx:
        return tx.apply_page(shop_id=shop.id, run_id=None, verdicts=judged(order(n, line(n * 10, canceled=1))),
                             now=at(minute)).cancellations


def _shop(storage: Storage, name: str = "north") -> Shop:
    with storage.transaction() as tx:
        return tx.add_shop(NewShop(name=name, url=f"https://{name}.myshopify.com", api_version="2026-07"))


def test_a_row_committed_late_by_a_slower_writer_is_not_skipped(server_storage: Storage) -> None:
    # Two runs store pages at once; the one that began first commits last. Paging by time or id,
    # the poller would have read past the slow run's row before it existed for it.
    # (two shops: on MySQL/MariaDB one shop's pages take turns, which would make the second wait)
    storage = server_storage
    shop, other = _shop(storage), _shop(storage, "south")
    _, cursor = _resume(storage, None)
    with storage.transaction() as slow:
        early = slow.apply_page(shop_id=shop.id, run_id=None, verdicts=judged(order(1, line(10, canceled=1))),
                                now=at(1)).cancellations
        late = _apply(storage, other, 2, 2)  # a second writer commits meanwhile
        polled, cursor = _resume(storage, cursor)
    polled_after, cursor = _resume(storage, cursor)
    if storage.engine.dialect.name == "postgresql":  # type: ignore[attr-defined]
        assert (polled, polled_after) == ([], [*early, *late])  # held back while the slower writer is at work
    else:
        assert (polled, polled_after) == ([*late], [*early])  # numbered as they committed
    assert _resume(storage, cursor)[0] == []


def test_newest_first_lists_a_slower_writers_row_on_top_once_it_has_committed(server_storage: Storage) -> None:
    # Paging back from the newest row must not find a row appear behind its cursor later: a row
    # still being written is held back (PostgreSQL) or not yet numbered (MySQL/MariaDB), and once
    # committed it sorts above every row listed before it.
    storage = server_storage
    shop, other = _shop(storage), _shop(storage, "south")
    before = _apply(storage, shop, 1, 1)
    with storage.transaction() as slow:
        early = slow.apply_page(shop_id=shop.id, run_id=None, verdicts=judged(order(2, line(20, canceled=1))),
                                now=at(2)).cancellations
        late = _apply(storage, other, 3, 3)
        with storage.read() as tx:
            during = list(tx.list_cancellations(first=10, reverse=True).items)
    with storage.read() as tx:
        after = list(tx.list_cancellations(first=10, reverse=True).items)
    if storage.engine.dialect.name == "postgresql":  # type: ignore[attr-defined]
        assert (during, after) == ([*before], [*late, *early, *before])
    else:
        assert (during, after) == ([*late, *before], [*early, *late, *before])


@pytest.mark.mariadb
def test_concurrent_writers_committing_out_of_order_never_hide_a_row_from_a_poller(
        backend: StorageBackend) -> None:
    """Four writers (of four shops: one shop's pages take turns on MySQL) store pages and keep their transactions open for a random while after, so
    commits land in another order than the rows were written; a poller resuming from its cursor
    the whole time sees every row exactly once. (MariaDB only: PostgreSQL's variant holds rows
    back while any transaction on the server runs, so other suites' work makes it slow here.)"""
    with fresh_mariadb_database() as url:
        storage = backend.open(url)
        storage.upgrade()
        try:
            shops = [_shop(storage, f"shop{first}") for first in range(1, 5)]
            written: list[Cancellation] = []
            errors: list[BaseException] = []
            done = threading.Event()

            def writer(first: int) -> None:
                rng = random.Random(first)
                try:
                    for n in range(first, first + 60, 4):
                        with storage.transaction() as tx:
                            page = judged(order(n, line(n * 10, quantity=3, canceled=2), line(n * 10 + 1, canceled=1)))
                            rows = tx.apply_page(shop_id=shops[first - 1].id, run_id=None, verdicts=page,
                                                 now=at(n)).cancellations
                            time.sleep(rng.uniform(0, 0.03))  # the commit comes later, while others commit
                        written.extend(rows)
                except BaseException as exc:  # surfaced below
                    errors.append(exc)

            seen: list[Cancellation] = []
            cursor: str | None = None
            threads = [threading.Thread(target=writer, args=(first,)) for first in range(1, 5)]
            for thread in threads:
                thread.start()
            watcher = threading.Thread(target=lambda: [t.join() for t in threads] and None)
            watcher.start()
            deadline = time.monotonic() + 120
            while watcher.is_alive() and time.monotonic() < deadline:
                polled, cursor = _resume(storage, cursor)
                seen += polled
            watcher.join(timeout=5)
            done.set()
            while True:  # what the last commits added
                polled, cursor = _resume(storage, cursor)
                if not polled:
                    break
                seen += polled
            assert not errors, errors
            assert len(written) == 4 * 15 * 2
            assert sorted(c.id for c in seen) == sorted(c.id for c in written)  # every row, once
        finally:
            storage.dispose()
