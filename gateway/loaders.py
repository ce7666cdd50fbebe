"""Per-request DataLoaders: every list of records a query touches is fetched in one batch.

Each loader turns the keys collected during one tick of the event loop into one storage
transaction in one worker thread. The StorageTx batch methods (``get_orders``,
``items_for_orders``, ``cancellations_for_items``, ``get_items``) make those one statement each;
jobs, runs and shops have no batch method in the storage contract, so their loaders make one
small indexed lookup per distinct key, still in a single transaction (a page lists a handful of
jobs and shops, never hundreds).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import anyio.to_thread
from strawberry.dataloader import DataLoader

from core import Cancellation, Job, JobRun, JobRunStatus, Shop, StorageTx, StoredItem, StoredOrder

if TYPE_CHECKING:
    from .context import Context
    from .orders.types import Order

K = TypeVar("K")
V = TypeVar("V")

ACTIVE = (JobRunStatus.QUEUED, JobRunStatus.RUNNING)


class Loaders:
    """The loaders of one request (or of one subscription tick)."""

    def __init__(self, context: Context) -> None:
        self._context = context
        batch = self._batch
        self.orders: DataLoader[int, StoredOrder | None] = batch(lambda tx, ids: _lookup(tx.get_orders(ids), ids))
        self.items: DataLoader[int, StoredItem | None] = batch(lambda tx, ids: _lookup(tx.get_items(ids), ids))
        self.items_by_order: DataLoader[int, list[StoredItem]] = batch(
            lambda tx, ids: _lists(tx.items_for_orders(ids), ids),
            prime=lambda lists: self.items.prime_many({i.id: i for items in lists for i in items}))
        self.cancellations_by_item: DataLoader[int, list[Cancellation]] = batch(
            lambda tx, ids: _lists(tx.cancellations_for_items(ids), ids))
        self.shops: DataLoader[int, Shop | None] = batch(_shops)
        self.jobs: DataLoader[int, Job | None] = batch(lambda tx, ids: [tx.get_job(i) for i in ids])
        self.jobs_by_shop: DataLoader[int, list[Job]] = batch(_jobs_by_shop)
        self.runs: DataLoader[int, JobRun | None] = batch(lambda tx, ids: [tx.get_run(i) for i in ids])
        self.latest_run: DataLoader[int, JobRun | None] = batch(lambda tx, ids: [tx.latest_run(i) for i in ids])
        self.last_successful_run: DataLoader[int, JobRun | None] = batch(
            lambda tx, ids: [tx.latest_run(i, status=JobRunStatus.SUCCEEDED) for i in ids])
        self.current_run: DataLoader[int, JobRun | None] = batch(
            lambda tx, ids: [current_run(tx.active_runs(i)) for i in ids])
        self.watermark: DataLoader[int, datetime | None] = batch(lambda tx, ids: [tx.get_watermark(i) for i in ids])
        self.queue_progress: DataLoader[int, dict[str, Any] | None] = DataLoader(self._queue_progress)

    def _batch(self, fetch: Callable[[StorageTx, list[Any]], Sequence[Any]],
               prime: Callable[[Sequence[Any]], None] | None = None) -> DataLoader[Any, Any]:
        async def load(keys: list[Any]) -> Sequence[Any]:
            values = await self._context.read(lambda tx: fetch(tx, list(keys)))
            if prime is not None:
                prime(values)
            return values

        return DataLoader(load)

    def remember_orders(self, records: Sequence[StoredOrder],
                        items: dict[int, list[StoredItem]] | None = None,
                        cancellations: dict[int, list[Cancellation]] | None = None) -> list[Order]:
        """Orders a listing read, with the items and cancellations it prefetched: primed here so
        no child field looks them up again, and returned as API objects carrying them."""
        from .orders.types import ItemCancellation, Order, OrderItem

        self.orders.prime_many({r.id: r for r in records})
        if items is None:
            return [Order.from_record(r) for r in records]
        self.items_by_order.prime_many({r.id: items.get(r.id, []) for r in records})
        self.items.prime_many({i.id: i for found in items.values() for i in found})
        if cancellations is not None:
            self.cancellations_by_item.prime_many(
                {i.id: cancellations.get(i.id, []) for found in items.values() for i in found})

        def item(record: StoredItem) -> OrderItem:
            if cancellations is None:
                return OrderItem.from_record(record)
            return OrderItem.from_record(
                record, [ItemCancellation.from_record(c) for c in cancellations.get(record.id, [])])

        return [Order.from_record(r, [item(i) for i in items.get(r.id, [])]) for r in records]

    async def _queue_progress(self, run_ids: list[int]) -> list[dict[str, Any] | None]:
        queue = self._context.queue
        return await anyio.to_thread.run_sync(lambda: [queue.progress(i) for i in run_ids])


def current_run(active: Sequence[JobRun]) -> JobRun | None:
    """The run a job is busy with: the running one, else the oldest queued one."""
    running = [r for r in active if r.status is JobRunStatus.RUNNING]
    if running:
        return min(running, key=lambda r: r.id)
    queued = [r for r in active if r.status is JobRunStatus.QUEUED]
    return min(queued, key=lambda r: r.id) if queued else None


def _lookup(found: dict[K, V], keys: list[K]) -> list[V | None]:
    return [found.get(k) for k in keys]


def _lists(found: dict[K, list[V]], keys: list[K]) -> list[list[V]]:
    return [found.get(k, []) for k in keys]


def _shops(tx: StorageTx, shop_ids: list[int]) -> list[Shop | None]:
    if len(shop_ids) == 1:
        return [tx.get_shop(shop_ids[0])]
    every = {s.id: s for s in tx.list_shops()}  # shops are few: one listing beats a lookup each
    return [every.get(i) for i in shop_ids]


def _jobs_by_shop(tx: StorageTx, shop_ids: list[int]) -> list[list[Job]]:
    if len(shop_ids) == 1:
        return [tx.list_jobs(shop_ids[0])]
    grouped: dict[int, list[Job]] = {}
    for job in tx.list_jobs():
        grouped.setdefault(job.shop_id, []).append(job)
    return [grouped.get(i, []) for i in shop_ids]
