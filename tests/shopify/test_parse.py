"""Shopify's order JSON → core records: exact ids, aware datetimes, loud failures."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from core import SourceDataError, judge_order
from plugins.shopify.parse import parse_order

# An order as the OrdersWindow query returns it (shape and values as in Shopify's replies:
# research/shopify-api.md §A.7, A.11). One unit of the tee was canceled before fulfilment.
RECORDED = orjson.loads(
    b"""
{
  "id": "gid://shopify/Order/820982911946154508",
  "name": "#1001",
  "createdAt": "2026-08-03T04:03:50Z",
  "updatedAt": "2026-08-03T05:10:02Z",
  "cancelledAt": null,
  "cancelReason": null,
  "edited": false,
  "lineItems": {
    "pageInfo": {"hasNextPage": false, "endCursor": "eyJsYXN0X2lkIjo0NjYxNTcwNDl9"},
    "nodes": [
      {"id": "gid://shopify/LineItem/466157049", "sku": "TEE-M", "title": "Tee", "name": "Tee - M",
       "quantity": 3, "currentQuantity": 2, "unfulfilledQuantity": 2, "nonFulfillableQuantity": 1,
       "requiresShipping": true},
      {"id": "gid://shopify/LineItem/518995019", "sku": "", "title": "Gift wrap", "name": "Gift wrap",
       "quantity": 1, "currentQuantity": 1, "unfulfilledQuantity": 0, "nonFulfillableQuantity": 1,
       "requiresShipping": false}
    ]
  },
  "refunds": [
    {"id": "gid://shopify/Refund/929361464", "createdAt": "2026-08-03T05:10:01Z",
     "refundLineItems": {
       "pageInfo": {"hasNextPage": false, "endCursor": "eyJsYXN0X2lkIjoxMDR9"},
       "nodes": [
         {"id": "gid://shopify/RefundLineItem/104689539", "quantity": 1, "restockType": "CANCEL",
          "lineItem": {"id": "gid://shopify/LineItem/466157049"}}
       ]
     }}
  ]
}
"""
)


def order_json(**changes: Any) -> dict[str, Any]:
    order = copy.deepcopy(RECORDED)
    order.update(changes)
    return order


def test_recorded_order_becomes_a_complete_record() -> None:
    order = parse_order(order_json())
    assert order.source_id == "gid://shopify/Order/820982911946154508"  # exact, past 2**53
    assert order.name == "#1001"
    assert order.created_at == datetime(2026, 8, 3, 4, 3, 50, tzinfo=UTC)
    assert order.updated_at.tzinfo is not None
    assert order.cancelled_at is None and order.cancel_reason is None and order.edited is False
    tee, wrap = order.line_items
    assert (tee.source_id, tee.sku, tee.title) == ("gid://shopify/LineItem/466157049", "TEE-M", "Tee - M")
    assert (tee.quantity, tee.current_quantity, tee.unfulfilled_quantity, tee.non_fulfillable_quantity) == (3, 2, 2, 1)
    assert wrap.sku is None and wrap.requires_shipping is False  # "" means no SKU
    (line,) = order.refund_lines
    assert line.refund_id == "gid://shopify/Refund/929361464"
    assert line.line_item_id == tee.source_id
    assert (line.quantity, line.restock_type) == (1, "CANCEL")
    assert line.created_at == datetime(2026, 8, 3, 5, 10, 1, tzinfo=UTC)
    # and the core rule can judge it
    verdict = judge_order(order)
    assert [i.canceled_target for i in verdict.items] == [1, 0]


def test_whole_order_cancel_fields() -> None:
    order = parse_order(order_json(cancelledAt="2026-08-03T06:00:00-04:00", cancelReason="CUSTOMER"))
    assert order.cancelled_at == datetime(2026, 8, 3, 10, 0, tzinfo=UTC)
    assert order.cancel_reason == "CUSTOMER"


def test_nullable_refund_fields_get_stable_stand_ins() -> None:
    raw = order_json()
    raw["refunds"][0]["createdAt"] = None
    raw["refunds"][0]["refundLineItems"]["nodes"][0]["id"] = None
    (line,) = parse_order(raw).refund_lines
    assert line.created_at == datetime(2026, 8, 3, 5, 10, 2, tzinfo=UTC)  # the order's updatedAt
    assert line.source_id == "gid://shopify/Refund/929361464#gid://shopify/LineItem/466157049"


def _without(path: list[Any]) -> dict[str, Any]:
    raw = order_json()
    target = raw
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return raw


def _with(path: list[Any], value: Any) -> dict[str, Any]:
    raw = order_json()
    target = raw
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return raw


@pytest.mark.parametrize(
    ("raw", "mentions"),
    [
        (_without(["updatedAt"]), "updatedAt missing"),
        (_with(["createdAt"], "yesterday"), "createdAt"),
        (_with(["createdAt"], "2026-08-03T04:03:50"), "without a UTC offset"),
        (_with(["lineItems", "nodes", 0, "quantity"], 2.0), "lineItems[0].quantity"),
        (_with(["lineItems", "nodes", 0, "quantity"], True), "lineItems[0].quantity"),
        (_with(["lineItems", "nodes", 0, "currentQuantity"], "2"), "currentQuantity"),
        (_without(["lineItems", "nodes", 1, "nonFulfillableQuantity"]), "lineItems[1].nonFulfillableQuantity"),
        (_with(["lineItems", "nodes", 0, "id"], 466157049), "lineItems[0].id"),
        (_with(["edited"], None), "edited"),
        (_with(["refunds"], None), "refunds"),
        (_with(["refunds", 0, "refundLineItems", "nodes", 0, "lineItem"], None), "lineItem"),
        (_with(["refunds", 0, "refundLineItems", "nodes", 0, "restockType"], 3), "restockType"),
        (_without(["lineItems"]), "lineItems"),
    ],
)
def test_missing_or_ill_typed_field_names_the_order(raw: dict[str, Any], mentions: str) -> None:
    with pytest.raises(SourceDataError) as caught:
        parse_order(raw)
    message = str(caught.value)
    assert "#1001" in message and "gid://shopify/Order/820982911946154508" in message
    assert mentions in message


def test_an_order_that_is_not_an_object() -> None:
    with pytest.raises(SourceDataError):
        parse_order(["not", "an", "order"])
