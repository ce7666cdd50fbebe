"""A long window read through several bulk queries at once (API 2026-01 and later).

From 2026-01 Shopify runs up to five bulk queries per app and shop at the same time
(research/shopify-2026-updates.md); earlier versions run one. A backfill's window is cut into
that many parts (:func:`split_window`: whole-second edges, balanced by ``ordersCount`` over finer
cuts, a point each), one bulk query per part, all started at once. The source polls the running
ones together and reads each result as soon as its query completes, one result at a time, so
memory is one reader's (constant), and a part finished early is stored while the others run.

A part whose query Shopify refuses because the shop's slots are taken (another run's bulk
queries, ``LIMIT_REACHED``) waits for one of ours to finish and is started then; with none of
ours running it waits up to the bulk options' ``busy_wait`` and is then paged, as is a part whose
query fails (from where its partial data ends, when that can be trusted).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from core import FetchStats, OrderPage, Window

from .bulk import (
    BulkOptions,
    BulkStatus,
    BulkUnavailable,
    count_orders,
    newer_or_equal,
    poll_bulk,
    result_pages,
    start_bulk,
)
from .client import ShopifyClient
from .slices import time_slices
from .streams import describe_window

log = logging.getLogger("sync_gateway.shopify")

CONCURRENT_FROM = "2026-01"
CONCURRENT_LIMIT = 5
CUTS_PER_PART = 4
"""Finer cuts counted per part: parts are balanced to within about a quarter of one."""

Fallback = Callable[[Window, BulkUnavailable], AsyncIterator[OrderPage]]
"""Pages a part (or its rest) when its bulk query cannot serve it."""
Single = Callable[[], AsyncIterator[OrderPage]]
"""The whole window through one bulk query (a window too small to split)."""
Measured = Callable[[BulkStatus, float], None]
"""Told of every completed query with the seconds it ran (for the learned threshold)."""


def concurrent_bulk_limit(api_version: str) -> int:
    """Bulk queries Shopify runs at once per app and shop on ``api_version``."""
    return CONCURRENT_LIMIT if newer_or_equal(api_version, CONCURRENT_FROM) else 1


async def split_window(client: ShopifyClient, window: Window, parts: int, stats: FetchStats, *,
                       min_part_orders: int = BulkOptions().min_part_orders) -> list[Window]:
    """``window`` cut into at most ``parts`` contiguous parts holding about as many orders each.

    The window is counted (one ``ordersCount``, about a point): fewer parts when it holds fewer
    than ``min_part_orders`` per part, none when one. Then it is cut into ``parts x
    CUTS_PER_PART`` time slices, counted side by side, and neighbouring slices are joined while
    a part holds less than its share.
    """
    if parts <= 1:
        return [window]
    total = await count_orders(client, window, limit=None, stats=stats)
    parts = max(1, min(parts, total // max(1, min_part_orders)))
    if parts <= 1:
        return [window]
    cuts = time_slices(window.start, window.end, parts * CUTS_PER_PART)
    # Counted side by side: one round trip for all of them (each reserves its point first).
    counts = list(await asyncio.gather(*(count_orders(client, cut, limit=None, stats=stats) for cut in cuts)))
    total = sum(counts)
    share = total / parts
    edges = [window.start]
    held = 0
    for cut, count in zip(cuts[:-1], counts[:-1], strict=True):
        held += count
        # Close the part at this cut once it holds its share (and parts remain to be closed).
        if held >= share * len(edges) and len(edges) < parts:
            edges.append(cut.end)
    edges.append(window.end)
    return [Window(a, b) for a, b in zip(edges, edges[1:], strict=False)]


@dataclass(slots=True)
class _Part:
    window: Window
    operation: str | None = None
    started: float = 0.0
    status: BulkStatus | None = None


async def parallel_bulk_pages(client: ShopifyClient, window: Window, options: BulkOptions, *, parts: int,
                              fallback: Fallback, single: Single,
                              measured: Measured | None = None) -> AsyncIterator[OrderPage]:
    """Every order of ``window``, read through up to ``parts`` bulk queries at once (``single``
    when the window is not worth splitting)."""
    pending = FetchStats()  # requests not yet reported with a page
    windows = await split_window(client, window, parts, pending, min_part_orders=options.min_part_orders)
    if len(windows) == 1:
        async for page in _with_stats(single(), pending):
            yield page
        return
    queued = [_Part(part) for part in windows]
    running: list[_Part] = []
    log.info("Shopify shop %s: reading %s through %d bulk queries at once", client.shop, describe_window(window),
             len(queued))
    clock = client.pacer.clock
    pause, waited = options.poll_first, 0.0
    may_start = True  # False once the shop refused: try again when a slot may have freed
    while queued or running:
        still: list[_Part] = []
        for part in queued:
            if not may_start:
                still.append(part)
                continue
            try:
                part.operation = await start_bulk(client, part.window, options, pending, wait=False)
                part.started = clock()
                running.append(part)
            except BulkUnavailable as unavailable:
                if unavailable.busy and (running or waited < options.busy_wait):
                    may_start = False
                    still.append(part)
                    continue
                async for page in _with_stats(fallback(part.window, unavailable), pending):
                    pending = FetchStats()
                    yield page
        queued = still
        if not running:
            if queued:  # other runs hold every slot: wait for them, up to busy_wait
                await client.sleep(1.0)
                waited += 1.0
                may_start = True
            continue
        waited = 0.0
        # Polled side by side: one round trip for all of them, not one each.
        statuses = await asyncio.gather(*(poll_bulk(client, part.operation or "", pending, part.window)
                                          for part in running))
        for part, status in zip(running, statuses, strict=True):
            part.status = status
        finished = [part for part in running if part.status is not None and part.status.finished]
        if not finished:
            await client.sleep(pause)
            pause = min(pause * 1.5, options.poll_max)
            continue
        pause, may_start = options.poll_first, True
        for part in finished:
            running.remove(part)
            assert part.status is not None
            if measured is not None and part.status.status == "COMPLETED":
                measured(part.status, clock() - part.started)
            result = result_pages(client, part.status, options, pending, part.window)
            pending = FetchStats()
            try:
                async for page in result:
                    yield page
            except BulkUnavailable as unavailable:
                log.warning("Shopify shop %s: %s; paging the rest of %s", client.shop, unavailable.reason,
                            describe_window(part.window))
                async for page in fallback(part.window, unavailable):
                    yield page
    if pending.requests:
        yield OrderPage(orders=(), stats=pending)


async def _with_stats(pages: AsyncIterator[OrderPage], pending: FetchStats) -> AsyncIterator[OrderPage]:
    """``pages`` with ``pending``'s requests added to the first one."""
    first = True
    async for page in pages:
        if first:
            page.stats.add(pending)
            first = False
        yield page


__all__ = ["concurrent_bulk_limit", "parallel_bulk_pages", "split_window"]

