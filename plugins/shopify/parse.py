"""Shopify's order JSON → core records, checking every field it relies on.

Ids stay GID strings (``gid://shopify/Order/820982911946154508``: numeric ids exceed 2**53, so
they never pass through a float); quantities must be exact ints and timestamps ISO-8601 with an
offset. A missing or ill-typed field raises :class:`core.SourceDataError` naming the order, so
one bad reply fails loudly instead of storing a wrong verdict.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from core import SourceDataError, SourceLineItem, SourceOrder, SourceRefundLine


class _Where:
    """Names the order (and the part of it) a bad field belongs to."""

    def __init__(self, order: Mapping[str, Any]) -> None:
        name, gid = order.get("name"), order.get("id")
        if isinstance(name, str) and isinstance(gid, str):
            self.order = f"order {name} ({gid})"
        elif isinstance(gid, str):
            self.order = f"order {gid}"
        else:
            self.order = "an order without an id"

    def error(self, path: str, problem: str) -> SourceDataError:
        return SourceDataError(f"Shopify sent {self.order} with {path} {problem}")


def parse_order(node: object) -> SourceOrder:
    """Build a :class:`core.SourceOrder` from an ``OrderTree`` whose nested lists are complete.

    Raises:
        SourceDataError: a field is missing or has the wrong type.
    """
    if not isinstance(node, Mapping):
        raise SourceDataError(f"Shopify sent an order that is not an object: {type(node).__name__}")
    where = _Where(node)
    updated_at = _datetime(node, "updatedAt", where, "updatedAt")
    line_items = tuple(
        _line_item(item, where, f"lineItems[{i}]") for i, item in enumerate(_nodes(node, "lineItems", where, "lineItems"))
    )
    refund_lines: list[SourceRefundLine] = []
    refunds = node.get("refunds")
    if not isinstance(refunds, list):
        raise where.error("refunds", _problem(refunds, "a list"))
    for i, refund in enumerate(refunds):
        refund_lines.extend(_refund_lines(refund, where, f"refunds[{i}]", updated_at))
    return SourceOrder(
        source_id=_gid(node, "id", where, "id"),
        name=_str(node, "name", where, "name"),
        created_at=_datetime(node, "createdAt", where, "createdAt"),
        updated_at=updated_at,
        cancelled_at=_optional_datetime(node, "cancelledAt", where, "cancelledAt"),
        cancel_reason=_optional_str(node, "cancelReason", where, "cancelReason"),
        line_items=line_items,
        refund_lines=tuple(refund_lines),
        edited=_bool(node, "edited", where, "edited"),
    )


def _line_item(item: object, where: _Where, path: str) -> SourceLineItem:
    if not isinstance(item, Mapping):
        raise where.error(path, _problem(item, "an object"))
    title = item.get("name") if isinstance(item.get("name"), str) else item.get("title")
    if not isinstance(title, str):
        raise where.error(f"{path}.name", _problem(title, "a string"))
    return SourceLineItem(
        source_id=_gid(item, "id", where, f"{path}.id"),
        sku=_optional_str(item, "sku", where, f"{path}.sku") or None,
        title=title,
        quantity=_int(item, "quantity", where, f"{path}.quantity"),
        current_quantity=_int(item, "currentQuantity", where, f"{path}.currentQuantity"),
        unfulfilled_quantity=_int(item, "unfulfilledQuantity", where, f"{path}.unfulfilledQuantity"),
        non_fulfillable_quantity=_int(item, "nonFulfillableQuantity", where, f"{path}.nonFulfillableQuantity"),
        requires_shipping=_bool(item, "requiresShipping", where, f"{path}.requiresShipping"),
    )


def _refund_lines(refund: object, where: _Where, path: str, order_updated_at: datetime) -> list[SourceRefundLine]:
    if not isinstance(refund, Mapping):
        raise where.error(path, _problem(refund, "an object"))
    refund_id = _gid(refund, "id", where, f"{path}.id")
    # Refund.createdAt is nullable in the schema; the order's updatedAt is the latest moment the
    # refund can have happened, the safe stand-in for "when was this unit canceled".
    created_at = _optional_datetime(refund, "createdAt", where, f"{path}.createdAt") or order_updated_at
    lines = []
    for i, line in enumerate(_nodes(refund, "refundLineItems", where, f"{path}.refundLineItems")):
        line_path = f"{path}.refundLineItems[{i}]"
        if not isinstance(line, Mapping):
            raise where.error(line_path, _problem(line, "an object"))
        line_item = line.get("lineItem")
        if not isinstance(line_item, Mapping):
            raise where.error(f"{line_path}.lineItem", _problem(line_item, "an object"))
        line_item_id = _gid(line_item, "id", where, f"{line_path}.lineItem.id")
        # RefundLineItem.id is nullable in the schema; a refund holds one line per line item,
        # so refund + line item names it stably.
        line_id = line.get("id")
        if line_id is None:
            line_id = f"{refund_id}#{line_item_id}"
        elif not isinstance(line_id, str) or not line_id:
            raise where.error(f"{line_path}.id", _problem(line_id, "an id"))
        lines.append(
            SourceRefundLine(
                source_id=line_id,
                refund_id=refund_id,
                line_item_id=line_item_id,
                quantity=_int(line, "quantity", where, f"{line_path}.quantity"),
                restock_type=_optional_str(line, "restockType", where, f"{line_path}.restockType"),
                created_at=created_at,
            )
        )
    return lines


def _nodes(parent: Mapping[str, Any], key: str, where: _Where, path: str) -> list[Any]:
    connection = parent.get(key)
    if not isinstance(connection, Mapping):
        raise where.error(path, _problem(connection, "a connection"))
    nodes = connection.get("nodes")
    if not isinstance(nodes, list):
        raise where.error(f"{path}.nodes", _problem(nodes, "a list"))
    return nodes


def _gid(obj: Mapping[str, Any], key: str, where: _Where, path: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.startswith("gid://"):
        raise where.error(path, _problem(value, "a gid:// id"))
    return value


def _str(obj: Mapping[str, Any], key: str, where: _Where, path: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise where.error(path, _problem(value, "a string"))
    return value


def _optional_str(obj: Mapping[str, Any], key: str, where: _Where, path: str) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise where.error(path, _problem(value, "a string or null"))
    return value


def _int(obj: Mapping[str, Any], key: str, where: _Where, path: str) -> int:
    value = obj.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise where.error(path, _problem(value, "an integer"))
    return value


def _bool(obj: Mapping[str, Any], key: str, where: _Where, path: str) -> bool:
    value = obj.get(key)
    if not isinstance(value, bool):
        raise where.error(path, _problem(value, "true or false"))
    return value


def _datetime(obj: Mapping[str, Any], key: str, where: _Where, path: str) -> datetime:
    value = _optional_datetime(obj, key, where, path)
    if value is None:
        raise where.error(path, "missing (expected an ISO-8601 timestamp)")
    return value


def _optional_datetime(obj: Mapping[str, Any], key: str, where: _Where, path: str) -> datetime | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise where.error(path, _problem(value, "an ISO-8601 timestamp"))
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise where.error(path, f"{value[:40]!r}, not an ISO-8601 timestamp") from None
    if parsed.tzinfo is None:
        raise where.error(path, f"{value[:40]!r} without a UTC offset")
    return parsed


def _problem(value: object, expected: str) -> str:
    if value is None:
        return f"missing (expected {expected})"
    return f"of type {type(value).__name__} (expected {expected})"
