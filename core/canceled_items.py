"""The canceled-items job: read a window of updated orders, mark newly canceled units.

Fetching and storing overlap: the next page is requested while the current one is judged and
written (``RunContext.store_page`` works in a thread, so the event loop keeps the source's
connection busy). It uses only its :class:`~core.RunContext`, as a third-party job kind would.
"""

from __future__ import annotations

import time
from datetime import datetime
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from anyio.abc import ObjectReceiveStream

from .errors import GatewayError, LeaseLost
from .jobkinds import RunContext, RunOutcome
from .models import FetchStats, OrderPage, RunProgress


class CanceledItemsJob:
    """Built-in job kind ``canceled-items``."""

    name = "canceled-items"
    description = "Import orders updated in the window and mark units canceled before fulfilment."
    create_per_shop = True

    async def run(self, context: RunContext) -> RunOutcome:
        stats = FetchStats()
        orders_seen = items = units = orders_canceled = pages = 0
        started = time.monotonic()
        last: datetime | None = None

        def report() -> None:
            context.report(RunProgress(
                pages=pages, orders_seen=orders_seen, items_canceled=items, units_canceled=units,
                orders_canceled=orders_canceled, checkpoint=last, api_cost=stats.actual_cost,
                throttled=stats.throttled, retries=stats.retries, bucket_available=stats.bucket_available,
                bucket_maximum=stats.bucket_maximum, elapsed_seconds=round(time.monotonic() - started, 3)))

        try:
            async with context.open_source() as source, _unwrapped_errors(), anyio.create_task_group() as tg:
                send, receive = anyio.create_memory_object_stream[OrderPage](max_buffer_size=1)
                tg.start_soon(_produce, source.fetch_orders(context.window, page_size=context.page_size), send)
                async for page in _drain(receive):
                    result = await context.store_page(page)
                    pages += 1
                    orders_seen += len(page.orders)
                    items += result.items_canceled
                    units += result.units_canceled
                    orders_canceled += result.orders_canceled
                    stats.add(page.stats)
                    last = page.orders[-1].updated_at if page.orders else None
                    report()
        except GatewayError as failure:
            # The failed page's requests, throttled replies and retries count in the history too.
            if failure.stats is not None and not isinstance(failure, LeaseLost):
                stats.add(failure.stats)
                report()
            raise
        return RunOutcome(
            orders_seen=orders_seen,
            items_canceled=items,
            units_canceled=units,
            orders_canceled=orders_canceled,
            pages=pages,
            stats=stats,
        )


@asynccontextmanager
async def _unwrapped_errors() -> AsyncIterator[None]:
    """Re-raise the cause of a task-group failure, not the group: a run's error message must
    name the source's error (a wrong token, a retired API version), not "ExceptionGroup"."""
    try:
        yield
    except BaseExceptionGroup as group:
        raise _first_cause(group) from group


def _first_cause(group: BaseExceptionGroup[BaseException]) -> BaseException:
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            return _first_cause(exc)
        if not isinstance(exc, anyio.get_cancelled_exc_class()):
            return exc
    return group.exceptions[0]


async def _produce(pages: AsyncIterator[OrderPage], send: anyio.abc.ObjectSendStream[OrderPage]) -> None:
    async with send:
        async for page in pages:
            await send.send(page)


async def _drain(receive: ObjectReceiveStream[OrderPage]) -> AsyncIterator[OrderPage]:
    async with receive:
        async for page in receive:
            yield page
