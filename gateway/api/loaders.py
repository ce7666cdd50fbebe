"""Per-request DataLoaders: every list of records a query touches is fetched in one batch.

Each loader turns the keys collected during one tick of the event loop into one read-only
storage transaction in one worker thread, and each StorageTx batch method (``get_orders``,
``items_for_orders``, ``get_jobs``, ``latest_runs``, ``get_watermarks``...) makes that one
statement. Shops have no batch method: they are few, so several are read with one listing.

Records a listing already read (a page's orders, their items and cancellations) are *known*:
a loader answers them from memory without a thread or a transaction. Knowing them costs a dict
update; priming the DataLoaders' caches instead would build a future per record.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

import anyio.to_thread
from strawberry.dataloader import DataLoader

from core import Cancellation, Job, JobRun, JobRunStatus, RunProgress, Shop, StorageTx, StoredItem, StoredOrder

if TYPE_CHECKING:
    from .context import Context
    from .orders.types import Order

K = TypeVar("K")
V = TypeVar("V")

ACTIVE = (JobRunStatus.QUEUED, JobRunStatus.RUNNING)


class Loaders:
    """The loaders of one request (or of one subscription tick), each made on first use."""

    def __init__(self, context: Context) -> None:
        self._context = context
        self._known_orders: dict[int, StoredOrder] = {}
        self._known_items: dict[int, StoredItem] = {}
        self._known_items_by_order: dict[int, list[StoredItem]] = {}
        self._known_cancellations_by_item: dict[int, list[Cancellation]] = {}

    @cached_property
    def orders(self) -> DataLoader[int, StoredOrder | None]:
        return self._batch(lambda tx, ids: _lookup(tx.get_orders(ids), ids), self._known_orders)

    @cached_property
    def items(self) -> DataLoader[int, StoredItem | None]:
        return self._batch(lambda tx, ids: _lookup(tx.get_items(ids), ids), self._known_items)

    @cached_property
    def items_by_order(self) -> DataLoader[int, list[StoredItem]]:
        def learn(lists: Sequence[list[StoredItem]]) -> None:
            self._known_items.update((i.id, i) for items in lists for i in items)

        return self._batch(lambda tx, ids: _lists(tx.items_for_orders(ids), ids), self._known_items_by_order,
                           learn)

    @cached_property
    def cancellations_by_item(self) -> DataLoader[int, list[Cancellation]]:
        return self._batch(lambda tx, ids: _lists(tx.cancellations_for_items(ids), ids),
                           self._known_cancellations_by_item)

    @cached_property
    def shops(self) -> DataLoader[int, Shop | None]:
        return self._batch(_shops)

    @cached_property
    def jobs(self) -> DataLoader[int, Job | None]:
        return self._batch(lambda tx, ids: _lookup(tx.get_jobs(ids), ids))

    @cached_property
    def jobs_by_shop(self) -> DataLoader[int, list[Job]]:
        return self._batch(_jobs_by_shop)

    @cached_property
    def runs(self) -> DataLoader[int, JobRun | None]:
        return self._batch(lambda tx, ids: _lookup(tx.get_runs(ids), ids))

    @cached_property
    def latest_run(self) -> DataLoader[int, JobRun | None]:
        return self._batch(lambda tx, ids: _lookup(tx.latest_runs(ids), ids))

    @cached_property
    def last_successful_run(self) -> DataLoader[int, JobRun | None]:
        return self._batch(lambda tx, ids: _lookup(tx.latest_runs(ids, status=JobRunStatus.SUCCEEDED), ids))

    @cached_property
    def current_run(self) -> DataLoader[int, JobRun | None]:
        return self._batch(lambda tx, ids: [current_run(runs) for runs in _lists(tx.active_runs_for_jobs(ids), ids)])

    @cached_property
    def watermark(self) -> DataLoader[int, datetime | None]:
        return self._batch(lambda tx, ids: _lookup(tx.get_watermarks(ids), ids))

    @cached_property
    def queue_progress(self) -> DataLoader[int, RunProgress | None]:
        return DataLoader(self._queue_progress)

    def _batch(self, fetch: Callable[[StorageTx, list[Any]], Sequence[Any]], known: dict[Any, Any] | None = None,
               learn: Callable[[Sequence[Any]], None] | None = None) -> DataLoader[Any, Any]:
        async def load(keys: list[Any]) -> Sequence[Any]:
            missing = [k for k in keys if k not in known] if known else list(keys)
            if not missing:
                return [known[k] for k in keys]  # type: ignore[index]
            values = await self._context.read(lambda tx: fetch(tx, missing))
            if learn is not None:
                learn(values)
            if len(missing) == len(keys):
                return values
            fetched = dict(zip(missing, values, strict=True))
            return [fetched[k] if k in fetched else known[k] for k in keys]  # type: ignore[index]

        return DataLoader(load)

    def remember_orders(self, records: Sequence[StoredOrder],
                        items: dict[int, list[StoredItem]] | None = None,
                        cancellations: dict[int, list[Cancellation]] | None = None) -> list[Order]:
        """Orders a listing read, with the items and cancellations it prefetched: known from now
        on, so no child field looks them up again, and returned as API objects carrying them."""
        from .orders.types import ItemCancellation, Order, OrderItem

        self._known_orders.update((r.id, r) for r in records)
        if items is None:
            return [Order.from_record(r) for r in records]
        self._known_items_by_order.update((r.id, items.get(r.id, [])) for r in records)
        self._known_items.update((i.id, i) for found in items.values() for i in found)
        if cancellations is None:
            return [Order.from_record(r, [OrderItem.from_record(i) for i in items.get(r.id, [])]) for r in records]
        self._known_cancellations_by_item.update(
            (i.id, cancellations.get(i.id, [])) for found in items.values() for i in found)
        return [Order.from_record(r, [OrderItem.from_record(i, [ItemCancellation.from_record(c)
                                                                for c in cancellations.get(i.id, [])])
                                      for i in items.get(r.id, [])])
                for r in records]  # fmt: skip

    async def _queue_progress(self, run_ids: list[int]) -> list[RunProgress | None]:
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
