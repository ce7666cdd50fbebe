"""Which units of an order were canceled: pure functions, no I/O.

The rule: **a unit is canceled when it was removed from the order (by a refund or an order
edit) before it was fulfilled.** A unit refunded after fulfilment is a return. A whole-order
cancel (``cancelledAt``) cancels every unit that was never fulfilled.

Why quantities and not ``restockType``: a NO_RESTOCK refund is a cancel when the unit was
unfulfilled and a return when it was shipped, and order edits remove units without any refund
line (research/shopify-api.md §A.4, A.8). The platform's own fulfilment accounting tells them
apart: per line,

* ``removed = quantity - current_quantity``      units taken off by refunds and edits
* ``fulfilled = quantity - unfulfilled - non_fulfillable``   units ever fulfilled (shippable lines)
* units never fulfilled and no longer pending = ``quantity - fulfilled - unfulfilled``

so canceled = ``min(removed - explicit RETURN refund units, quantity - fulfilled - unfulfilled)``.
Refund lines then serve as evidence (which refund, which restock type) and as a cross-check:
explicit RETURN lines can never count as canceled.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from .errors import SourceDataError
from .models import ItemVerdict, OrderVerdict, SourceLineItem, SourceOrder, SourceRefundLine

RETURN = "RETURN"


def judge_order(order: SourceOrder) -> OrderVerdict:
    """Return the cumulative cancellation verdict of every line of ``order``.

    Raises:
        SourceDataError: the quantities contradict each other (a broken upstream reply).
    """
    refunds_by_line: dict[str, list[SourceRefundLine]] = defaultdict(list)
    for refund_line in order.refund_lines:
        refunds_by_line[refund_line.line_item_id].append(refund_line)
    order_canceled = order.cancelled_at is not None
    items = tuple(
        _judge_line(order, line, refunds_by_line.get(line.source_id, ()), order_canceled)
        for line in order.line_items
    )
    return OrderVerdict(order=order, order_canceled=order_canceled, items=items)


def plan_item_update(stored_canceled: int, target: int) -> int:
    """Units to add to an item already holding ``stored_canceled`` canceled units.

    Cancellations only ever grow: a verdict below what is stored (a stale webhook payload, an
    older replayed page) adds nothing, which is what makes every re-run a no-op.
    """
    return max(0, target - stored_canceled)


def _judge_line(
    order: SourceOrder,
    line: SourceLineItem,
    refund_lines: list[SourceRefundLine] | tuple[()],
    order_canceled: bool,
) -> ItemVerdict:
    _check_quantities(order, line)
    removed = line.quantity - line.current_quantity
    if line.requires_shipping:
        fulfilled = max(0, line.quantity - line.unfulfilled_quantity - line.non_fulfillable_quantity)
    else:
        fulfilled = 0  # nothing to ship: non_fulfillable counts every unit, none was fulfilled
    never_fulfilled_gone = max(0, line.quantity - fulfilled - line.unfulfilled_quantity)
    returned_explicitly = sum(r.quantity for r in refund_lines if r.restock_type == RETURN)
    if order_canceled:
        target = line.quantity - fulfilled
    else:
        target = max(0, min(removed - returned_explicitly, never_fulfilled_gone))

    cancel_lines = [r for r in refund_lines if r.restock_type != RETURN]
    refunded_units = sum(r.quantity for r in refund_lines)
    edited_units = max(0, removed - refunded_units)
    evidence: dict[str, Any] = {
        "quantity": line.quantity,
        "currentQuantity": line.current_quantity,
        "unfulfilledQuantity": line.unfulfilled_quantity,
        "nonFulfillableQuantity": line.non_fulfillable_quantity,
        "fulfilled": fulfilled,
        "removed": removed,
        "refundLines": [
            {"id": r.source_id, "refund": r.refund_id, "quantity": r.quantity, "restockType": r.restock_type}
            for r in refund_lines
        ],
        "editRemoved": edited_units,
        "orderCancelled": order_canceled,
    }
    return ItemVerdict(
        line_source_id=line.source_id,
        sku=line.sku,
        title=line.title,
        quantity=line.quantity,
        fulfilled_quantity=fulfilled,
        canceled_target=target,
        canceled_at=_canceled_at(order, cancel_lines, order_canceled),
        reason=_reason(order, cancel_lines, edited_units, order_canceled) if target else None,
        evidence=evidence,
    )


def _check_quantities(order: SourceOrder, line: SourceLineItem) -> None:
    fields = (line.quantity, line.current_quantity, line.unfulfilled_quantity, line.non_fulfillable_quantity)
    if min(fields) < 0 or line.current_quantity > line.quantity or line.unfulfilled_quantity > line.quantity:
        raise SourceDataError(
            f"order {order.name} ({order.source_id}) line {line.source_id} has inconsistent quantities "
            f"(quantity={line.quantity}, currentQuantity={line.current_quantity}, "
            f"unfulfilledQuantity={line.unfulfilled_quantity}, nonFulfillableQuantity={line.non_fulfillable_quantity})"
        )


def _canceled_at(order: SourceOrder, cancel_lines: list[SourceRefundLine], order_canceled: bool):  # type: ignore[no-untyped-def]
    if order_canceled and order.cancelled_at is not None:
        return order.cancelled_at
    if cancel_lines:
        return max(r.created_at for r in cancel_lines)
    return order.updated_at


def _reason(order: SourceOrder, cancel_lines: list[SourceRefundLine], edited_units: int, order_canceled: bool) -> str:
    if order_canceled:
        return f"order canceled ({(order.cancel_reason or 'other').lower()})"
    kinds = sorted({(r.restock_type or "unknown").lower().replace("_", " ") for r in cancel_lines})
    parts = [f"refund: {kind}" for kind in kinds]
    if edited_units:
        parts.append("order edit")
    return ", ".join(parts) or "removed before fulfilment"
