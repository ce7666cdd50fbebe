"""Completing an order's nested lists: line items and refund lines past the first page.

The window query asks for the first ``lineItemsFirst`` line items, ``refundsFirst`` refunds and
``refundLinesFirst`` lines per refund of every order. For the rare order with more, these
follow-up queries fetch the rest *before* the page is handed on, so every order a source yields
is complete (the cancellation verdict needs every line and every refund line).

``Order.refunds`` is a plain list truncated to ``first``, not a connection, so a full list is
fetched again with a large ``first``; ``lineItems`` and ``refundLineItems`` are connections and are
followed cursor by cursor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

from core import FetchStats, SourceDataError

from . import queries, sizing
from .client import QueryTooExpensive, Reply, ShopifyClient
from .sizing import PagePlan


async def complete_order(
    client: ShopifyClient, order: MutableMapping[str, Any], plan: PagePlan, stats: FetchStats, what: str
) -> None:
    """Fetch whatever of ``order`` (an ``OrderTree`` reply, changed in place) did not fit ``plan``."""
    gid = order.get("id")
    if not isinstance(gid, str):
        raise SourceDataError(f"Shopify sent an order without an id while {what}")
    label = _label(order)
    await _complete_line_items(client, order, gid, label, stats, what)
    refunds = order.get("refunds")
    if not isinstance(refunds, list):
        raise SourceDataError(f"Shopify sent {label} without its refunds list while {what}")
    if len(refunds) >= plan.refunds_first:
        refunds = await _all_refunds(client, gid, label, stats, what)
        order["refunds"] = refunds
    for refund in refunds:
        if isinstance(refund, MutableMapping):
            await _complete_refund_lines(client, refund, label, stats, what)


async def _complete_line_items(
    client: ShopifyClient, order: MutableMapping[str, Any], gid: str, label: str, stats: FetchStats, what: str
) -> None:
    connection = _connection(order, "lineItems", label)
    cursor = _next_cursor(connection, label, "lineItems")
    while cursor is not None:

        def variables(first: int, after: str = cursor) -> dict[str, Any]:
            return {"id": gid, "first": first, "after": after}

        reply = await _execute_shrinking(
            client, queries.ORDER_LINE_ITEMS, variables, sizing.line_items_estimate, stats, f"{what}, {label} lines"
        )
        page = _connection(_order_of(reply, label), "lineItems", label)
        connection["nodes"].extend(page["nodes"])
        previous, cursor = cursor, _next_cursor(page, label, "lineItems")
        if cursor == previous:
            raise SourceDataError(f"Shopify repeated a line-item cursor of {label} while {what}")
    connection["pageInfo"] = {"hasNextPage": False, "endCursor": None}


async def _all_refunds(client: ShopifyClient, gid: str, label: str, stats: FetchStats, what: str) -> list[Any]:
    wanted = sizing.FOLLOW_UP_REFUNDS

    def variables(first: int) -> dict[str, Any]:
        return {"id": gid, "refundsFirst": wanted, "refundLinesFirst": first}

    reply = await _execute_shrinking(
        client,
        queries.ORDER_REFUNDS,
        variables,
        lambda first: sizing.refunds_estimate(wanted, first),
        stats,
        f"{what}, {label} refunds",
        start=sizing.FOLLOW_UP_REFUND_LINES,
    )
    refunds = _order_of(reply, label).get("refunds")
    if not isinstance(refunds, list):
        raise SourceDataError(f"Shopify sent {label} without its refunds list while {what}")
    if len(refunds) >= wanted:
        raise SourceDataError(
            f"{label} has {wanted} or more refunds, more than Shopify's refunds list can return",
            suggestion="sync this order by hand",
        )
    return refunds


async def _complete_refund_lines(
    client: ShopifyClient, refund: MutableMapping[str, Any], label: str, stats: FetchStats, what: str
) -> None:
    refund_id = refund.get("id")
    connection = _connection(refund, "refundLineItems", label)
    cursor = _next_cursor(connection, label, "refundLineItems")
    if cursor is not None and not isinstance(refund_id, str):
        raise SourceDataError(f"Shopify sent a refund of {label} without an id while {what}")
    while cursor is not None:

        def variables(first: int, after: str = cursor) -> dict[str, Any]:
            return {"id": refund_id, "first": first, "after": after}

        reply = await _execute_shrinking(
            client, queries.REFUND_LINE_ITEMS, variables, sizing.refund_lines_estimate, stats, f"{what}, {label} refund lines"
        )
        node = reply.data.get("node")
        if not isinstance(node, Mapping):
            raise SourceDataError(f"refund {refund_id} of {label} vanished while {what}")
        page = _connection(node, "refundLineItems", label)
        connection["nodes"].extend(page["nodes"])
        previous, cursor = cursor, _next_cursor(page, label, "refundLineItems")
        if cursor == previous:
            raise SourceDataError(f"Shopify repeated a refund-line cursor of {label} while {what}")
    connection["pageInfo"] = {"hasNextPage": False, "endCursor": None}


async def _execute_shrinking(
    client: ShopifyClient,
    operation: str,
    variables: Callable[[int], dict[str, Any]],
    estimate: Callable[[int], float],
    stats: FetchStats,
    what: str,
    *,
    start: int = sizing.MAX_FIRST,
) -> Reply:
    """Execute with ``first = start``, halving it while Shopify finds the query too expensive."""
    first = start
    while True:
        try:
            return await client.execute(operation, variables(first), stats=stats, requested=estimate(first), what=what)
        except QueryTooExpensive:
            if first == 1:
                raise SourceDataError(f"Shopify finds even a one-item query too expensive while {what}") from None
            first = max(1, first // 2)


def _order_of(reply: Reply, label: str) -> Mapping[str, Any]:
    order = reply.data.get("order")
    if not isinstance(order, Mapping):
        raise SourceDataError(f"{label} vanished while its nested lists were being read", suggestion="the next run reads it again")
    return order


def _connection(parent: Mapping[str, Any], key: str, label: str) -> MutableMapping[str, Any]:
    connection = parent.get(key)
    if not isinstance(connection, MutableMapping) or not isinstance(connection.get("nodes"), list):
        raise SourceDataError(f"Shopify sent {label} without a readable {key} connection")
    return connection


def _next_cursor(connection: Mapping[str, Any], label: str, key: str) -> str | None:
    """The cursor to continue after, or None when the connection is complete."""
    info = connection.get("pageInfo")
    if info is None:
        raise SourceDataError(f"Shopify sent {label} with {key} lacking pageInfo")
    if not isinstance(info, Mapping) or not isinstance(info.get("hasNextPage"), bool):
        raise SourceDataError(f"Shopify sent {label} with an unreadable {key}.pageInfo")
    if not info["hasNextPage"]:
        return None
    cursor = info.get("endCursor")
    if not isinstance(cursor, str) or not cursor:
        raise SourceDataError(f"Shopify sent {label} with {key}.hasNextPage but no endCursor")
    return cursor


def _label(order: Mapping[str, Any]) -> str:
    name, gid = order.get("name"), order.get("id")
    return f"order {name} ({gid})" if isinstance(name, str) else f"order {gid}"
