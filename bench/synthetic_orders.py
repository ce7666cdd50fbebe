"""Realistic orders for the storage and API benchmarks, made without the simulator (fast, and
the same every time): a fifth with units canceled before fulfilment, one in twelve canceled as a
whole, some units shipped."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from core import SourceLineItem, SourceOrder, SourceRefundLine


def source_orders(start: int, count: int, *, t0: datetime, every_seconds: float, lines: tuple[int, int],
                  name_base: int) -> Iterator[SourceOrder]:
    """Orders ``start .. start+count-1``, order n updated at ``t0 + n * every_seconds``, with
    ``lines[0]`` to ``lines[1]`` line items each and the name ``#{name_base + n}``."""
    fewest, most = lines
    for n in range(start, start + count):
        updated = t0 + timedelta(seconds=n * every_seconds)
        whole_cancel = n % 12 == 0
        line_items, refunds = [], []
        for k in range(fewest + n % (most - fewest + 1)):
            quantity = 1 + (n + k) % 4
            canceled = quantity if whole_cancel else (min(quantity, 1 + k) if n % 5 == 0 else 0)
            shipped = 0 if whole_cancel else min(quantity - canceled, (n + k) % 2)
            line_id = f"gid://shopify/LineItem/{n * 10 + k}"
            line_items.append(SourceLineItem(
                source_id=line_id, sku=f"SKU-{(n + k) % 500:04d}", title=f"Product {(n + k) % 500}",
                quantity=quantity, current_quantity=quantity - canceled,
                unfulfilled_quantity=quantity - canceled - shipped, non_fulfillable_quantity=canceled,
            ))  # fmt: skip
            if canceled:
                refunds.append(SourceRefundLine(
                    source_id=f"gid://shopify/RefundLineItem/{n * 10 + k}", refund_id=f"gid://shopify/Refund/{n}",
                    line_item_id=line_id, quantity=canceled, restock_type="CANCEL", created_at=updated,
                ))  # fmt: skip
        yield SourceOrder(
            source_id=f"gid://shopify/Order/{5_000_000_000 + n}", name=f"#{name_base + n}",
            created_at=updated - timedelta(hours=1), updated_at=updated,
            cancelled_at=updated if whole_cancel else None, cancel_reason="CUSTOMER" if whole_cancel else None,
            line_items=tuple(line_items), refund_lines=tuple(refunds),
        )  # fmt: skip
