"""Seeding the store the way a run does: SourceOrders judged by core, written with apply_page."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from core import NewShop, Shop, SourceLineItem, SourceOrder, SourceRefundLine, judge_order
from core.jobcontrol import add_shop
from core.models import Job
from core.runtime import Runtime

T0 = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
SHOP_SECRET = "shpat_gateway_test_secret_0123456789"


def new_shop(runtime: Runtime, name: str, *, token: str | None = SHOP_SECRET) -> tuple[Shop, Job]:
    shop, jobs = add_shop(runtime, NewShop(name=name, url=f"https://{name}.myshopify.com", token=token))
    return shop, jobs[0]


def source_order(n: int, *, shop: str = "alpha", kind: str = "open", items: int = 2,
                 updated: datetime | None = None) -> SourceOrder:
    """Order #n of a shop. ``kind``: ``open``, ``partial`` (one unit of the first line refunded
    before fulfilment) or ``canceled`` (the whole order canceled)."""
    created = T0 + timedelta(minutes=n)
    updated = updated or created + timedelta(hours=1, seconds=n % 7)
    lines = []
    refunds = []
    for i in range(items):
        line_id = f"gid://shopify/LineItem/{shop}-{n}-{i}"
        quantity = 3
        current = quantity
        if kind == "partial" and i == 0:
            current = quantity - 1
            refunds.append(SourceRefundLine(source_id=f"gid://shopify/RefundLineItem/{shop}-{n}-{i}",
                                            refund_id=f"gid://shopify/Refund/{shop}-{n}", line_item_id=line_id,
                                            quantity=1, restock_type="CANCEL", created_at=updated))
        unfulfilled = 0 if kind == "canceled" else current
        non_fulfillable = quantity - unfulfilled if kind == "canceled" else quantity - current
        lines.append(SourceLineItem(source_id=line_id, sku=f"SKU-{shop}-{n}-{i}", title=f"Widget {i}",
                                    quantity=quantity, current_quantity=current if kind != "canceled" else 0,
                                    unfulfilled_quantity=unfulfilled, non_fulfillable_quantity=non_fulfillable))
    return SourceOrder(
        source_id=f"gid://shopify/Order/{shop}{n}" if not shop.isdigit() else f"gid://shopify/Order/{n}",
        name=f"#{shop.upper()}{1000 + n}",
        created_at=created,
        updated_at=updated,
        cancelled_at=updated if kind == "canceled" else None,
        cancel_reason="CUSTOMER" if kind == "canceled" else None,
        line_items=tuple(lines),
        refund_lines=tuple(refunds),
    )


def apply(runtime: Runtime, shop: Shop, orders: Iterable[SourceOrder], *, run_id: int | None = None,
          page_size: int = 250) -> None:
    batch = list(orders)
    for start in range(0, len(batch), page_size):
        verdicts = [judge_order(o) for o in batch[start:start + page_size]]
        with runtime.storage.transaction() as tx:
            tx.apply_page(shop_id=shop.id, run_id=run_id, verdicts=verdicts, now=runtime.now())


def kind_of(n: int) -> str:
    return ("open", "partial", "canceled")[n % 3]


def seed(runtime: Runtime, shop: Shop, count: int, *, start: int = 0) -> list[SourceOrder]:
    orders = [source_order(n, shop=shop.name, kind=kind_of(n)) for n in range(start, start + count)]
    apply(runtime, shop, orders)
    return orders
