"""Realistic platform orders for the storage tests, judged by the real cancellation rule.

Lines are built from what happened to their units (canceled before fulfilment, shipped, still
pending) and turned into the quantities Shopify reports: ``quantity`` never shrinks,
``currentQuantity`` drops by removed units, ``nonFulfillableQuantity`` counts units removed
before fulfilment, ``unfulfilledQuantity`` the units still to ship.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core import (
    OrderVerdict,
    SourceLineItem,
    SourceOrder,
    SourceRefundLine,
    judge_order,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def line(n: int, *, quantity: int = 2, canceled: int = 0, shipped: int = 0, sku: str | None = None) -> SourceLineItem:
    """A shippable line whose ``canceled`` units were removed before fulfilment."""
    assert canceled + shipped <= quantity
    return SourceLineItem(
        source_id=f"gid://shopify/LineItem/{n}",
        sku=sku if sku is not None else f"SKU-{n}",
        title=f"Product {n}",
        quantity=quantity,
        current_quantity=quantity - canceled,
        unfulfilled_quantity=quantity - canceled - shipped,
        non_fulfillable_quantity=canceled,
    )


def order(
    n: int,
    *lines: SourceLineItem,
    updated: float = 0,
    created: float | None = None,
    name: str | None = None,
    cancelled: float | None = None,
    refund_at: float | None = None,
    edited: bool = False,
) -> SourceOrder:
    """Order ``n``; ``updated``/``created``/``cancelled`` are minutes after :data:`T0`.

    Units removed before fulfilment get a CANCEL refund line at ``refund_at`` (default: ``updated``),
    unless the order was ``edited``: an order edit removes units without any refund line.
    """
    refunds = (
        ()
        if edited
        else tuple(
            SourceRefundLine(
                source_id=f"gid://shopify/RefundLineItem/{n}{i}",
                refund_id=f"gid://shopify/Refund/{n}",
                line_item_id=item.source_id,
                quantity=item.quantity - item.current_quantity,
                restock_type="CANCEL",
                created_at=at(refund_at if refund_at is not None else updated),
            )
            for i, item in enumerate(lines)
            if item.quantity > item.current_quantity
        )
    )
    return SourceOrder(
        source_id=f"gid://shopify/Order/{n}",
        name=name or f"#{1000 + n}",
        created_at=at(created if created is not None else updated - 60),
        updated_at=at(updated),
        cancelled_at=at(cancelled) if cancelled is not None else None,
        cancel_reason="CUSTOMER" if cancelled is not None else None,
        line_items=lines,
        refund_lines=refunds,
        edited=edited,
    )


def canceled_whole(n: int, *, quantity: int = 2, shipped: int = 0, updated: float = 0) -> SourceOrder:
    """Order ``n`` with one line, canceled as a whole after ``shipped`` units went out."""
    unshipped = quantity - shipped
    item = SourceLineItem(
        source_id=f"gid://shopify/LineItem/{n}",
        sku=f"SKU-{n}",
        title=f"Product {n}",
        quantity=quantity,
        current_quantity=shipped,
        unfulfilled_quantity=0,
        non_fulfillable_quantity=unshipped,
    )
    return order(n, item, updated=updated, cancelled=updated)


def judged(*orders: SourceOrder) -> list[OrderVerdict]:
    return [judge_order(o) for o in orders]
