"""The edge of the plugin: rows (ORM objects or Core rows, read by attribute) become ``core`` records."""

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
    RunTrigger,
    Schedule,
    Shop,
    StoredItem,
    StoredOrder,
    TokenRole,
)


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
        progress=dict(row.progress or {}),
        **plain,
    )


def to_order(row: Any) -> StoredOrder:
    """``row`` carries the order's columns plus ``shop_name``."""
    return StoredOrder(
        id=row.id,
        shop_id=row.shop_id,
        shop=row.shop_name,
        source_id=row.source_id,
        name=row.name,
        status=OrderStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        cancelled_at=row.cancelled_at,
        cancel_reason=row.cancel_reason,
        synced_at=row.synced_at,
    )


def to_item(row: Any) -> StoredItem:
    return StoredItem(
        id=row.id,
        order_id=row.order_id,
        source_id=row.source_id,
        sku=row.sku,
        title=row.title,
        quantity=row.quantity,
        fulfilled_quantity=row.fulfilled_quantity,
        canceled_quantity=row.canceled_quantity,
        status=OrderItemStatus(row.status),
    )


def to_cancellation(row: Any) -> Cancellation:
    return Cancellation(
        id=row.id,
        item_id=row.item_id,
        order_id=row.order_id,
        shop_id=row.shop_id,
        quantity=row.quantity,
        canceled_at=row.canceled_at,
        recorded_at=row.recorded_at,
        run_id=row.run_id,
        reason=row.reason,
        evidence=dict(row.evidence or {}),
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
