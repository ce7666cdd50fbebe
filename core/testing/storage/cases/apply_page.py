"""``apply_page``: cancellations only grow, each increase is recorded once, re-runs are no-ops."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from core import (
    Job,
    NotFoundError,
    OrderItemStatus,
    OrderStatus,
    OrderVerdict,
    PageResult,
    RunTrigger,
    Shop,
    Storage,
    StoredItem,
    StoredOrder,
)

from ..factories import T0, at, canceled_whole, judged, line, order

NOW = at(120)


def apply(storage: Storage, shop: Shop, verdicts: Sequence[OrderVerdict], *, run_id: int | None = None,
          now: object = NOW) -> PageResult:  # fmt: skip
    with storage.transaction() as tx:
        return tx.apply_page(shop_id=shop.id, run_id=run_id, verdicts=verdicts, now=now)  # type: ignore[arg-type]


def stored(storage: Storage, shop: Shop, n: int) -> tuple[StoredOrder, dict[str, StoredItem]]:
    """Order ``n`` as stored, with its items by line id."""
    with storage.transaction() as tx:
        found = tx.get_order_by_source_id(shop.id, f"gid://shopify/Order/{n}")
        assert found is not None
        items = tx.items_for_orders([found.id])[found.id]
    return found, {item.source_id.rsplit("/", 1)[1]: item for item in items}


def history(storage: Storage, item: StoredItem) -> list[int]:
    with storage.transaction() as tx:
        return [c.quantity for c in tx.cancellations_for_items([item.id])[item.id]]


def test_the_first_application_stores_orders_and_records_every_canceled_unit(storage: Storage, shop: Shop) -> None:
    page = judged(
        order(1, line(11, quantity=3, canceled=1, shipped=1), line(12, quantity=2, canceled=2), line(13), refund_at=30),
        order(2, line(21, quantity=1)),
    )
    result = apply(storage, shop, page)

    assert (result.orders_written, result.items_canceled, result.units_canceled, result.orders_canceled) == (2, 2, 3, 0)
    assert result.newly_canceled_orders == ()
    first, items = stored(storage, shop, 1)
    assert (first.name, first.status, first.shop, first.synced_at) == ("#1001", OrderStatus.OPEN, "north", NOW)
    assert (first.created_at, first.updated_at, first.cancelled_at) == (at(-60), at(0), None)
    summary = {key: (i.quantity, i.fulfilled_quantity, i.canceled_quantity, i.status) for key, i in items.items()}
    assert summary == {
        "11": (3, 1, 1, OrderItemStatus.PARTIALLY_CANCELED),
        "12": (2, 0, 2, OrderItemStatus.CANCELED),
        "13": (2, 0, 0, OrderItemStatus.OPEN),
    }
    assert stored(storage, shop, 2)[1]["21"].status is OrderItemStatus.OPEN

    one, two = result.cancellations
    assert (one.item_id, one.order_id, one.shop_id, one.quantity) == (items["11"].id, first.id, shop.id, 1)
    assert (two.item_id, two.quantity) == (items["12"].id, 2)
    assert (one.canceled_at, one.recorded_at, one.run_id, one.reason) == (at(30), NOW, None, "refund: cancel")
    assert one.evidence["removed"] == 1 and one.evidence["refundLines"][0]["restockType"] == "CANCEL"
    with storage.transaction() as tx:  # what the page returned is exactly what was stored
        assert tx.cancellations_for_items([one.item_id, two.item_id]) == {one.item_id: [one], two.item_id: [two]}


def test_reapplying_the_same_verdicts_changes_nothing(storage: Storage, shop: Shop) -> None:
    page = judged(order(1, line(11, quantity=3, canceled=2)), canceled_whole(2, quantity=2))
    apply(storage, shop, page)
    before = stored(storage, shop, 1)[1]

    again = apply(storage, shop, page, now=at(180))

    assert (again.items_canceled, again.units_canceled, again.orders_canceled) == (0, 0, 0)
    assert again.cancellations == () and again.newly_canceled_orders == ()
    assert stored(storage, shop, 1)[1] == before
    assert history(storage, before["11"]) == [2]


def test_a_later_higher_target_adds_exactly_the_difference_as_a_second_history_row(
    storage: Storage, shop: Shop
) -> None:
    apply(storage, shop, judged(order(1, line(11, quantity=5, canceled=1), updated=0)))

    later = apply(storage, shop, judged(order(1, line(11, quantity=5, canceled=3), updated=30)))

    assert (later.items_canceled, later.units_canceled) == (1, 2)
    item = stored(storage, shop, 1)[1]["11"]
    assert (item.canceled_quantity, item.status) == (3, OrderItemStatus.PARTIALLY_CANCELED)
    assert history(storage, item) == [1, 2]


def test_a_lower_target_from_an_older_payload_changes_nothing(storage: Storage, shop: Shop) -> None:
    apply(storage, shop, judged(order(1, line(11, quantity=4, canceled=3), updated=30, name="#1001-B")))

    stale = apply(storage, shop, judged(order(1, line(11, quantity=4, canceled=1), updated=0, name="#1001-A")))

    assert stale == PageResult()  # not even written: the stored version is newer
    found, items = stored(storage, shop, 1)
    assert (found.name, found.updated_at, items["11"].canceled_quantity) == ("#1001-B", at(30), 3)
    assert history(storage, items["11"]) == [3]


def test_a_lower_target_never_lowers_the_stored_canceled_quantity(storage: Storage, shop: Shop) -> None:
    apply(storage, shop, judged(order(1, line(11, quantity=4, canceled=3), updated=0)))

    newer = apply(storage, shop, judged(order(1, line(11, quantity=4, canceled=1), updated=30, name="#1001-B")))

    assert (newer.orders_written, newer.units_canceled, newer.cancellations) == (1, 0, ())
    found, items = stored(storage, shop, 1)
    assert (found.name, found.updated_at) == ("#1001-B", at(30))  # the order's fields do follow the newer version
    assert (items["11"].canceled_quantity, items["11"].status) == (3, OrderItemStatus.PARTIALLY_CANCELED)


def test_an_older_payload_cannot_overwrite_the_order_but_its_cancellations_still_count(
    storage: Storage, shop: Shop
) -> None:
    apply(storage, shop, judged(order(1, line(11, quantity=4), updated=30, name="#1001-B")))

    older = apply(storage, shop, judged(order(1, line(11, quantity=4, canceled=2), updated=10, name="#1001-A")))

    assert (older.orders_written, older.units_canceled) == (0, 2)
    found, items = stored(storage, shop, 1)
    assert (found.name, found.updated_at, items["11"].canceled_quantity) == ("#1001-B", at(30), 2)


def test_a_whole_order_cancel_marks_the_order_and_cancels_every_unshipped_unit(storage: Storage, shop: Shop) -> None:
    result = apply(storage, shop, judged(canceled_whole(1, quantity=3, shipped=1, updated=15)))

    assert (result.orders_canceled, result.units_canceled, result.items_canceled) == (1, 2, 1)
    assert result.newly_canceled_orders == ("gid://shopify/Order/1",)
    assert result.cancellations[0].reason == "order canceled (customer)"
    found, items = stored(storage, shop, 1)
    assert (found.status, found.cancelled_at, found.cancel_reason) == (OrderStatus.CANCELED, at(15), "CUSTOMER")
    assert (items["1"].canceled_quantity, items["1"].status) == (2, OrderItemStatus.PARTIALLY_CANCELED)

    again = apply(storage, shop, judged(canceled_whole(1, quantity=3, shipped=1, updated=15)))
    assert (again.orders_canceled, again.newly_canceled_orders, again.units_canceled) == (0, (), 0)


def test_an_open_order_canceled_later_is_counted_when_the_cancel_arrives(storage: Storage, shop: Shop) -> None:
    first = apply(storage, shop, judged(order(1, line(1, quantity=2), updated=0)))
    canceled = apply(storage, shop, judged(canceled_whole(1, quantity=2, updated=40)))

    assert first.orders_canceled == 0
    assert (canceled.orders_canceled, canceled.units_canceled) == (1, 2)
    found, items = stored(storage, shop, 1)
    assert (found.status, items["1"].status) == (OrderStatus.CANCELED, OrderItemStatus.CANCELED)


def test_canceling_an_order_that_shipped_everything_cancels_the_order_but_no_unit(storage: Storage, shop: Shop) -> None:
    result = apply(storage, shop, judged(canceled_whole(1, quantity=2, shipped=2)))

    assert (result.orders_canceled, result.units_canceled, result.cancellations) == (1, 0, ())
    found, items = stored(storage, shop, 1)
    assert (found.status, items["1"].status) == (OrderStatus.CANCELED, OrderItemStatus.OPEN)


def test_units_removed_by_an_order_edit_count_and_new_lines_are_added(storage: Storage, shop: Shop) -> None:
    apply(storage, shop, judged(order(1, line(11, quantity=3), updated=0)))

    edited = apply(storage, shop, judged(order(1, line(11, quantity=3, canceled=2), line(12), updated=20, edited=True)))

    assert edited.units_canceled == 2 and edited.cancellations[0].reason == "order edit"
    items = stored(storage, shop, 1)[1]
    assert sorted(items) == ["11", "12"] and items["11"].canceled_quantity == 2


def test_a_page_repeating_an_order_stores_its_newest_version_once(storage: Storage, shop: Shop) -> None:
    page = judged(
        order(1, line(11, quantity=3, canceled=2), updated=10), order(1, line(11, quantity=3, canceled=1), updated=0)
    )

    result = apply(storage, shop, page)

    assert (result.orders_written, result.units_canceled, len(result.cancellations)) == (1, 2, 1)
    assert stored(storage, shop, 1)[0].updated_at == at(10)


def test_history_rows_name_the_run_that_found_them(storage: Storage, shop: Shop, job: Job) -> None:
    with storage.transaction() as tx:
        run = tx.create_run(job_id=job.id, trigger=RunTrigger.SCHEDULE)
    result = apply(storage, shop, judged(order(1, line(11, canceled=1))), run_id=run.id)
    assert result.cancellations[0].run_id == run.id


def test_an_empty_page_changes_nothing(storage: Storage, shop: Shop) -> None:
    assert apply(storage, shop, []) == PageResult()


def test_a_page_needs_an_existing_shop_and_run(storage: Storage, shop: Shop) -> None:
    page = judged(order(1, line(11, canceled=1)))
    with storage.transaction() as tx:
        with pytest.raises(NotFoundError, match="shop 404"):
            tx.apply_page(shop_id=404, run_id=None, verdicts=page, now=NOW)
        with pytest.raises(NotFoundError, match="run 404"):
            tx.apply_page(shop_id=shop.id, run_id=404, verdicts=page, now=NOW)


def test_the_same_platform_ids_in_two_shops_are_two_orders(storage: Storage, shop: Shop, other_shop: Shop) -> None:
    page = judged(order(1, line(11, quantity=2, canceled=1)))
    assert apply(storage, shop, page).units_canceled == 1
    assert apply(storage, other_shop, page).units_canceled == 1
    assert stored(storage, shop, 1)[0].id != stored(storage, other_shop, 1)[0].id


def test_timestamps_in_any_zone_are_stored_as_the_same_instant(storage: Storage, shop: Shop) -> None:
    from datetime import timedelta, timezone

    pacific = T0.astimezone(timezone(timedelta(hours=-8)))
    apply(storage, shop, judged(order(1, line(1))), now=pacific)
    assert stored(storage, shop, 1)[0].synced_at == T0
