"""The cancellation history integrators poll: in commit order, a page at a time, and a poller
resuming from its last cursor never misses a row, however the writers' commits interleave."""

from __future__ import annotations

import pytest

from core import Cancellation, NewShop, Shop, Storage
from core.testing.storage.factories import at, judged, line, order


def _resume(storage: Storage, after: str | None) -> tuple[list[Cancellation], str | None]:
    """One poll as an integrator makes it: everything after its cursor, and its new cursor."""
    with storage.read() as tx:
        page = tx.list_cancellations(first=100, after=after)
    return list(page.items), page.cursors[-1] if page.cursors else after


def _apply(storage: Storage, shop: Shop, n: int, minute: float) -> tuple[Cancellation, ...]:
    with storage.transaction() as tx:
        return tx.apply_page(shop_id=shop.id, run_id=None, verdicts=judged(order(n, line(n * 10, canceled=1))),
                             now=at(minute)).cancellations


@pytest.mark.postgres
def test_a_row_committed_late_by_a_slower_writer_is_not_skipped(postgres_url: str, backend) -> None:  # type: ignore[no-untyped-def]
    # Two runs store pages at once; the one that began first commits last. Paging by time or id,
    # the poller would have read past the slow run's row before it existed for it.
    storage = backend.open(postgres_url)
    try:
        storage.upgrade()
        with storage.transaction() as tx:
            shop = tx.add_shop(NewShop(name="north", url="https://north.myshopify.com"))
        seen, cursor = _resume(storage, None)
        with storage.transaction() as slow:
            early = slow.apply_page(shop_id=shop.id, run_id=None, verdicts=judged(order(1, line(10, canceled=1))),
                                    now=at(1)).cancellations
            late = _apply(storage, shop, 2, 2)  # a second writer commits meanwhile
            polled, cursor = _resume(storage, cursor)
            assert polled == []  # held back while the slower writer is still at work
        polled_after, cursor = _resume(storage, cursor)
        assert polled_after == [*early, *late]
        assert _resume(storage, cursor)[0] == []
    finally:
        storage.dispose()


