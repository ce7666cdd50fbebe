"""The orders stream: every order updated in a window, a page at a time, each one complete.

Pages follow ``orders(sortKey: UPDATED_AT, query: "updated_at:>='…' AND updated_at:<'…'")``
cursor by cursor; the page plan (page size and nested sizes) adapts to the cost Shopify reports;
each order's overflowing nested lists are completed (:mod:`.pagination`) before its page is
yielded; an order met twice in one window is yielded again only if it changed in between.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, MutableMapping
from datetime import UTC, datetime, timedelta
from typing import Any

from core import FetchStats, OrderPage, SourceDataError, SourceOrder, Window

from . import queries, sizing
from .client import QueryTooExpensive, Reply, ShopifyClient
from .pagination import complete_order
from .parse import parse_order
from .sizing import PagePlan, Sizer

ORDER_GID_PREFIX = "gid://shopify/Order/"
_SECOND = timedelta(seconds=1)


def search_time(moment: datetime) -> str:
    """``moment`` as Shopify's search syntax wants it, rounded *up* to the whole second.

    ``updatedAt`` has whole seconds, so for a timestamp ``t`` of Shopify's, ``t >= x`` and
    ``t >= ceil(x)`` agree, as do ``t < x`` and ``t < ceil(x)``: rounding up keeps the window
    half-open without losing or adding an order.
    """
    utc = moment.astimezone(UTC)
    if utc.microsecond:
        utc = utc.replace(microsecond=0) + timedelta(seconds=1)
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def window_search(window: Window) -> str:
    """The ``query`` argument selecting orders updated in ``[start, end)``."""
    return f"updated_at:>='{search_time(window.start)}' AND updated_at:<'{search_time(window.end)}'"


def describe_window(window: Window) -> str:
    return f"[{search_time(window.start)}, {search_time(window.end)})"


class WindowCount:
    """Receives the window's size from its first page, when asked for (``count_limit``)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count: int | None = None
        """Orders in the window, at most ``limit``; None until the first page (or if Shopify sent none)."""


async def window_pages(
    client: ShopifyClient, window: Window, *, page_size: int, count: WindowCount | None = None,
    seen: dict[str, datetime] | None = None, part_of: Window | None = None, sizer: Sizer | None = None,
) -> AsyncIterator[OrderPage]:
    """Yield the orders updated in ``window``, ``page_size`` (at most) per page.

    With ``count``, the first page's query also counts the window (one point, no extra request)
    and fills in ``count.count`` before the first page is yielded. ``seen`` (order GID to
    ``updatedAt``) names order states already yielded elsewhere: they are not yielded again.
    ``part_of``: the window ``window`` is a slice of (messages name both). ``sizer``: the page
    plan to use and teach (slices of one window share what its first page learned).
    """
    sizer = sizer if sizer is not None else Sizer(page_size)
    search = window_search(window)
    seen = dict(seen or {})
    cursor: str | None = None
    page_number = 0
    while True:
        page_number += 1
        slice_of = f", slice of {describe_window(part_of)}" if part_of is not None else ""
        what = f"reading orders updated in {describe_window(window)} (page {page_number}{slice_of})"
        stats = FetchStats()
        counting = count is not None and page_number == 1
        reply, plan = await _orders_page(client, sizer, search, cursor, stats, what,
                                         count_limit=count.limit if counting and count else None)
        if counting and count is not None:
            counted = reply.data.get("ordersCount")
            value = counted.get("count") if isinstance(counted, Mapping) else None
            count.count = value if isinstance(value, int) and not isinstance(value, bool) else None
        connection = reply.data.get("orders")
        if not isinstance(connection, Mapping):
            raise SourceDataError(f"Shopify shop {client.shop} sent no orders connection while {what}")
        nodes = connection.get("nodes")
        if not isinstance(nodes, list):
            raise SourceDataError(f"Shopify shop {client.shop} sent orders without a nodes list while {what}")
        sizer.learn(nodes)  # before completion changes them
        orders: list[SourceOrder] = []
        for node in nodes:
            order = await _complete(client, node, plan, stats, what)
            # An order updated while we page moves behind the cursor and can come round again
            # (only when the window reaches into the present): the same state is skipped, a newer
            # one is passed on, since storing a verdict twice is harmless and missing one is not.
            if seen.get(order.source_id, order.updated_at - _SECOND) < order.updated_at:
                seen[order.source_id] = order.updated_at
                orders.append(order)
        yield OrderPage(orders=tuple(orders), stats=stats)
        if len(seen) > 4 * page_size and orders:
            # Later pages hold only orders updated at or after this page's first: an older entry
            # can no longer meet its own state again, so memory stays flat however big the window.
            oldest = orders[0].updated_at
            seen = {gid: at for gid, at in seen.items() if at >= oldest}
        next_cursor = _next_page(connection, client.shop, what)
        if next_cursor is None:
            return
        if next_cursor == cursor:
            raise SourceDataError(f"Shopify shop {client.shop} repeated a page cursor while {what}")
        cursor = next_cursor


async def one_order(client: ShopifyClient, source_id: str) -> OrderPage:
    """The order ``source_id`` (a GID or a numeric id), complete; an empty page if it is gone."""
    gid = order_gid(source_id)
    what = f"reading order {gid}"
    stats = FetchStats()
    plan = Sizer(1).plan()
    while True:
        try:
            reply = await client.execute(
                queries.ORDER,
                {"id": gid, **_nested(plan)},
                stats=stats,
                requested=sizing.order_plan_estimate(plan),
                what=what,
            )
            break
        except QueryTooExpensive:
            if plan.smallest:
                raise SourceDataError(f"Shopify finds even the smallest query too expensive while {what}") from None
            plan = plan.halved()
    node = reply.data.get("order")
    if node is None:
        return OrderPage(orders=(), stats=stats)
    return OrderPage(orders=(await _complete(client, node, plan, stats, what),), stats=stats)


def order_gid(source_id: str) -> str:
    """Accept ``gid://shopify/Order/123`` or ``123``; reject anything else."""
    text = str(source_id).strip()
    if text.isdigit():
        return f"{ORDER_GID_PREFIX}{text}"
    if text.startswith(ORDER_GID_PREFIX) and text[len(ORDER_GID_PREFIX) :].isdigit():
        return text
    raise SourceDataError(f"{source_id!r} is not a Shopify order id", suggestion="expected gid://shopify/Order/<number>")


async def _orders_page(
    client: ShopifyClient,
    sizer: Sizer,
    search: str,
    cursor: str | None,
    stats: FetchStats,
    what: str,
    *,
    count_limit: int | None = None,
) -> tuple[Reply, PagePlan]:
    """Fetch one page (with the window's count up to ``count_limit``, if given), shrinking the
    plan while Shopify finds it too expensive."""
    status = client.pacer.status
    if status is not None:
        sizer.limit_to_bucket(status.maximum_available)
    plan = sizer.plan()
    operation, extra, counted = queries.ORDERS_WINDOW, {}, 0.0
    if count_limit is not None:
        operation, extra, counted = queries.ORDERS_WINDOW_COUNTED, {"countLimit": count_limit}, 1.0
    while True:
        variables = {**plan.variables(), "after": cursor, "query": search, **extra}
        try:
            reply = await client.execute(
                operation, variables, stats=stats, requested=plan.estimate * sizer.scale + counted, what=what
            )
        except QueryTooExpensive as exc:
            try:
                plan = sizer.too_expensive(plan, exc.cost, exc.limit)
            except ValueError:
                raise SourceDataError(
                    f"Shopify shop {client.shop} finds even a one-order page too expensive while {what}"
                ) from None
            continue
        sizer.observe(plan, reply.requested_cost)
        _check_search_warnings(reply, client.shop, what)
        return reply, plan


async def _complete(client: ShopifyClient, node: Any, plan: PagePlan, stats: FetchStats, what: str) -> SourceOrder:
    if not isinstance(node, MutableMapping):
        raise SourceDataError(f"Shopify shop {client.shop} sent an order that is not an object while {what}")
    await complete_order(client, node, plan, stats, what)
    return parse_order(node)


def _check_search_warnings(reply: Reply, shop: str, what: str) -> None:
    """Shopify drops a search term it cannot use and only warns, which would widen the window."""
    searches = reply.extensions.get("search")
    warnings = [
        str(warning.get("message", warning)) if isinstance(warning, Mapping) else str(warning)
        for search in (searches if isinstance(searches, list) else [])
        if isinstance(search, Mapping)
        for warning in (search.get("warnings") or [])
    ]
    if warnings:
        raise SourceDataError(
            f"Shopify shop {shop} ignored part of the window filter while {what}: {'; '.join(warnings)[:300]}",
            suggestion="the API version may not support the updated_at search field",
        )


def _next_page(connection: Mapping[str, Any], shop: str, what: str) -> str | None:
    info = connection.get("pageInfo")
    if not isinstance(info, Mapping) or not isinstance(info.get("hasNextPage"), bool):
        raise SourceDataError(f"Shopify shop {shop} sent an unreadable pageInfo while {what}")
    if not info["hasNextPage"]:
        return None
    cursor = info.get("endCursor")
    if not isinstance(cursor, str) or not cursor:
        raise SourceDataError(f"Shopify shop {shop} sent hasNextPage without an endCursor while {what}")
    return cursor


def _nested(plan: PagePlan) -> dict[str, int]:
    return {
        "lineItemsFirst": plan.line_items_first,
        "refundsFirst": plan.refunds_first,
        "refundLinesFirst": plan.refund_lines_first,
    }

