"""Root fields (``QueryRoot``, ``Mutation``) and the shop-level objects they return."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

from .context import RequestContext
from .gids import InvalidGid, gid, parse_gid
from .paging import Page, encode_cursor
from .records import OrderRecord
from .resolvers import Resolver, page_request
from .search import OrderFilter, SearchError, compile_order_search
from .store import SORT_FIELDS

__all__ = ["ROOT_RESOLVERS", "resolve_node", "order_filter", "visible"]


def _not_simulated(what: str) -> GraphQLError:
    return GraphQLError(f"{what} is not simulated by the Shopify simulator", extensions={"code": "NOT_SIMULATED"})


def order_filter(args: dict[str, Any], ctx: RequestContext) -> OrderFilter:
    """The compiled ``query:`` of an orders field; records search warnings like Shopify does."""
    if args.get("savedSearchId"):
        raise _not_simulated("savedSearchId")
    query = args.get("query")
    try:
        compiled = compile_order_search(query, ctx.now)
    except SearchError as exc:
        raise GraphQLError(str(exc), extensions={"code": "BAD_REQUEST"}) from None
    if compiled.warnings:
        ctx.search.append(
            {"path": [ctx.field_key], "query": query, "parsed": compiled.parsed, "warnings": compiled.warnings}
        )
    return compiled


def visible(order: OrderRecord, ctx: RequestContext) -> bool:
    cutoff = ctx.visible_from
    return cutoff is None or order.created_at >= cutoff


def _accept_and_bounds(
    compiled: OrderFilter, attr: str, ctx: RequestContext
) -> tuple[Any, tuple[int | None, int | None]]:
    predicate, cutoff = compiled.predicate, ctx.visible_from
    bounds = compiled.bounds.get(attr, (None, None))
    if cutoff is None:
        return predicate, bounds
    if attr == "created_at":  # the 60-day window is itself a range on this index
        lo = cutoff if bounds[0] is None else max(bounds[0], cutoff)
        bounds = (lo, bounds[1])
    return (lambda o: o.created_at >= cutoff and predicate(o)), bounds


def _sort_attr(args: dict[str, Any]) -> tuple[str, str]:
    sort_key = args.get("sortKey") or "PROCESSED_AT"
    if sort_key not in SORT_FIELDS:
        raise _not_simulated(f"sortKey {sort_key} (supported: {', '.join(SORT_FIELDS)})")
    return sort_key, SORT_FIELDS[sort_key]


def _orders(_: Any, args: dict[str, Any], ctx: RequestContext) -> Page[OrderRecord]:
    sort_key, attr = _sort_attr(args)
    accept, bounds = _accept_and_bounds(order_filter(args, ctx), attr, ctx)
    timestamp = attr != "id"
    request = page_request(args, timestamp=timestamp)
    rows, has_prev, has_next = ctx.store.page_orders(sort_key, request, accept, bounds)
    return Page(rows, has_next, has_prev, lambda o: encode_cursor(getattr(o, attr), o.id, timestamp=timestamp))


def matching_orders(args: dict[str, Any], ctx: RequestContext) -> Any:
    """Every order an ``orders(query:, sortKey:, reverse:)`` field would list, in order (no paging)."""
    sort_key, attr = _sort_attr(args)
    accept, bounds = _accept_and_bounds(order_filter(args, ctx), attr, ctx)
    return ctx.store.scan_orders(sort_key, accept, bounds, reverse=bool(args.get("reverse")))


def _orders_count(_: Any, args: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    compiled = order_filter(args, ctx)
    limit = args.get("limit")
    if not args.get("query") and ctx.visible_from is None:
        count = len(ctx.store.orders)
    else:
        # Scan the index with the tightest usable range; UPDATED_AT first (the importer's filter).
        candidates = (("UPDATED_AT", "updated_at"), ("CREATED_AT", "created_at"), ("ID", "id"))
        sort_key, attr = next(
            (
                (key, attr)
                for key, attr in candidates
                if attr in compiled.bounds or (attr == "created_at" and ctx.visible_from is not None)
            ),
            candidates[-1],
        )
        accept, bounds = _accept_and_bounds(compiled, attr, ctx)
        count = 0
        for _order in ctx.store.scan_orders(sort_key, accept, bounds):
            count += 1
            if limit is not None and count > limit:
                break
    if limit is not None and count > limit:
        return {"count": limit, "precision": "AT_LEAST"}
    return {"count": count, "precision": "EXACT"}


def resolve_node(value: str, ctx: RequestContext) -> Any:
    """The record behind a gid, or None if there is none (or the app may not see it)."""
    try:
        type_name, number = parse_gid(value)
    except InvalidGid as exc:
        raise GraphQLError(str(exc), extensions={"code": "argumentLiteralsIncompatible"}) from None
    store = ctx.store
    if type_name == "Order":
        order = store.orders.get(number)
        return order if order is not None and visible(order, ctx) else None
    if type_name == "LineItem":
        order = store.order_of_line(number)
        return order.line(number) if order is not None and visible(order, ctx) else None
    if type_name in ("Refund", "Fulfillment"):
        owners = store.refund_owner if type_name == "Refund" else store.fulfillment_owner
        order = store.orders.get(owners.get(number, 0))
        if order is None or not visible(order, ctx):
            return None
        children = order.refunds if type_name == "Refund" else order.fulfillments
        return next((child for child in children if child.id == number), None)
    if type_name == "BulkOperation":
        return ctx.shop.bulk.get(number)
    return None


def _order(_: Any, args: dict[str, Any], ctx: RequestContext) -> Any:
    record = resolve_node(args["id"], ctx)
    return record if isinstance(record, OrderRecord) else None


def _bulk_operation(_: Any, args: dict[str, Any], ctx: RequestContext) -> Any:
    record = resolve_node(args["id"], ctx)
    return record if getattr(record, "TYPENAME", None) == "BulkOperation" else None


QUERY_ROOT: dict[str, Resolver] = {
    "orders": _orders,
    "ordersCount": _orders_count,
    "order": _order,
    "node": lambda _, a, c: resolve_node(a["id"], c),
    "nodes": lambda _, a, c: [resolve_node(value, c) for value in a["ids"]],
    "shop": lambda _, a, c: c.shop,
    "currentAppInstallation": lambda _, a, c: c.shop,
    "bulkOperation": _bulk_operation,
    "currentBulkOperation": lambda _, a, c: c.shop.bulk.current(a.get("type") or "QUERY"),
}

MUTATION: dict[str, Resolver] = {
    "bulkOperationRunQuery": lambda _, a, c: c.shop.bulk.run_query(a["query"], a["groupObjects"], c),
    "bulkOperationCancel": lambda _, a, c: c.shop.bulk.cancel(a["id"], c),
}

SHOP: dict[str, Resolver] = {
    "id": lambda s, a, c: gid("Shop", s.shop_id),
    "name": lambda s, a, c: s.shop_name,
    "myshopifyDomain": lambda s, a, c: s.shop_domain,
    "url": lambda s, a, c: s.base_url,
    "email": lambda s, a, c: f"owner@{s.shop_domain}",
    "contactEmail": lambda s, a, c: f"owner@{s.shop_domain}",
    "currencyCode": lambda s, a, c: "USD",
    "enabledPresentmentCurrencies": lambda s, a, c: ["USD"],
    "ianaTimezone": lambda s, a, c: "Etc/UTC",
    "timezoneAbbreviation": lambda s, a, c: "UTC",
    "timezoneOffset": lambda s, a, c: "+0000",
    "timezoneOffsetMinutes": lambda s, a, c: 0,
    "plan": lambda s, a, c: {
        "displayName": s.plan.display_name,
        "publicDisplayName": s.plan.display_name,
        "partnerDevelopment": False,
        "shopifyPlus": s.plan.shopify_plus,
    },
}

APP_INSTALLATION: dict[str, Resolver] = {
    "id": lambda s, a, c: gid("AppInstallation", s.shop_id),
    "accessScopes": lambda s, a, c: [
        {"handle": scope, "description": f"Simulated scope {scope}"} for scope in s.scopes
    ],
}

ROOT_RESOLVERS: dict[str, dict[str, Resolver]] = {
    "QueryRoot": QUERY_ROOT,
    "Mutation": MUTATION,
    "Shop": SHOP,
    "AppInstallation": APP_INSTALLATION,
}
