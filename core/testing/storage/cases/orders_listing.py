"""Listing stored orders: filters, sort keys, keyset pages, and the batch lookups DataLoaders use."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from core import OrderQuery, OrderStatus, Shop, Storage, StoredOrder, ValidationError

from ..factories import T0, at, judged, line, order

SORT_KEYS = ("UPDATED_AT", "CREATED_AT", "ID", "NAME")


@pytest.fixture
def catalogue(storage: Storage, shop: Shop, other_shop: Shop) -> dict[str, StoredOrder]:
    """25 orders of ``north`` (updated in groups of three, so sort values tie) and 4 of ``south``.

    Every fifth north order has a canceled unit (refunded at minute 500 + n); orders 3 and 17
    are canceled as a whole with everything shipped (no canceled unit, only ``cancelled_at``).
    """
    north = []
    for n in range(1, 26):
        updated = (n // 3) * 10
        if n in (3, 17):
            item = line(n * 10, quantity=1, shipped=1, sku=f"TEE-{n % 4}")
            north.append(order(n, item, updated=updated, created=-n, cancelled=300 + n))
        else:
            item = line(n * 10, quantity=3, canceled=1 if n % 5 == 0 else 0, sku=f"TEE-{n % 4}")
            north.append(
                order(n, item, line(n * 10 + 1, sku="MUG-BLUE"), updated=updated, created=-n, refund_at=500 + n)
            )
    south = [
        order(100 + i, line(1000 + i, sku=sku), updated=7, name=name)
        for i, (name, sku) in enumerate(
            [("#Gift-Alpha", "GIFT-1"), ("#gift-beta", "TEE-100%"), ("#Zeta", None), ("#Eta", "tee-9")]
        )
    ]
    with storage.transaction() as tx:
        tx.apply_page(shop_id=shop.id, run_id=None, verdicts=judged(*north), now=at(1000))
        tx.apply_page(shop_id=other_shop.id, run_id=None, verdicts=judged(*south), now=at(1000))
        everything = tx.list_orders(OrderQuery(sort_key="ID"), first=100).items
    return {o.source_id: o for o in everything}


def _all_pages(storage: Storage, query: OrderQuery, size: int) -> list[StoredOrder]:
    seen: list[StoredOrder] = []
    after = None
    with storage.transaction() as tx:
        while True:
            page = tx.list_orders(query, first=size, after=after)
            assert len(page.items) == len(page.cursors) <= size
            assert page.has_previous == (after is not None)
            seen += page.items
            if not page.has_next:
                return seen
            after = page.cursors[-1]


def _numbers(orders: list[StoredOrder]) -> list[int]:
    return [int(o.source_id.rsplit("/", 1)[1]) for o in orders]


EXPECTED_ORDER: dict[str, Callable[[StoredOrder], Any]] = {
    "UPDATED_AT": lambda o: (o.updated_at, o.id),
    "CREATED_AT": lambda o: (o.created_at, o.id),
    "ID": lambda o: o.id,
    "NAME": lambda o: (o.name, o.id),
}


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("sort_key", SORT_KEYS)
def test_every_order_appears_exactly_once_across_pages(
    storage: Storage, shop: Shop, catalogue: dict[str, StoredOrder], sort_key: str, reverse: bool
) -> None:
    for size in (1, 4, 7, 100):
        listed = _all_pages(storage, OrderQuery(sort_key=sort_key, reverse=reverse), size)
        assert sorted(o.id for o in listed) == sorted(o.id for o in catalogue.values())
    # Within one shop the names share a format, so any collation orders them like Python does.
    listed = _all_pages(storage, OrderQuery(shop_id=shop.id, sort_key=sort_key, reverse=reverse), 4)
    expected = sorted(
        (o for o in catalogue.values() if o.shop_id == shop.id), key=EXPECTED_ORDER[sort_key], reverse=reverse
    )
    assert [o.id for o in listed] == [o.id for o in expected]


def test_a_page_holds_the_requested_number_and_says_if_more_follow(
    storage: Storage, catalogue: dict[str, StoredOrder]
) -> None:
    with storage.transaction() as tx:
        first = tx.list_orders(OrderQuery(), first=10)
        assert (len(first.items), first.has_next, first.has_previous) == (10, True, False)
        empty = tx.list_orders(OrderQuery(), first=0)
        assert (empty.items, empty.has_next) == ((), True)
        everything = tx.list_orders(OrderQuery(), first=len(catalogue))
        assert (len(everything.items), everything.has_next) == (len(catalogue), False)
        with pytest.raises(ValidationError) as caught:
            tx.list_orders(OrderQuery(), first=-1)
        assert caught.value.field == "first"
        with pytest.raises(ValidationError) as caught:
            tx.list_orders(OrderQuery(sort_key="TOTAL"), first=1)
        assert caught.value.field == "sort_key"


def test_orders_added_between_pages_do_not_shift_the_listing(
    storage: Storage, shop: Shop, catalogue: dict[str, StoredOrder]
) -> None:
    query = OrderQuery(shop_id=shop.id, sort_key="ID")
    with storage.transaction() as tx:
        first = tx.list_orders(query, first=10)
    with storage.transaction() as tx:
        tx.apply_page(shop_id=shop.id, run_id=None, verdicts=judged(order(999, line(9990))), now=at(2000))
        rest = tx.list_orders(query, first=100, after=first.cursors[-1])
    listed = [*first.items, *rest.items]
    assert [o.id for o in listed] == sorted(o.id for o in listed)
    assert sorted(_numbers(listed)) == [*range(1, 26), 999]


def test_a_cursor_of_another_sort_key_is_refused(storage: Storage, catalogue: dict[str, StoredOrder]) -> None:
    with storage.transaction() as tx:
        by_name = tx.list_orders(OrderQuery(sort_key="NAME"), first=2)
        with pytest.raises(ValidationError, match="malformed cursor"):
            tx.list_orders(OrderQuery(sort_key="UPDATED_AT"), first=2, after=by_name.cursors[-1])
        with pytest.raises(ValidationError, match="malformed cursor"):
            tx.list_orders(OrderQuery(sort_key="ID"), first=2, after=by_name.cursors[-1])


def _matching(storage: Storage, query: OrderQuery) -> list[int]:
    listed = _all_pages(storage, query, 5)
    with storage.transaction() as tx:
        assert tx.count_orders(query) == len(listed)
    return sorted(_numbers(listed))


def test_filters_by_shop_and_status(
    storage: Storage, shop: Shop, other_shop: Shop, catalogue: dict[str, StoredOrder]
) -> None:
    assert _matching(storage, OrderQuery(shop_id=other_shop.id)) == [100, 101, 102, 103]
    assert _matching(storage, OrderQuery(status=OrderStatus.CANCELED)) == [3, 17]
    assert len(_matching(storage, OrderQuery(shop_id=shop.id, status=OrderStatus.OPEN))) == 23
    assert _matching(storage, OrderQuery(shop_id=404)) == []


def test_filters_by_having_canceled_items(storage: Storage, shop: Shop, catalogue: dict[str, StoredOrder]) -> None:
    assert _matching(storage, OrderQuery(has_canceled_items=True)) == [5, 10, 15, 20, 25]
    assert len(_matching(storage, OrderQuery(shop_id=shop.id, has_canceled_items=False))) == 20


def test_updated_ranges_are_half_open(storage: Storage, catalogue: dict[str, StoredOrder]) -> None:
    # orders 6, 7, 8 were updated at minute 20; 9, 10, 11 at minute 30
    query = OrderQuery(updated_after=at(20), updated_before=at(30))
    assert _matching(storage, query) == [6, 7, 8]
    assert _matching(storage, OrderQuery(updated_after=at(80))) == [24, 25]


def test_canceled_ranges_match_history_rows_and_whole_order_cancels(
    storage: Storage, catalogue: dict[str, StoredOrder]
) -> None:
    # units of order n were canceled at minute 500 + n; orders 3 and 17 were canceled whole at 300 + n
    assert _matching(storage, OrderQuery(canceled_after=at(510), canceled_before=at(520))) == [10, 15]
    assert _matching(storage, OrderQuery(canceled_before=at(400))) == [3, 17]
    assert _matching(storage, OrderQuery(canceled_after=at(318))) == [5, 10, 15, 20, 25]


def test_search_matches_order_names_and_sku_prefixes_ignoring_case(
    storage: Storage, catalogue: dict[str, StoredOrder]
) -> None:
    assert _matching(storage, OrderQuery(search="GIFT")) == [100, 101]  # name substring, any case
    assert _matching(storage, OrderQuery(search="ETA")) == [101, 102, 103]  # "#gift-beta", "#Zeta", "#Eta"
    assert _matching(storage, OrderQuery(search="1012")) == [12]
    assert _matching(storage, OrderQuery(search="tee-1")) == [
        1,
        5,
        9,
        13,
        17,
        21,
        25,
        101,
    ]  # SKU prefix "TEE-1", "TEE-100%"
    assert _matching(storage, OrderQuery(search="TEE-100%")) == [101]  # wildcards are literal
    assert _matching(storage, OrderQuery(search="EE-1")) == []  # SKUs match by prefix only
    assert len(_matching(storage, OrderQuery(search="  "))) == len(catalogue)


def test_filters_combine(storage: Storage, shop: Shop, catalogue: dict[str, StoredOrder]) -> None:
    query = OrderQuery(shop_id=shop.id, has_canceled_items=True, updated_before=at(60), search="TEE-")
    assert _matching(storage, query) == [5, 10, 15]


def test_ranges_need_aware_timestamps(storage: Storage) -> None:
    with storage.transaction() as tx, pytest.raises(ValidationError) as caught:
        tx.count_orders(OrderQuery(updated_after=T0.replace(tzinfo=None)))
    assert caught.value.field == "updated_after"


def test_an_order_records_when_it_was_last_synced(storage: Storage, catalogue: dict[str, StoredOrder]) -> None:
    assert {o.synced_at for o in catalogue.values()} == {T0 + timedelta(minutes=1000)}


@pytest.mark.parametrize("cursor", ["not a cursor!", "%%%%", "é"])
def test_a_malformed_cursor_is_a_validation_error_on_after(
    storage: Storage, catalogue: dict[str, StoredOrder], cursor: str
) -> None:
    with storage.transaction() as tx, pytest.raises(ValidationError) as caught:
        tx.list_orders(OrderQuery(), first=5, after=cursor)
    assert caught.value.field == "after"


def test_batch_lookups_leave_unknown_ids_out(storage: Storage, catalogue: dict[str, StoredOrder]) -> None:
    ids = [o.id for o in catalogue.values()]
    with storage.transaction() as tx:
        orders = tx.get_orders([*ids, 404])
        items = tx.items_for_orders([*ids, 404])
        item_ids = [item.id for found in items.values() for item in found]
        by_id = tx.get_items([*item_ids, 404])
        history = tx.cancellations_for_items([*item_ids, 404])
    assert orders == {o.id: o for o in catalogue.values()}  # unknown ids are absent
    assert items[404] == [] and all(item.order_id == order_id for order_id, found in items.items() for item in found)
    assert set(by_id) == set(item_ids)
    assert history[404] == [] and sum(len(found) for found in history.values()) == 5
    with storage.transaction() as tx:
        some = catalogue["gid://shopify/Order/5"]
        assert tx.get_order(some.id) == some
        assert tx.get_order(404) is None
        assert tx.get_orders([]) == {} and tx.items_for_orders([]) == {}
