"""Reading orders and the cancellation history."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from core import OrderQuery, StorageTx, ValidationError, check_search_term

from .. import ids
from ..context import Info
from ..errors import BadInput
from ..inputs import check_platform_id, check_shop_name, checked, opt
from ..pagination import PageInfo, decode_cursor, encode_cursor, page_size, storage_cursor_error
from ..permissions import IsAuthenticated
from ..selection import selected_paths, under_nodes
from .types import (
    ItemCancellation,
    ItemCancellationConnection,
    ItemCancellationEdge,
    Order,
    OrderConnection,
    OrderEdge,
    OrderFilter,
    OrderSortKey,
)

CURSOR_ERRORS = (ValidationError, ValueError, TypeError, KeyError, IndexError)
"""What a storage may raise for a position it cannot read (only caught when a cursor was given)."""


@strawberry.type
class OrderQueries:
    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Synced orders, ascending by sortKey (reverse: descending); ties broken by id.")
    async def orders(
        self,
        info: Info,
        first: int | None = 50,
        after: str | None = strawberry.UNSET,
        filter: OrderFilter | None = strawberry.UNSET,
        sort_key: OrderSortKey | None = OrderSortKey.UPDATED_AT,
        reverse: bool | None = False,
    ) -> OrderConnection:
        size = page_size(first, info.context.runtime.settings, default=50)
        sort_key = sort_key or OrderSortKey.UPDATED_AT
        reverse = bool(reverse)
        after = opt(after)
        scope = f"orders:{sort_key.value}:{int(reverse)}"
        position = decode_cursor(scope, after)
        given = opt(filter) or OrderFilter()
        shop_name = checked(opt(given.shop), "filter.shop", check_shop_name)
        search = checked(opt(given.search), "filter.search", check_search_term)
        updated_after, updated_before = _utc(opt(given.updated_after)), _utc(opt(given.updated_before))
        canceled_after, canceled_before = _utc(opt(given.canceled_after)), _utc(opt(given.canceled_before))
        _check_range(updated_after, updated_before, "updatedAfter", "updatedBefore")
        _check_range(canceled_after, canceled_before, "canceledAfter", "canceledBefore")

        paths = selected_paths(info)
        want_items = under_nodes(paths, "items") or under_nodes(paths, "canceledQuantity")
        want_cancellations = under_nodes(paths, "items", "cancellations")
        want_count = ("totalCount",) in paths
        want_edges = ("edges",) in paths

        def read(tx: StorageTx):  # type: ignore[no-untyped-def]
            shop_id = None
            if shop_name is not None:
                shop = tx.get_shop_by_name(shop_name)
                if shop is None:
                    return None, None, (None, None), None
                shop_id = shop.id
            query = OrderQuery(
                shop_id=shop_id, status=opt(given.status), has_canceled_items=opt(given.has_canceled_items),
                updated_after=updated_after, updated_before=updated_before,
                canceled_after=canceled_after, canceled_before=canceled_before,
                search=search or None, sort_key=sort_key.value, reverse=reverse,
            )
            try:
                page = tx.list_orders(query, first=size, after=position)
            except CURSOR_ERRORS as exc:
                if position is None:
                    raise
                raise storage_cursor_error(exc) from None
            children = prefetch(tx, page.items, items=want_items, cancellations=want_cancellations)
            return query, page, children, tx.count_orders(query) if want_count else None

        query, page, children, count = await info.context.read(read)
        if page is None:
            return OrderConnection(edges=[], nodes=[], page_info=PageInfo(has_next_page=False, has_previous_page=False,
                                   start_cursor=None, end_cursor=None), query=None)
        nodes = info.context.loaders.remember_orders(page.items, *children)
        # Edges (a cursor each) only when asked for; pageInfo needs the first and last cursor.
        edges = ([OrderEdge(cursor=encode_cursor(scope, c), node=n) for c, n in zip(page.cursors, nodes, strict=True)]
                 if want_edges else [])
        return OrderConnection(
            edges=edges,
            nodes=nodes,
            page_info=PageInfo(has_next_page=page.has_next, has_previous_page=page.has_previous or after is not None,
                               start_cursor=encode_cursor(scope, page.cursors[0]) if page.cursors else None,
                               end_cursor=encode_cursor(scope, page.cursors[-1]) if page.cursors else None),
            query=query,
            counted=count,
        )

    @strawberry.field(permission_classes=[IsAuthenticated], description="An order by its gateway id.")
    async def order(self, info: Info, id: strawberry.ID) -> Order | None:
        record = await info.context.loaders.orders.load(ids.decode_as(id, "Order"))
        return Order.from_record(record) if record is not None else None

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="An order by its shop's name and the platform's id (a GID or the bare number).")
    async def order_by_shopify_id(self, info: Info, shop: str, shopify_id: strawberry.ID) -> Order | None:
        shop = checked(shop, "shop", check_shop_name) or ""
        shopify_id = strawberry.ID(checked(str(shopify_id), "shopifyId", check_platform_id) or "")
        candidates = [str(shopify_id)]
        if str(shopify_id).isdigit():
            candidates.append(f"gid://shopify/Order/{shopify_id}")

        def read(tx: StorageTx):  # type: ignore[no-untyped-def]
            found = tx.get_shop_by_name(shop)
            if found is None:
                return None
            for candidate in candidates:
                order = tx.get_order_by_source_id(found.id, candidate)
                if order is not None:
                    return order
            return None

        record = await info.context.read(read)
        return Order.from_record(record) if record is not None else None

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Canceled units as recorded, in commit order: poll it with `after` (the last "
                                  "endCursor) to follow new ones; no row is ever skipped, even one a slower "
                                  "writer commits late. With `reverse`, newest first: `after` then pages back "
                                  "to older rows, each met exactly once.")
    async def cancellations(
        self,
        info: Info,
        first: int | None = 50,
        after: str | None = strawberry.UNSET,
        shop: str | None = strawberry.UNSET,
        since: datetime | None = strawberry.UNSET,
        until: datetime | None = strawberry.UNSET,
        reverse: bool | None = False,
    ) -> ItemCancellationConnection:
        size = page_size(first, info.context.runtime.settings, default=50)
        after, since, until = opt(after), _utc(opt(since)), _utc(opt(until))
        reverse = bool(reverse)
        shop = checked(opt(shop), "shop", check_shop_name)
        # Oldest first keeps the scope its cursors always had, so pollers' saved cursors stay valid.
        scope = "cancellations:reverse" if reverse else "cancellations"
        position = decode_cursor(scope, after)
        _check_range(since, until, "since", "until")

        def read(tx: StorageTx):  # type: ignore[no-untyped-def]
            shop_id = None
            if shop is not None:
                found = tx.get_shop_by_name(shop)
                if found is None:
                    return None
                shop_id = found.id
            try:
                return tx.list_cancellations(shop_id=shop_id, since=since, until=until,
                                             first=size, after=position, reverse=reverse)
            except CURSOR_ERRORS as exc:
                if position is None:
                    raise
                raise storage_cursor_error(exc) from None

        page = await info.context.read(read)
        if page is None:
            return ItemCancellationConnection(edges=[], nodes=[], page_info=PageInfo(
                has_next_page=False, has_previous_page=False, start_cursor=None, end_cursor=None))
        nodes = [ItemCancellation.from_record(c) for c in page.items]
        cursors = [encode_cursor(scope, c) for c in page.cursors]
        return ItemCancellationConnection(
            edges=[ItemCancellationEdge(cursor=c, node=n) for c, n in zip(cursors, nodes, strict=True)],
            nodes=nodes,
            page_info=PageInfo(has_next_page=page.has_next, has_previous_page=page.has_previous or after is not None,
                               start_cursor=cursors[0] if cursors else None,
                               end_cursor=cursors[-1] if cursors else None),
        )


def prefetch(tx: StorageTx, orders, *, items: bool, cancellations: bool):  # type: ignore[no-untyped-def]
    """The page's items (and their cancellations) when the document selects them: read in the
    same transaction as the page, one statement per level."""
    by_order = tx.items_for_orders([o.id for o in orders]) if items else None
    by_item = None
    if by_order is not None and cancellations:
        by_item = tx.cancellations_for_items([i.id for found in by_order.values() for i in found])
    return by_order, by_item


def _utc(value: datetime | None) -> datetime | None:
    """Filter bounds without an offset are read as UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _check_range(start: datetime | None, end: datetime | None, start_name: str, end_name: str) -> None:
    if start is not None and end is not None and end < start:
        raise BadInput(f"{end_name} must not be before {start_name}", field=end_name)
