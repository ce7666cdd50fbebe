"""Two writers of the same orders at once (a webhook and a scheduled run) count each unit once."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from core import OrderVerdict, PageResult, Shop, Storage

from ..factories import at, canceled_whole, judged, line, order


def _orders(numbers: range) -> list[OrderVerdict]:
    """Per order: 2 units canceled on one line, 3 on another, or a whole cancel of 2 units."""
    return judged(*(
        canceled_whole(n, quantity=2) if n % 7 == 0
        else order(n, line(n * 10 + 1, quantity=4, canceled=2), line(n * 10 + 2, quantity=3, canceled=3),
                   line(n * 10 + 3))
        for n in numbers
    ))  # fmt: skip


def _units(verdicts: Sequence[OrderVerdict]) -> int:
    return sum(item.canceled_target for verdict in verdicts for item in verdict.items)


def _race(storage: Storage, shop: Shop, pages: Sequence[Sequence[OrderVerdict]]) -> list[PageResult]:
    start = threading.Barrier(len(pages))
    results: list[PageResult] = []
    errors: list[BaseException] = []

    def writer(page: Sequence[OrderVerdict]) -> None:
        try:
            start.wait()
            with storage.transaction() as tx:
                results.append(tx.apply_page(shop_id=shop.id, run_id=None, verdicts=page, now=at(60)))
        except BaseException as exc:  # surfaced below, with the thread's traceback
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(page,)) for page in pages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def _recorded_units(storage: Storage, shop: Shop) -> tuple[int, int]:
    """(units in the history, history rows) of the shop."""
    units = rows = 0
    after = None
    with storage.transaction() as tx:
        while True:
            page = tx.list_cancellations(shop_id=shop.id, first=500, after=after)
            units += sum(c.quantity for c in page.items)
            rows += len(page.items)
            if not page.has_next:
                return units, rows
            after = page.cursors[-1]


def test_two_writers_applying_the_same_page_at_once_record_every_unit_once(storage: Storage, shop: Shop) -> None:
    pages = [_orders(range(round_ * 100 + 1, round_ * 100 + 61)) for round_ in range(3)]
    for page in pages:  # new orders each round: the first writer inserts, the second must wait
        results = _race(storage, shop, [page, page])
        assert sum(r.units_canceled for r in results) == _units(page)
        assert sum(r.orders_canceled for r in results) == sum(v.order_canceled for v in page)
        assert min(len(r.cancellations) for r in results) == 0  # the later writer found nothing new
    canceled_lines = sum(1 for page in pages for v in page for item in v.items if item.canceled_target)
    assert _recorded_units(storage, shop) == (sum(_units(page) for page in pages), canceled_lines)


def test_a_webhook_and_a_run_overlapping_on_some_orders_never_double_count(storage: Storage, shop: Shop) -> None:
    run_page = _orders(range(1, 121))
    webhooks = [_orders(range(n, n + 1)) for n in (5, 60, 119)]
    overlapping_run = _orders(range(60, 181))  # shares orders 60..120 with the first run page, in the same order
    results = _race(storage, shop, [run_page, overlapping_run, *webhooks])

    expected = _units(_orders(range(1, 181)))
    assert sum(r.units_canceled for r in results) == expected
    assert _recorded_units(storage, shop)[0] == expected
