"""Every story operation leaves the quantity fields as Shopify's schema descriptions define them.

quantity never changes; currentQuantity = refundableQuantity excludes refunded and removed units;
unfulfilledQuantity = fulfillableQuantity excludes shipped, refunded-unfulfilled and removed units;
nonFulfillableQuantity counts units refunded (or removed) before they shipped.
"""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from plugins.shopify.simulator import ShopSimulator, SimClock

from .helpers import gql

ORDER = """
query($id: ID!) {
  order(id: $id) {
    id name updatedAt cancelledAt cancelReason closed edited displayFulfillmentStatus displayFinancialStatus
    lineItems(first: 10) {
      nodes {
        id sku quantity currentQuantity refundableQuantity unfulfilledQuantity fulfillableQuantity
        nonFulfillableQuantity fulfillmentStatus requiresShipping restockable
      }
    }
    refunds(first: 10) {
      id createdAt note
      refundLineItems(first: 10) { nodes { id quantity restockType restocked lineItem { id } subtotalSet { shopMoney { amount } } } }
    }
    fulfillments(first: 10) { id fulfillmentLineItems(first: 10) { nodes { id quantity lineItem { id } } } }
  }
}
"""


async def fetch(client: httpx2.AsyncClient, order: str) -> dict[str, Any]:
    return (await gql(client, ORDER, {"id": order}))["data"]["order"]


def line(order: dict[str, Any], index: int) -> dict[str, Any]:
    return order["lineItems"]["nodes"][index]


def quantities(node: dict[str, Any]) -> dict[str, int]:
    keys = (
        "quantity",
        "currentQuantity",
        "refundableQuantity",
        "unfulfilledQuantity",
        "fulfillableQuantity",
        "nonFulfillableQuantity",
    )
    return {key: node[key] for key in keys}


def q(quantity: int, current: int, unfulfilled: int, non_fulfillable: int) -> dict[str, int]:
    return {
        "quantity": quantity,
        "currentQuantity": current,
        "refundableQuantity": current,
        "unfulfilledQuantity": unfulfilled,
        "fulfillableQuantity": unfulfilled,
        "nonFulfillableQuantity": non_fulfillable,
    }


async def test_a_new_order_is_all_unfulfilled(sim: ShopSimulator, client: httpx2.AsyncClient) -> None:
    order_id = sim.create_order(lines=[("SKU-1", 3), ("SKU-2", 1)])
    order = await fetch(client, order_id)
    assert order["name"] == "#1001"
    assert order["updatedAt"] == "2026-08-03T12:00:00Z"
    assert [quantities(n) for n in order["lineItems"]["nodes"]] == [q(3, 3, 3, 0), q(1, 1, 1, 0)]
    assert line(order, 0)["fulfillmentStatus"] == "unfulfilled"
    assert line(order, 0)["restockable"] is True
    assert (order["displayFulfillmentStatus"], order["displayFinancialStatus"]) == ("UNFULFILLED", "PAID")
    assert (order["refunds"], order["fulfillments"], order["edited"], order["closed"]) == ([], [], False, False)


async def test_partial_cancel_refunds_unfulfilled_units_as_cancel(
    sim: ShopSimulator, clock: SimClock, client: httpx2.AsyncClient
) -> None:
    order_id = sim.create_order(lines=[("SKU-1", 3), ("SKU-2", 1)])
    first, _ = sim.line_item_ids(order_id)
    clock.advance(60)
    refund_id = sim.cancel_units(order_id, first, 2)

    order = await fetch(client, order_id)
    assert quantities(line(order, 0)) == q(3, 1, 1, 2)
    assert order["updatedAt"] == "2026-08-03T12:01:00Z"
    assert order["cancelledAt"] is None  # a partial cancel never cancels the order
    assert order["displayFinancialStatus"] == "PARTIALLY_REFUNDED"
    [refund] = order["refunds"]
    assert refund["id"] == refund_id
    [refund_line] = refund["refundLineItems"]["nodes"]
    assert refund_line["quantity"] == 2
    assert (refund_line["restockType"], refund_line["restocked"]) == ("CANCEL", True)
    assert refund_line["lineItem"]["id"] == first
    assert refund_line["subtotalSet"]["shopMoney"]["amount"] == "48.0"
    assert sim.truth().canceled_units == {first: 2}


async def test_no_restock_cancel_still_counts_as_non_fulfillable(
    sim: ShopSimulator, client: httpx2.AsyncClient
) -> None:
    order_id = sim.create_order(lines=[("SKU-1", 1)])
    [only] = sim.line_item_ids(order_id)
    sim.cancel_units(order_id, only, 1, restock_type="NO_RESTOCK")
    order = await fetch(client, order_id)
    # The observed shape of a canceled, never-fulfilled unit (research note A.7).
    assert quantities(line(order, 0)) == q(1, 0, 0, 1)
    assert line(order, 0)["restockable"] is False
    assert order["refunds"][0]["refundLineItems"]["nodes"][0]["restocked"] is False
    assert order["displayFinancialStatus"] == "REFUNDED"


async def test_fulfilment_then_return_leaves_non_fulfillable_at_zero(
    sim: ShopSimulator, client: httpx2.AsyncClient
) -> None:
    order_id = sim.create_order(lines=[("SKU-1", 2), ("SKU-2", 1)])
    first, second = sim.line_item_ids(order_id)
    fulfillment_id = sim.fulfil(order_id, {first: 1})
    order = await fetch(client, order_id)
    assert quantities(line(order, 0)) == q(2, 2, 1, 0)
    assert line(order, 0)["fulfillmentStatus"] == "partial"
    assert order["displayFulfillmentStatus"] == "PARTIALLY_FULFILLED"
    [fulfillment] = order["fulfillments"]
    assert fulfillment["id"] == fulfillment_id
    assert [(n["lineItem"]["id"], n["quantity"]) for n in fulfillment["fulfillmentLineItems"]["nodes"]] == [(first, 1)]

    sim.fulfil(order_id, None)  # everything still open
    sim.return_units(order_id, first, 1)
    order = await fetch(client, order_id)
    # The observed shape of a fulfilled-then-returned unit (research note A.7).
    assert quantities(line(order, 0)) == q(2, 1, 0, 0)
    assert quantities(line(order, 1)) == q(1, 1, 0, 0)
    assert line(order, 0)["fulfillmentStatus"] == "fulfilled"
    assert order["displayFulfillmentStatus"] == "FULFILLED"
    assert order["closed"] is True  # nothing left to ship: archived
    assert order["refunds"][0]["refundLineItems"]["nodes"][0]["restockType"] == "RETURN"
    assert sim.truth().returned_units == {first: 1}
    assert sim.truth().canceled_units == {}


async def test_order_edit_removes_units_without_a_refund_line(sim: ShopSimulator, client: httpx2.AsyncClient) -> None:
    order_id = sim.create_order(lines=[("SKU-1", 4)])
    [only] = sim.line_item_ids(order_id)
    sim.edit_remove_units(order_id, only, 3)
    order = await fetch(client, order_id)
    assert quantities(line(order, 0)) == q(4, 1, 1, 3)
    assert order["edited"] is True
    assert order["refunds"] == []
    assert sim.truth().canceled_units == {only: 3}


async def test_whole_order_cancel_refunds_every_open_unit(sim: ShopSimulator, client: httpx2.AsyncClient) -> None:
    order_id = sim.create_order(lines=[("SKU-1", 3), ("SKU-2", 2)])
    first, second = sim.line_item_ids(order_id)
    sim.fulfil(order_id, {first: 1})
    sim.cancel_order(order_id, reason="INVENTORY")
    order = await fetch(client, order_id)
    assert order["cancelledAt"] == "2026-08-03T12:00:00Z"
    assert order["cancelReason"] == "INVENTORY"
    assert order["closed"] is True
    assert quantities(line(order, 0)) == q(3, 1, 0, 2)
    assert quantities(line(order, 1)) == q(2, 0, 0, 2)
    [refund] = order["refunds"]
    assert refund["note"] == "Order canceled"
    assert [(n["lineItem"]["id"], n["quantity"], n["restockType"]) for n in refund["refundLineItems"]["nodes"]] == [
        (first, 2, "CANCEL"),
        (second, 2, "CANCEL"),
    ]
    truth = sim.truth()
    assert truth.canceled_orders == {order_id}
    assert truth.canceled_units == {first: 2, second: 2}
    assert truth.open_units_at_cancel == {first: 2, second: 2}


async def test_cancel_without_refund_leaves_quantities_but_cancels_the_open_units(
    sim: ShopSimulator, client: httpx2.AsyncClient
) -> None:
    order_id = sim.create_order(lines=[("SKU-1", 2)])
    [only] = sim.line_item_ids(order_id)
    assert sim.cancel_order(order_id, refund=False) is None
    order = await fetch(client, order_id)
    assert order["cancelledAt"] is not None and order["refunds"] == []
    assert quantities(line(order, 0)) == q(2, 2, 2, 0)
    assert sim.truth().open_units_at_cancel == {only: 2}
    assert sim.truth().canceled_units == {only: 2}  # canceled with their order, though not refunded


async def test_lines_that_need_no_shipping_are_non_fulfillable(sim: ShopSimulator, client: httpx2.AsyncClient) -> None:
    order_id = sim.create_order(lines=[("GIFT-WRAP", 2)], requires_shipping=False)
    order = await fetch(client, order_id)
    assert line(order, 0)["requiresShipping"] is False
    assert line(order, 0)["nonFulfillableQuantity"] == 2


async def test_touch_only_moves_updated_at(sim: ShopSimulator, clock: SimClock, client: httpx2.AsyncClient) -> None:
    order_id = sim.create_order(lines=[("SKU-1", 1)])
    before = await fetch(client, order_id)
    clock.advance(3600)
    sim.touch(order_id)
    after = await fetch(client, order_id)
    assert after["updatedAt"] == "2026-08-03T13:00:00Z"
    assert {k: v for k, v in after.items() if k != "updatedAt"} == {k: v for k, v in before.items() if k != "updatedAt"}


@pytest.mark.parametrize(
    ("operation", "message"),
    [
        (lambda sim, o, li: sim.cancel_units(o, li, 3), "only 2 unfulfilled"),
        (lambda sim, o, li: sim.cancel_units(o, li, 1, restock_type="RETURN"), "CANCEL or NO_RESTOCK"),
        (lambda sim, o, li: sim.return_units(o, li, 1), "only 0 fulfilled"),
        (lambda sim, o, li: sim.edit_remove_units(o, li, 0), "positive"),
        (lambda sim, o, li: sim.fulfil(o, {li: 5}), "only 2 unfulfilled"),
        (lambda sim, o, li: sim.cancel_order(o, reason="BORED"), "reason"),
    ],
)
def test_impossible_stories_are_refused(sim: ShopSimulator, operation: Any, message: str) -> None:
    order_id = sim.create_order(lines=[("SKU-1", 2)])
    [only] = sim.line_item_ids(order_id)
    with pytest.raises(ValueError, match=message):
        operation(sim, order_id, only)


def test_a_canceled_order_cannot_be_fulfilled_or_canceled_again(sim: ShopSimulator) -> None:
    order_id = sim.create_order(lines=[("SKU-1", 2)])
    sim.cancel_order(order_id, refund=False)
    with pytest.raises(ValueError, match="canceled"):
        sim.fulfil(order_id)
    with pytest.raises(ValueError, match="already canceled"):
        sim.cancel_order(order_id)


def test_ids_are_gid_strings_beyond_float_precision(sim: ShopSimulator) -> None:
    order_id = sim.create_order(lines=[("SKU-1", 1)])
    number = int(order_id.rsplit("/", 1)[1])
    assert order_id.startswith("gid://shopify/Order/")
    assert number > 2**53 and float(number) != number
