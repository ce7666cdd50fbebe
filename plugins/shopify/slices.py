"""Round trips overlapped: the rest of a window read as time slices, paged side by side.

One cursor chain waits a full round trip per page: 2,000 orders at 200 ms per call took 20
calls in a row, though Standard's bucket would let the whole window be read at once. So after
the window's first page (which also counts the window), what is left of it is cut into time
slices, each its own cursor chain over ``updated_at:>='a' AND updated_at:<'b'``, and several
chains are paged at once.

How many chains run at once (:func:`slices_in_flight`) follows the shop's budget and the
latency the client observes: enough to hide the round trips, no more than the shared ledger can
hold at once, and no more than the setting ``shopify_slices_in_flight``. It is decided again
each time a slice starts, so a budget that another run of the shop drains, or replies that slow
down, lower it. Every request still reserves its points in the shop's ledger first, so a slice
never sends what the bucket cannot take: slices wait their turn rather than being throttled.

What each guarantee rests on:

- **No order lost or doubled at a slice edge.** Edges are whole seconds, like ``updatedAt``, and
  slices are half-open: an order updated exactly at an edge matches the later slice only. The
  first slice starts at the first page's last ``updatedAt`` (not after it: orders of the same
  second may follow it), and the order states the first page already gave are skipped there.
- **Nested pages as before.** Each slice is :func:`.streams.window_pages`: every order's
  overflowing line items and refund lines are completed before its page is yielded.
- **Idempotent pages, watermark after the whole window.** Pages arrive in whatever order the
  slices finish them; storing keeps the newest ``updatedAt`` of an order whatever the order of
  arrival. If any slice fails, the others are cancelled and the error ends the read: the engine
  advances the watermark only after a window read to its end, so the next run reads it again.
- **Orders updated mid-run.** An order that changes while the window is read leaves it (a
  window ends in the past) and is read by the next run, whose window starts before this end; a
  window reaching into the present meets the new state in its last slice, which is yielded too.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from core import OrderPage, Window

from .client import ShopifyClient
from .pacing import ThrottleStatus
from .sizing import Sizer
from .streams import describe_window, window_pages

log = logging.getLogger("sync_gateway.shopify")

SLICES_PER_CHAIN = 2
"""Slices cut per chain allowed in flight: orders are rarely spread evenly over a window, and a
queue of slices lets the chains that finish early take the next one."""

MAX_SLICES = 64


@dataclass(frozen=True, slots=True)
class PageCost:
    """What the window's first page told about the next ones."""

    orders: int
    points: float
    """Actual points a page cost (its nested follow-ups included)."""
    requested: float
    """Points a page reserves before it is sent."""


def slices_in_flight(*, pages_left: float, round_trip: float | None, cost: PageCost,
                     budget: ThrottleStatus | None, limit: int) -> int:
    """How many slices to page at once for ``pages_left`` more pages: the ``n`` that reads them
    soonest, by the latency and by the bucket.

    With ``n`` chains the round trips take ``pages_left / n x round_trip``. The bucket must hold
    what the pages spend (``pages_left x points``) plus the reservations of the ``n`` queries in
    flight (each holds its requested cost until its reply settles it), refilling at the restore
    rate what it does not hold now: ``(pages_left x points + n x requested - available) /
    restore_rate``. The read takes the longer of the two; more chains shorten the first and
    lengthen the second. Ties go to fewer chains; never more than ``limit``.
    """
    if limit <= 1 or pages_left <= 1 or not round_trip or budget is None:
        return 1
    available = max(0.0, budget.currently_available)
    spend = pages_left * cost.points

    def seconds(chains: int) -> float:
        refill = max(0.0, spend + chains * cost.requested - available) / budget.restore_rate
        return max(pages_left * round_trip / chains, refill)

    best = 1
    for chains in range(2, min(limit, math.ceil(pages_left)) + 1):
        if seconds(chains) < seconds(best) - 1e-9:
            best = chains
    return best


def time_slices(start: datetime, end: datetime, count: int) -> list[Window]:
    """``[start, end)`` cut into at most ``count`` half-open slices with whole-second inner edges
    (``start`` is an ``updatedAt``, a whole second; ``end`` is the window's own end)."""
    total = math.floor((end - start).total_seconds())
    edges = [start]
    for number in range(1, count):
        edge = start + timedelta(seconds=math.floor(total * number / count))
        if edges[-1] < edge < end:
            edges.append(edge)
    edges.append(end)
    return [Window(a, b) for a, b in zip(edges, edges[1:], strict=False)]


class _Done:
    __slots__ = ()


_DONE = _Done()


async def rest_in_slices(client: ShopifyClient, window: Window, first: OrderPage, *, count: int, page_size: int,
                         limit: int, sizer: Sizer) -> AsyncIterator[OrderPage] | None:
    """The pages of ``window`` after its ``first`` page, read in overlapping slices; None when
    slicing cannot help (the rest fits a page, or only one chain would run): page on instead.
    ``sizer`` is the page plan the first page taught; every slice pages with it."""
    if not first.orders or limit <= 1:
        return None
    per_page = len(first.orders)
    pages_left = (count - per_page) / per_page
    # What later pages reserve: the plan as the first page taught it (cheaper than the first's).
    cost = PageCost(per_page, first.stats.actual_cost, sizer.plan().estimate * sizer.scale)

    def chains(left: float, holding: int = 0) -> int:
        """Chains for ``left`` pages, ``holding`` chains of ours in flight (their holds count as free)."""
        budget = client.pacer.ledger.estimate()
        if budget is not None and holding:
            budget = ThrottleStatus(budget.maximum_available,
                                    budget.currently_available + holding * cost.requested, budget.restore_rate)
        return slices_in_flight(pages_left=left, round_trip=client.round_trip, cost=cost, budget=budget, limit=limit)

    in_flight = chains(pages_left)
    if in_flight <= 1:
        return None
    edge = first.orders[-1].updated_at
    given = {order.source_id: order.updated_at for order in first.orders if order.updated_at >= edge}
    slices = time_slices(edge, window.end, min(MAX_SLICES, math.ceil(pages_left), SLICES_PER_CHAIN * in_flight))
    log.info("Shopify shop %s: reading the rest of %s (about %d orders) in %d slices, %d at once",
             client.shop, describe_window(window), count - per_page, len(slices), in_flight)
    return _overlapped(client, window, slices, given, page_size=page_size, sizer=sizer,
                       chains=lambda done, active: min(in_flight, chains(pages_left * (len(slices) - done) / len(slices),
                                                                         active)))


async def _overlapped(client: ShopifyClient, window: Window, slices: list[Window], given: dict[str, datetime], *, page_size: int,
                      sizer: Sizer, chains: Callable[[int, int], int]) -> AsyncIterator[OrderPage]:
    """Page ``slices`` side by side, at most ``chains(slices done, slices running)`` at once;
    yield pages as they come."""
    # Bounded: slices that run ahead of storage wait, so memory stays a few pages per chain.
    queue: asyncio.Queue[OrderPage | _Done | BaseException] = asyncio.Queue(maxsize=2 * chains(0, 0))

    async def read(part: Window, seen: dict[str, datetime] | None) -> None:
        try:
            async for page in window_pages(client, part, page_size=page_size, seen=seen, part_of=window,
                                         sizer=sizer):
                await queue.put(page)
        except asyncio.CancelledError:
            raise
        except BaseException as failure:  # handed to the reader, which raises it
            await queue.put(failure)
            return
        await queue.put(_DONE)

    waiting = list(reversed(slices))
    tasks: list[asyncio.Task[None]] = []
    active = done = 0
    try:
        while waiting or active:
            while waiting and active < max(1, chains(done, active)):
                seen = given if len(waiting) == len(slices) else None
                tasks.append(asyncio.create_task(read(waiting.pop(), seen)))
                active += 1
            item = await queue.get()
            if isinstance(item, OrderPage):
                yield item
            elif isinstance(item, _Done):
                active -= 1
                done += 1
            else:
                raise item
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
