"""The edge of the plugin: rows (ORM objects or Core rows, read by attribute) become ``core`` records.

Orders, items and cancellations come by the hundred per API page, so their rows are read by
position instead: a statement selects :data:`ORDER_COLUMNS`, :data:`ITEM_COLUMNS` or
:data:`CANCELLATION_COLUMNS`, in that order (a Row's attribute access costs about as much as
building the record).
"""

from __future__ import annotations

from typing import Any

from core import (
    ApiToken,
    Cancellation,
    Job,
    JobRun,
    JobRunStatus,
    OrderItemStatus,
    OrderStatus,
    RunProgress,
    RunTrigger,
    Schedule,
    Shop,
    StoredItem,
    StoredOrder,
    TokenRole,
)

from .tables import cancellations, order_items, orders, shops

ORDER_COLUMNS = (orders.c.id, orders.c.shop_id, shops.c.name.label("shop_name"), orders.c.source_id, orders.c.name,
                 orders.c.status, orders.c.created_at, orders.c.updated_at, orders.c.cancelled_at,
                 orders.c.cancel_reason, orders.c.synced_at)  # fmt: skip
"""What :func:`to_order` reads; select them from ``orders`` joined to ``shops``."""

ITEM_COLUMNS = (order_items.c.id, order_items.c.order_id, order_items.c.source_id, order_items.c.sku,
                order_items.c.title, order_items.c.quantity, order_items.c.fulfilled_quantity,
                order_items.c.canceled_quantity, order_items.c.status)  # fmt: skip

CANCELLATION_COLUMNS = (cancellations.c.id, cancellations.c.item_id, cancellations.c.order_id,
                        cancellations.c.shop_id, cancellations.c.quantity, cancellations.c.canceled_at,
                        cancellations.c.recorded_at, cancellations.c.run_id, cancellations.c.reason,
                        cancellations.c.evidence)  # fmt: skip

_ORDER_STATUS = {status.value: status for status in OrderStatus}
_ITEM_STATUS = {status.value: status for status in OrderItemStatus}


def item_status(canceled: int, quantity: int) -> OrderItemStatus:
    """CANCELED when every unit is canceled, PARTIALLY_CANCELED when some are, else OPEN."""
    if canceled > 0 and canceled >= quantity:
        return OrderItemStatus.CANCELED
    if canceled > 0:
        return OrderItemStatus.PARTIALLY_CANCELED
    return OrderItemStatus.OPEN


def to_shop(row: Any) -> Shop:
    return Shop(
        id=row.id,
        name=row.name,
        source=row.source,
        url=row.url,
        api_version=row.api_version,
        has_token=row.token is not None,
        token_env=row.token_env,
        created_at=row.created_at,
        options=dict(row.options or {}),
    )


def to_job(row: Any, shop_name: str) -> Job:
    return Job(
        id=row.id,
        shop_id=row.shop_id,
        shop=shop_name,
        kind=row.kind,
        schedule=Schedule(cron=row.cron, every_seconds=row.every_seconds, timezone=row.timezone),
        paused=row.paused,
        skip_next=row.skip_next,
        next_run_at=row.next_run_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


RUN_FIELDS = (
    "window_from", "window_thru", "queued_at", "started_at", "finished_at", "orders_seen",
    "items_canceled", "units_canceled", "orders_canceled", "pages", "api_cost", "throttled",
    "retries", "error", "rq_job_id", "slot",
)  # fmt: skip
"""JobRun fields stored as they are (status, trigger and progress need converting)."""


def to_run(row: Any) -> JobRun:
    plain = {name: getattr(row, name) for name in RUN_FIELDS}
    return JobRun(
        id=row.id,
        job_id=row.job_id,
        status=JobRunStatus(row.status),
        trigger=RunTrigger(row.trigger),
        progress=RunProgress.from_json(row.progress),
        **plain,
    )


def to_order(row: Any) -> StoredOrder:
    """``row``: the values of :data:`ORDER_COLUMNS`."""
    (id_, shop_id, shop, source_id, name, status, created_at, updated_at, cancelled_at, cancel_reason,
     synced_at) = row  # fmt: skip
    return StoredOrder(
        id=id_,
        shop_id=shop_id,
        shop=shop,
        source_id=source_id,
        name=name,
        status=_ORDER_STATUS[status],
        created_at=created_at,
        updated_at=updated_at,
        cancelled_at=cancelled_at,
        cancel_reason=cancel_reason,
        synced_at=synced_at,
    )


def to_item(row: Any) -> StoredItem:
    """``row``: the values of :data:`ITEM_COLUMNS`."""
    id_, order_id, source_id, sku, title, quantity, fulfilled_quantity, canceled_quantity, status = row
    return StoredItem(
        id=id_,
        order_id=order_id,
        source_id=source_id,
        sku=sku,
        title=title,
        quantity=quantity,
        fulfilled_quantity=fulfilled_quantity,
        canceled_quantity=canceled_quantity,
        status=_ITEM_STATUS[status],
    )


def to_cancellation(row: Any) -> Cancellation:
    """``row``: the values of :data:`CANCELLATION_COLUMNS`."""
    id_, item_id, order_id, shop_id, quantity, canceled_at, recorded_at, run_id, reason, evidence = row
    return Cancellation(
        id=id_,
        item_id=item_id,
        order_id=order_id,
        shop_id=shop_id,
        quantity=quantity,
        canceled_at=canceled_at,
        recorded_at=recorded_at,
        run_id=run_id,
        reason=reason,
        evidence=dict(evidence or {}),
    )


def to_token(row: Any) -> ApiToken:
    return ApiToken(
        id=row.id,
        name=row.name,
        role=TokenRole(row.role),
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )
