"""Reading orders, items and cancellation history: listings and the batch lookups DataLoaders use.

Every ``*_for_*``/``get_*s`` lookup is one statement, built once per dialect, for all the ids it
is given (split only past ``MAX_IDS_PER_QUERY``, under every database's bound-parameter limit).
Listings use keyset pagination on ``(sort value, id)``, so a page costs the same at any depth and
rows inserted meanwhile never shift or repeat.

Filter semantics (:class:`core.OrderQuery`):

* time ranges are half-open, ``after <= t < before``, like :class:`core.Window`;
* ``canceled_after``/``canceled_before`` keep an order when any of its cancellation history
  rows has its platform ``canceled_at`` in the range, or when the order itself has
  ``cancelled_at`` in the range (a whole-order cancel of a fully shipped order cancels no unit,
  so it has no history row). Platform time, not ``recorded_at``: the question is when
  the shop canceled, not when we noticed; integrators polling by our time use
  ``list_cancellations``;
* ``search`` matches a case-insensitive substring of the order name, or a case-insensitive
  prefix (so also the exact value) of one of its items' SKUs; ``%`` and ``_`` match
  themselves. At most ``core.Limits.SEARCH`` characters, no control characters
  (:func:`core.check_search_term`, also the API's check). PostgreSQL answers it from ``pg_trgm``
  indexes; SQLite and MariaDB scan (see docs/benchmarks.md, "Order search").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, literal, or_, select, tuple_, union

from core import (
    Cancellation,
    OrderQuery,
    OrderStatus,
    Slice,
    StoredItem,
    StoredOrder,
    ValidationError,
    check_search_term,
)

from .base import OLDEST_RUNNING_TXID, TxBase, aware, check_first, chunks, in_ids
from .convert import CANCELLATION_COLUMNS, ITEM_COLUMNS, ORDER_COLUMNS, to_cancellation, to_item, to_order
from .cursors import CursorKind, decode_cursor, encode_cursor
from .tables import cancellations, order_items, orders, shops

SORT_KEYS: dict[str, tuple[Any, CursorKind, int]] = {
    "UPDATED_AT": (orders.c.updated_at, "datetime", ORDER_COLUMNS.index(orders.c.updated_at)),
    "CREATED_AT": (orders.c.created_at, "datetime", ORDER_COLUMNS.index(orders.c.created_at)),
    "ID": (orders.c.id, "int", ORDER_COLUMNS.index(orders.c.id)),
    "NAME": (orders.c.name, "str", ORDER_COLUMNS.index(orders.c.name)),
}
"""Sort key -> column, cursor value kind, position of the value in a row of ORDER_COLUMNS."""


def _orders_with_shop() -> Select[Any]:
    return select(*ORDER_COLUMNS).join(shops, shops.c.id == orders.c.shop_id)


@cache
def _lookup(dialect: str, what: str) -> Select[Any]:
    """The batch lookups by id (bound as ``ids``), built once per dialect."""
    if what == "orders":
        return _orders_with_shop().where(in_ids(orders.c.id, dialect))
    if what == "items":
        return select(*ITEM_COLUMNS).where(in_ids(order_items.c.id, dialect))
    if what == "items_by_order":
        return select(*ITEM_COLUMNS).where(in_ids(order_items.c.order_id, dialect)).order_by(order_items.c.id)
    if what == "cancellations":
        return select(*CANCELLATION_COLUMNS).where(in_ids(cancellations.c.id, dialect))
    if what == "cancellations_by_item":
        return (select(*CANCELLATION_COLUMNS).where(in_ids(cancellations.c.item_id, dialect))
                .order_by(cancellations.c.id))  # fmt: skip
    raise KeyError(what)


class OrdersMixin(TxBase):
    def get_order(self, order_id: int) -> StoredOrder | None:
        row = self._conn.execute(_orders_with_shop().where(orders.c.id == order_id)).one_or_none()
        return to_order(row) if row is not None else None

    def get_order_by_source_id(self, shop_id: int, source_id: str) -> StoredOrder | None:
        stmt = _orders_with_shop().where(orders.c.shop_id == shop_id, orders.c.source_id == source_id)
        row = self._conn.execute(stmt).one_or_none()
        return to_order(row) if row is not None else None

    def get_orders(self, order_ids: Sequence[int]) -> dict[int, StoredOrder]:
        """The orders found among ``order_ids`` (unknown ids are simply absent)."""
        return {record.id: record for record in map(to_order, self._rows("orders", order_ids))}

    def _rows(self, what: str, ids: Sequence[int]) -> list[Any]:
        stmt = _lookup(self._dialect, what)
        found: list[Any] = []
        for chunk in chunks(ids):
            found.extend(self._conn.execute(stmt, {"ids": chunk}).all())  # one fetchall, not a fetch per row
        return found

    def list_orders(self, query: OrderQuery, *, first: int, after: str | None = None) -> Slice[StoredOrder]:
        check_first(first)
        if query.sort_key not in SORT_KEYS:
            raise ValidationError(
                f"unknown sort key {query.sort_key!r}", field="sort_key", suggestion=f"one of {', '.join(SORT_KEYS)}"
            )
        column, kind, position = SORT_KEYS[query.sort_key]
        stmt = _orders_with_shop().where(*_order_filters(query))
        if after is not None:
            value, last_id = decode_cursor(after, kind)
            if column is orders.c.id:
                stmt = stmt.where(orders.c.id < last_id if query.reverse else orders.c.id > last_id)
            else:
                key, bound = tuple_(column, orders.c.id), tuple_(literal(value, column.type), literal(last_id))
                stmt = stmt.where(key < bound if query.reverse else key > bound)
        keys = [column] if column is orders.c.id else [column, orders.c.id]
        stmt = stmt.order_by(*(key.desc() if query.reverse else key.asc() for key in keys)).limit(first + 1)
        rows = self._conn.execute(stmt).all()
        page = rows[:first]
        return Slice(
            items=tuple(map(to_order, page)),
            cursors=tuple(encode_cursor(row[position], row[0]) for row in page),
            has_next=len(rows) > first,
            has_previous=after is not None,
        )

    def count_orders(self, query: OrderQuery) -> int:
        stmt = select(func.count()).select_from(orders).where(*_order_filters(query))
        return int(self._conn.scalar(stmt) or 0)

    def items_for_orders(self, order_ids: Sequence[int]) -> dict[int, list[StoredItem]]:
        """Every requested order id maps to its items in id order (an empty list if none)."""
        found: dict[int, list[StoredItem]] = {order_id: [] for order_id in order_ids}
        for item in map(to_item, self._rows("items_by_order", order_ids)):
            found[item.order_id].append(item)
        return found

    def get_items(self, item_ids: Sequence[int]) -> dict[int, StoredItem]:
        return {item.id: item for item in map(to_item, self._rows("items", item_ids))}

    def cancellations_for_items(self, item_ids: Sequence[int]) -> dict[int, list[Cancellation]]:
        """Every requested item id maps to its history, oldest first (an empty list if none)."""
        found: dict[int, list[Cancellation]] = {item_id: [] for item_id in item_ids}
        for cancellation in map(to_cancellation, self._rows("cancellations_by_item", item_ids)):
            found[cancellation.item_id].append(cancellation)
        return found

    def get_cancellations(self, cancellation_ids: Sequence[int]) -> dict[int, Cancellation]:
        """History rows by id (unknown ids are simply absent)."""
        return {c.id: c for c in map(to_cancellation, self._rows("cancellations", cancellation_ids))}

    def list_cancellations(
        self,
        *,
        shop_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        first: int,
        after: str | None = None,
        reverse: bool = False,
    ) -> Slice[Cancellation]:
        """In commit order (``reverse``: newest first), ``since <= recorded_at < until``.

        The keyset is ``(commit_txid, id)``. On PostgreSQL a row is listed only once every
        transaction that began writing before its own has ended: a poller resuming from its
        last cursor then never skips a row that a slower transaction commits later. (A
        transaction still writing, anywhere on the PostgreSQL server, delays the rows committed
        after it began; it never hides them for good.) SQLite's writers take turns, so its rows are committed in id order.
        MySQL and MariaDB number each transaction's rows as it commits (:mod:`.mysql`).

        Newest first, the same rule keeps paging back complete: a row not yet listed when the
        first page was read belongs to a transaction that was still running then, so its key is
        above every row listed, never between them or below the cursor.
        """
        check_first(first)
        stmt = select(*CANCELLATION_COLUMNS, cancellations.c.commit_txid)
        if self._is_postgres:
            stmt = stmt.where(cancellations.c.commit_txid < OLDEST_RUNNING_TXID)
        if shop_id is not None:
            stmt = stmt.where(cancellations.c.shop_id == shop_id)
        if since is not None:
            stmt = stmt.where(cancellations.c.recorded_at >= aware(since, "since"))
        if until is not None:
            stmt = stmt.where(cancellations.c.recorded_at < aware(until, "until"))
        if after is not None:
            txid, last_id = decode_cursor(after, "int")
            key = tuple_(cancellations.c.commit_txid, cancellations.c.id)
            position = tuple_(literal(txid, cancellations.c.commit_txid.type), literal(last_id))
            stmt = stmt.where(key < position if reverse else key > position)
        order: list[Any] = [cancellations.c.commit_txid, cancellations.c.id]
        if reverse:
            order = [column.desc() for column in order]
        stmt = stmt.order_by(*order).limit(first + 1)
        rows = self._conn.execute(stmt).all()
        page = rows[:first]
        return Slice(
            items=tuple(to_cancellation(row[:-1]) for row in page),
            cursors=tuple(encode_cursor(row.commit_txid, row.id) for row in page),
            has_next=len(rows) > first,
            has_previous=after is not None,
        )


def _order_filters(query: OrderQuery) -> list[ColumnElement[bool]]:
    filters: list[ColumnElement[bool]] = []
    if query.shop_id is not None:
        filters.append(orders.c.shop_id == query.shop_id)
    if query.status is not None:
        filters.append(orders.c.status == OrderStatus(query.status).value)
    if query.has_canceled_items is not None:
        canceled = exists().where(order_items.c.order_id == orders.c.id, order_items.c.canceled_quantity > 0)
        filters.append(canceled if query.has_canceled_items else ~canceled)
    if query.updated_after is not None:
        filters.append(orders.c.updated_at >= aware(query.updated_after, "updated_after"))
    if query.updated_before is not None:
        filters.append(orders.c.updated_at < aware(query.updated_before, "updated_before"))
    if query.canceled_after is not None or query.canceled_before is not None:
        in_history: list[ColumnElement[bool]] = [cancellations.c.order_id == orders.c.id]
        on_order: list[ColumnElement[bool]] = [orders.c.cancelled_at.is_not(None)]
        if query.canceled_after is not None:
            start = aware(query.canceled_after, "canceled_after")
            in_history.append(cancellations.c.canceled_at >= start)
            on_order.append(orders.c.cancelled_at >= start)
        if query.canceled_before is not None:
            end = aware(query.canceled_before, "canceled_before")
            in_history.append(cancellations.c.canceled_at < end)
            on_order.append(orders.c.cancelled_at < end)
        filters.append(or_(exists().where(*in_history), and_(*on_order)))
    term = check_search_term(query.search or "")
    if term:
        # ILIKE on PostgreSQL, where the pg_trgm GIN indexes serve both patterns (migration
        # 0003); lower() LIKE lower() elsewhere, a scan on SQLite and MySQL/MariaDB (no index
        # serves '%term%' there; the term's length limit and the read timeout bound it). One id
        # set from both, then the page.
        pattern = _like_literal(term)
        by_name = select(orders.c.id).where(orders.c.name.ilike(f"%{pattern}%", escape="/"))
        by_sku = select(order_items.c.order_id).where(order_items.c.sku.ilike(f"{pattern}%", escape="/"))
        filters.append(orders.c.id.in_(union(by_name, by_sku)))
    return filters


def _like_literal(term: str) -> str:
    """``term`` with LIKE's wildcards escaped (``/`` is the escape character): it matches itself."""
    return term.replace("/", "//").replace("%", "/%").replace("_", "/_")
