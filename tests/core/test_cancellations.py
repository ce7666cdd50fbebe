"""The cancellation rule, case by case: a unit is canceled when it was removed from the order
(by a refund or an order edit) before it was fulfilled; a unit refunded after fulfilment is a
return; a fully canceled order cancels every unit never fulfilled.

Quantities below are what Shopify reports for each story (research/shopify-api.md §A.5–A.8).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core import SourceDataError, SourceLineItem, SourceOrder, SourceRefundLine, judge_order, plan_item_update

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def line(
    gid: str = "gid://shopify/LineItem/1",
    *,
    quantity: int,
    current: int,
    unfulfilled: int,
    non_fulfillable: int,
    requires_shipping: bool = True,
) -> SourceLineItem:
    return SourceLineItem(
        source_id=gid,
        sku="SKU-" + gid.rsplit("/", 1)[-1],
        title="Widget",
        quantity=quantity,
        current_quantity=current,
        unfulfilled_quantity=unfulfilled,
        non_fulfillable_quantity=non_fulfillable,
        requires_shipping=requires_shipping,
    )


def refund(line_gid: str, quantity: int, restock_type: str, n: int = 1, at: datetime = T0) -> SourceRefundLine:
    return SourceRefundLine(
        source_id=f"gid://shopify/RefundLineItem/{n}",
        refund_id=f"gid://shopify/Refund/{n}",
        line_item_id=line_gid,
        quantity=quantity,
        restock_type=restock_type,
        created_at=at,
    )


def order(*lines: SourceLineItem, refunds: tuple[SourceRefundLine, ...] = (), cancelled_at: datetime | None = None,
          edited: bool = False) -> SourceOrder:
    return SourceOrder(
        source_id="gid://shopify/Order/820982911946154508",
        name="#1001",
        created_at=T0 - timedelta(days=1),
        updated_at=T0 + timedelta(minutes=5),
        cancelled_at=cancelled_at,
        cancel_reason="CUSTOMER" if cancelled_at else None,
        line_items=lines,
        refund_lines=refunds,
        edited=edited,
    )


def target(o: SourceOrder, gid: str = "gid://shopify/LineItem/1") -> int:
    (item,) = [i for i in judge_order(o).items if i.line_source_id == gid]
    return item.canceled_target


def test_one_unit_of_three_canceled_before_fulfilment_and_the_rest_fulfilled() -> None:
    gid = "gid://shopify/LineItem/1"
    o = order(line(gid, quantity=3, current=2, unfulfilled=0, non_fulfillable=1), refunds=(refund(gid, 1, "CANCEL"),))
    verdict = judge_order(o)
    assert not verdict.order_canceled
    (item,) = verdict.items
    assert item.canceled_target == 1
    assert item.fulfilled_quantity == 2
    assert item.reason == "refund: cancel"
    assert item.canceled_at == T0
    assert item.evidence["refundLines"][0]["restockType"] == "CANCEL"


def test_a_return_is_not_a_cancellation() -> None:
    gid = "gid://shopify/LineItem/1"
    o = order(line(gid, quantity=1, current=0, unfulfilled=0, non_fulfillable=0), refunds=(refund(gid, 1, "RETURN"),))
    (item,) = judge_order(o).items
    assert item.canceled_target == 0
    assert item.reason is None
    assert item.fulfilled_quantity == 1


def test_no_restock_refund_before_fulfilment_is_a_cancellation() -> None:
    gid = "gid://shopify/LineItem/1"
    o = order(line(gid, quantity=2, current=1, unfulfilled=1, non_fulfillable=1), refunds=(refund(gid, 1, "NO_RESTOCK"),))
    (item,) = judge_order(o).items
    assert item.canceled_target == 1
    assert item.reason == "refund: no restock"


def test_no_restock_refund_after_fulfilment_is_a_return() -> None:
    gid = "gid://shopify/LineItem/1"
    o = order(line(gid, quantity=2, current=1, unfulfilled=0, non_fulfillable=0), refunds=(refund(gid, 1, "NO_RESTOCK"),))
    assert target(o) == 0


def test_an_order_edit_removing_units_cancels_them_without_any_refund_line() -> None:
    gid = "gid://shopify/LineItem/1"
    o = order(line(gid, quantity=5, current=3, unfulfilled=3, non_fulfillable=2), edited=True)
    (item,) = judge_order(o).items
    assert item.canceled_target == 2
    assert item.reason == "order edit"
    assert item.evidence["editRemoved"] == 2


def test_two_partial_cancels_of_the_same_line_at_different_times_accumulate() -> None:
    gid = "gid://shopify/LineItem/1"
    first = order(line(gid, quantity=5, current=4, unfulfilled=4, non_fulfillable=1),
                  refunds=(refund(gid, 1, "CANCEL", 1, T0),))
    later = T0 + timedelta(hours=3)
    second = order(line(gid, quantity=5, current=2, unfulfilled=2, non_fulfillable=3),
                   refunds=(refund(gid, 1, "CANCEL", 1, T0), refund(gid, 2, "CANCEL", 2, later)))
    assert target(first) == 1
    assert target(second) == 3
    (item,) = judge_order(second).items
    assert item.canceled_at == later
    # what storage applies: the first run adds 1, the second adds the 2 new units only
    assert plan_item_update(0, target(first)) == 1
    assert plan_item_update(1, target(second)) == 2


def test_full_cancellation_after_a_partial_one_cancels_every_unit_never_fulfilled() -> None:
    a, b = "gid://shopify/LineItem/1", "gid://shopify/LineItem/2"
    cancelled_at = T0 + timedelta(hours=5)
    o = order(
        line(a, quantity=4, current=0, unfulfilled=0, non_fulfillable=3),  # 1 fulfilled earlier, 1+2 canceled
        line(b, quantity=2, current=0, unfulfilled=0, non_fulfillable=2),
        refunds=(refund(a, 1, "CANCEL", 1), refund(a, 2, "CANCEL", 2, cancelled_at), refund(b, 2, "CANCEL", 3, cancelled_at)),
        cancelled_at=cancelled_at,
    )
    verdict = judge_order(o)
    assert verdict.order_canceled
    by_line = {i.line_source_id: i for i in verdict.items}
    assert by_line[a].canceled_target == 3  # the fulfilled unit stays fulfilled
    assert by_line[b].canceled_target == 2
    assert by_line[a].reason == "order canceled (customer)"
    assert by_line[a].canceled_at == cancelled_at


def test_full_cancellation_without_refunds_still_cancels_unfulfilled_units() -> None:
    gid = "gid://shopify/LineItem/1"
    o = order(line(gid, quantity=3, current=3, unfulfilled=3, non_fulfillable=0), cancelled_at=T0)
    assert target(o) == 3


def test_an_order_with_more_line_items_than_one_page_is_judged_line_by_line() -> None:
    lines = [line(f"gid://shopify/LineItem/{n}", quantity=2, current=2, unfulfilled=2, non_fulfillable=0)
             for n in range(1, 301)]
    lines[0] = line("gid://shopify/LineItem/1", quantity=2, current=1, unfulfilled=1, non_fulfillable=1)
    lines[299] = line("gid://shopify/LineItem/300", quantity=2, current=0, unfulfilled=0, non_fulfillable=2)
    verdict = judge_order(order(*lines))
    targets = {i.line_source_id: i.canceled_target for i in verdict.items}
    assert len(targets) == 300
    assert targets["gid://shopify/LineItem/1"] == 1
    assert targets["gid://shopify/LineItem/300"] == 2
    assert sum(targets.values()) == 3


def test_a_partly_fulfilled_line_with_a_mixed_history() -> None:
    """6 ordered: 2 canceled, 3 shipped of which 1 returned, 1 still to ship."""
    gid = "gid://shopify/LineItem/1"
    o = order(line(gid, quantity=6, current=3, unfulfilled=1, non_fulfillable=2),
              refunds=(refund(gid, 2, "CANCEL", 1), refund(gid, 1, "RETURN", 2)))
    (item,) = judge_order(o).items
    assert item.canceled_target == 2
    assert item.fulfilled_quantity == 3


def test_explicit_return_lines_never_count_as_canceled_even_if_fields_disagree() -> None:
    gid = "gid://shopify/LineItem/1"
    # a reply claiming the returned unit was never fulfilled: trust the RETURN line
    o = order(line(gid, quantity=1, current=0, unfulfilled=0, non_fulfillable=1), refunds=(refund(gid, 1, "RETURN"),))
    assert target(o) == 0


def test_a_non_shippable_line_is_canceled_only_when_removed() -> None:
    gid = "gid://shopify/LineItem/1"
    kept = order(line(gid, quantity=1, current=1, unfulfilled=0, non_fulfillable=1, requires_shipping=False))
    removed = order(line(gid, quantity=1, current=0, unfulfilled=0, non_fulfillable=1, requires_shipping=False),
                    refunds=(refund(gid, 1, "NO_RESTOCK"),))
    assert target(kept) == 0
    assert target(removed) == 1


def test_an_untouched_line_has_nothing_canceled() -> None:
    o = order(line(quantity=3, current=3, unfulfilled=3, non_fulfillable=0))
    assert target(o) == 0


@pytest.mark.parametrize(
    "fields",
    [
        {"quantity": 2, "current": 3, "unfulfilled": 0, "non_fulfillable": 0},
        {"quantity": 2, "current": -1, "unfulfilled": 0, "non_fulfillable": 0},
        {"quantity": 2, "current": 2, "unfulfilled": 5, "non_fulfillable": 0},
    ],
)
def test_contradictory_quantities_are_a_clear_error(fields: dict[str, int]) -> None:
    with pytest.raises(SourceDataError, match=r"#1001 .* inconsistent quantities"):
        judge_order(order(line(**fields)))


def test_cancellations_never_shrink() -> None:
    assert plan_item_update(3, 1) == 0
    assert plan_item_update(3, 3) == 0
    assert plan_item_update(0, 0) == 0
