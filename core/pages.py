"""Storing a page of orders: judge each order, store the verdicts, then tell the listeners.

One function for the act, shared by every run (through ``RunContext.store_page``) and by the
webhook fast path, so both store and notify the same way. The listeners hear of a page after its
transaction committed, once per page, never once per record.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .cancellations import judge_order
from .models import CanceledLine, CanceledOrder, Cancellation, JobRun, PageResult, Shop, SourceOrder

if TYPE_CHECKING:
    from .runtime import Runtime
    from .storage import StorageTx


def store_orders(runtime: Runtime, shop: Shop, run: JobRun | None, orders: Sequence[SourceOrder]) -> PageResult:
    """Judge ``orders`` (complete, as the source reads them now), store them for ``shop`` in one
    transaction, and notify ``on_items_canceled``/``on_orders_canceled`` of what is new, in
    business keys (:class:`CanceledLine`, :class:`CanceledOrder`) beside the history rows.

    ``run`` is the run storing them, None for a webhook refresh. Idempotent: storing the same
    orders again stores nothing new and notifies nobody.
    """
    if not orders:
        return PageResult()
    verdicts = [judge_order(order) for order in orders]
    with runtime.storage.transaction() as tx:
        result = tx.apply_page(shop_id=shop.id, run_id=run.id if run is not None else None, verdicts=verdicts,
                               now=runtime.now())
        # Read in the same transaction, so the totals are those this page left.
        lines = canceled_lines(tx, shop, result.cancellations) if result.cancellations else ()
    runtime.notify_items_canceled(shop, run, result.cancellations, lines)
    runtime.notify_orders_canceled(shop, run, result.newly_canceled_orders,
                                   canceled_orders(shop, orders, result.newly_canceled_orders))
    return result


def canceled_lines(tx: StorageTx, shop: Shop, cancellations: Sequence[Cancellation]) -> tuple[CanceledLine, ...]:
    """The history rows ``cancellations`` in the platform's keys: two batched reads, not one per row."""
    items = tx.get_items(sorted({c.item_id for c in cancellations}))
    stored = tx.get_orders(sorted({c.order_id for c in cancellations}))
    lines = []
    for c in cancellations:
        item, order = items[c.item_id], stored[c.order_id]
        lines.append(CanceledLine(
            shop=shop.name, order_gid=order.source_id, order_name=order.name, line_gid=item.source_id,
            sku=item.sku, title=item.title, quantity=item.quantity, units=c.quantity,
            canceled_total=item.canceled_quantity, reason=c.reason, evidence=c.evidence,
            canceled_at=c.canceled_at, cancellation_id=c.id))
    return tuple(lines)


def canceled_orders(shop: Shop, orders: Sequence[SourceOrder], gids: Sequence[str]) -> tuple[CanceledOrder, ...]:
    """The orders of ``gids`` (newly canceled) as the source read them."""
    by_gid = {order.source_id: order for order in orders}
    return tuple(CanceledOrder(shop=shop.name, order_gid=gid, order_name=by_gid[gid].name,
                               reason=by_gid[gid].cancel_reason, canceled_at=by_gid[gid].cancelled_at)
                 for gid in gids)


__all__ = ["canceled_lines", "canceled_orders", "store_orders"]
