"""Storing one page of order verdicts: the hot path of every sync run and webhook.

A page (100-250 orders) costs a fixed number of statements whatever its size, and no ORM
objects are built:

1. upsert the orders (one INSERT ... ON CONFLICT, RETURNING their ids and statuses); an older
   version of an order never overwrites a newer one;
2. upsert the items (one INSERT ... ON CONFLICT, RETURNING their ids and canceled quantities);
3. raise every canceled quantity to its verdict's target with :func:`core.plan_item_update`,
   in one executemany UPDATE, and append one history row per increase (one INSERT with
   RETURNING);
4. mark newly canceled orders (one executemany UPDATE).

The INSERTs are an executemany on SQLite and MySQL (PyMySQL sends it as one multi-row INSERT)
and one ``INSERT ... SELECT FROM unnest(arrays)`` on PostgreSQL (see :func:`_insert_rows`).
MySQL has no RETURNING for upserts: there each upsert is followed by one ``SELECT ... FOR
UPDATE`` of its rows, and the history is numbered at commit (:mod:`.mysql`).

Every row is found through a unique index (the upserts' conflict targets, primary keys), so a
page costs the same whether or not the planner's statistics have caught up with a bulk import.

Two writers of the same order (a webhook and a scheduled run) cannot both count the same units.
On PostgreSQL, ON CONFLICT DO UPDATE locks every existing row it touches and a concurrent insert
of the same key waits for the first inserter, so steps 1 and 2 lock the page's orders and items
as ``SELECT ... FOR UPDATE`` would, and return their latest committed values; rows are written
in ``source_id`` order, so two pages lock in the same order and cannot deadlock. InnoDB's
``ON DUPLICATE KEY UPDATE`` locks the rows it finds in the same way. On SQLite the backend begins
every transaction IMMEDIATE, so writers are serialised.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, String, Table, and_, bindparam, case, func, literal_column, select, update

from core import Cancellation, OrderItemStatus, OrderStatus, OrderVerdict, PageResult, plan_item_update

from . import mysql
from .base import CURRENT_TXID, TxBase, aware
from .convert import item_status
from .tables import cancellations, job_runs, order_items, orders, shops


class PagesMixin(TxBase):
    def apply_page(
        self, *, shop_id: int, run_id: int | None, verdicts: Sequence[OrderVerdict], now: datetime
    ) -> PageResult:
        """See :meth:`core.StorageTx.apply_page`.

        ``orders_written`` counts the page's orders that were inserted or refreshed; an order
        whose stored version is newer than the page's (``updated_at``) is not refreshed and not
        counted, although its cancellation targets still apply. Re-applying a page refreshes
        ``synced_at`` (so it is counted again) but changes no quantity and records no history.
        """
        now = aware(now, "now").astimezone(UTC)
        if not verdicts:
            return PageResult()
        self._require(shops, shop_id, "shop")
        if run_id is not None:
            self._require(job_runs, run_id, "run")
        page = _latest_version_per_order(verdicts)
        conn = self._session.connection()
        if self._is_mysql:
            mysql.lock_shop_pages(conn, shop_id)

        stored_orders = _upsert_orders(self, conn, shop_id, page, now)
        incoming = {verdict.order.source_id: verdict.order.updated_at for verdict in page}
        stale = {source_id for source_id, row in stored_orders.items() if row.updated_at > incoming[source_id]}
        stored_items = _upsert_items(self, conn, page, stored_orders, stale)
        raises, history = _plan_increases(page, stored_orders, stored_items, shop_id, run_id, now)
        if raises:
            conn.execute(
                update(order_items)
                .where(order_items.c.id == bindparam("b_id"))
                .values(canceled_quantity=bindparam("b_canceled"), status=bindparam("b_status")),
                raises,
            )
        recorded = _record_history(self, conn, history)

        newly_canceled = [
            v
            for v in page
            if v.order_canceled and stored_orders[v.order.source_id].status != OrderStatus.CANCELED.value
        ]
        if newly_canceled:
            _mark_canceled(conn, newly_canceled, stored_orders)
        return PageResult(
            orders_written=len(page) - len(stale),
            items_canceled=len(raises),
            units_canceled=sum(row["quantity"] for row in history),
            orders_canceled=len(newly_canceled),
            cancellations=recorded,
            newly_canceled_orders=tuple(v.order.source_id for v in newly_canceled),
        )


def _plan_increases(
    page: list[OrderVerdict],
    stored_orders: dict[str, Any],
    stored_items: dict[tuple[int, str], Any],
    shop_id: int,
    run_id: int | None,
    now: datetime,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The item UPDATE parameters and the history rows for every canceled quantity that grows."""
    raises: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    for verdict in page:
        order = stored_orders[verdict.order.source_id]
        for item in _unique_items(verdict):
            stored = stored_items[(order.id, item.line_source_id)]
            delta = plan_item_update(stored.canceled_quantity, item.canceled_target)
            if not delta:
                continue
            canceled = stored.canceled_quantity + delta
            raises.append({"b_id": stored.id, "b_canceled": canceled,
                           "b_status": item_status(canceled, stored.quantity).value})  # fmt: skip
            history.append({
                "item_id": stored.id, "order_id": order.id, "shop_id": shop_id, "quantity": delta,
                "canceled_at": aware(item.canceled_at, "canceled_at").astimezone(UTC), "recorded_at": now,
                "run_id": run_id, "reason": item.reason, "evidence": dict(item.evidence),
            })  # fmt: skip
    return raises, history


def _insert_rows(tx: TxBase, table: Table, rows: list[dict[str, Any]], *,
                 computed: dict[str, Any] | None = None) -> tuple[Any, list[dict[str, Any]] | None]:
    """An ``INSERT`` of ``rows`` (ready for ``on_conflict_*``/``returning``) and its execute parameters.

    PostgreSQL gets one array per column, ``INSERT ... SELECT * FROM unnest(...)``: a short
    statement psycopg parses once and caches. The multi-row ``VALUES`` form SQLAlchemy renders
    for an executemany with RETURNING is a new text of thousands of placeholders for every page
    size, which psycopg re-parses in Python each time (measured: 40% of a page's time). Arrays
    keep the rows' order, so the locking order of the page is kept too. SQLite gets a plain
    executemany.

    ``computed``: PostgreSQL only, columns whose value is an SQL expression evaluated by the
    INSERT itself (the same for every row).
    """
    if not tx._is_postgres:
        return tx._insert(table), rows
    from sqlalchemy.dialects.postgresql import ARRAY

    columns = list(rows[0])
    arrays = [bindparam(f"{column}_values", [row[column] for row in rows], type_=ARRAY(table.c[column].type))
              for column in columns]  # fmt: skip
    rows_table = func.unnest(*arrays).table_valued(*columns).render_derived()
    extra = computed or {}
    source = select(*rows_table.c, *extra.values())
    return tx._insert(table).from_select([*columns, *extra], source), None


def _latest_version_per_order(verdicts: Sequence[OrderVerdict]) -> list[OrderVerdict]:
    """One verdict per order (the newest if a page repeats one), sorted by ``source_id``.

    A repeated key would make a multi-row upsert touch one row twice (an error on PostgreSQL),
    and a fixed order makes concurrent pages lock their rows in the same sequence.
    """
    latest: dict[str, OrderVerdict] = {}
    for verdict in verdicts:
        aware(verdict.order.updated_at, "updated_at")
        seen = latest.get(verdict.order.source_id)
        if seen is None or verdict.order.updated_at >= seen.order.updated_at:
            latest[verdict.order.source_id] = verdict
    return [latest[key] for key in sorted(latest)]


def _unique_items(verdict: OrderVerdict) -> list[Any]:
    """The verdict's lines, one per line id, in id order (the same reasons as for orders)."""
    return [item for _, item in sorted({item.line_source_id: item for item in verdict.items}.items())]


def _upsert_orders(
    tx: TxBase, conn: Connection, shop_id: int, page: list[OrderVerdict], now: datetime
) -> dict[str, Any]:
    """Insert or refresh the page's orders; return each stored row's id, updated_at and status by source id.

    The version guard sits in the SET clause (keep the stored value when it is newer) rather
    than in a WHERE, so that every row comes back through RETURNING: a WHERE that skips a row
    also drops it from RETURNING, and reading the ids back with a second SELECT costs a round
    trip and, on a table whose statistics lag behind a bulk import, a scan of the shop's orders.
    """
    rows = [
        {
            "shop_id": shop_id, "source_id": v.order.source_id, "name": v.order.name,
            "status": OrderStatus.OPEN.value,  # CANCELED is only ever set by _mark_canceled
            "created_at": v.order.created_at, "updated_at": v.order.updated_at,
            "cancelled_at": v.order.cancelled_at, "cancel_reason": v.order.cancel_reason, "synced_at": now,
        }
        for v in page
    ]  # fmt: skip
    insert, params = _insert_rows(tx, orders, rows)
    new, old = (insert.inserted if tx._is_mysql else insert.excluded), orders.c
    newer = old.updated_at <= new.updated_at  # an older version never overwrites a newer one

    def refreshed(column: str) -> Any:
        return case((newer, new[column]), else_=old[column])

    # updated_at is assigned last: MySQL evaluates the assignments in order, each seeing the
    # ones before it (PostgreSQL evaluates them all on the old row), and ``newer`` reads it.
    assignments = [
        *((column, refreshed(column)) for column in ("name", "created_at", "synced_at")),
        # Whole-order cancels are final: a reply without cancelledAt never clears them.
        ("cancelled_at", func.coalesce(refreshed("cancelled_at"), old.cancelled_at, new.cancelled_at)),
        ("cancel_reason", func.coalesce(refreshed("cancel_reason"), old.cancel_reason, new.cancel_reason)),
        ("updated_at", refreshed("updated_at")),
    ]
    returned = (old.id, old.source_id, old.updated_at, old.status)
    if tx._is_mysql:
        conn.execute(insert.on_duplicate_key_update(assignments), params)
        return {row.source_id: row for row in mysql.locked_rows(
            conn, select(*returned).where(old.shop_id == shop_id), old.source_id, list(incoming_keys(page)))}
    stmt = insert.on_conflict_do_update(
        index_elements=[old.shop_id, old.source_id], set_=dict(assignments)).returning(*returned)
    return {row.source_id: row for row in conn.execute(stmt, params)}


def incoming_keys(page: list[OrderVerdict]) -> list[str]:
    return [verdict.order.source_id for verdict in page]


def _upsert_items(
    tx: TxBase, conn: Connection, page: list[OrderVerdict], stored_orders: dict[str, Any], stale: set[str]
) -> dict[tuple[int, str], Any]:
    """Insert or refresh the page's items; return each row's id, quantity and canceled quantity.

    The rows come back through RETURNING, under the row lock the upsert takes, instead of from
    a ``SELECT ... WHERE order_id IN (...) FOR UPDATE``: the upsert finds its rows through the
    unique (order_id, source_id) index whatever the planner thinks, while that SELECT turns
    into a sequential scan of every item of every shop when the table's statistics lag behind
    a bulk import (measured: 0.9 s per page at 250,000 items with autovacuum off).
    """
    fresh_rows: list[dict[str, Any]] = []
    stale_rows: list[dict[str, Any]] = []
    for verdict in page:
        order_id = stored_orders[verdict.order.source_id].id
        target = stale_rows if verdict.order.source_id in stale else fresh_rows
        target.extend(
            {
                "order_id": order_id, "source_id": item.line_source_id, "sku": item.sku, "title": item.title,
                "quantity": item.quantity, "fulfilled_quantity": item.fulfilled_quantity,
                "canceled_quantity": 0, "status": OrderItemStatus.OPEN.value,
            }
            for item in _unique_items(verdict)
        )  # fmt: skip
    old = order_items.c
    returned = (old.id, old.order_id, old.source_id, old.quantity, old.canceled_quantity)
    stored: dict[tuple[int, str], Any] = {}
    if fresh_rows:
        insert, params = _insert_rows(tx, order_items, fresh_rows)
        new = insert.inserted if tx._is_mysql else insert.excluded
        # constants written into the statement: PyMySQL's executemany takes no parameters in
        # the ON DUPLICATE KEY UPDATE clause it repeats after the rows
        none: Any = literal_column("0")
        canceled, partly, open_ = (literal_column(f"'{status.value}'", String) for status in (  # fixed words, no quotes
            OrderItemStatus.CANCELED, OrderItemStatus.PARTIALLY_CANCELED, OrderItemStatus.OPEN))
        status = case(
            (and_(old.canceled_quantity > none, old.canceled_quantity >= new.quantity), canceled),
            (old.canceled_quantity > none, partly),
            else_=open_,
        )
        assignments = {"sku": new.sku, "title": new.title, "quantity": new.quantity,
                       "fulfilled_quantity": new.fulfilled_quantity, "status": status}  # fmt: skip
        if tx._is_mysql:
            conn.execute(insert.on_duplicate_key_update(assignments), params)
        else:
            stmt = insert.on_conflict_do_update(index_elements=[old.order_id, old.source_id],
                                                set_=assignments).returning(*returned)
            stored.update(((row.order_id, row.source_id), row) for row in conn.execute(stmt, params))
    if stale_rows:
        # Lines of an order stored in a newer version: add lines never seen, keep the others as
        # they are (the no-op SET still locks and returns them).
        insert, params = _insert_rows(tx, order_items, stale_rows)
        if tx._is_mysql:
            conn.execute(insert.on_duplicate_key_update({"source_id": old.source_id}), params)
        else:
            stmt = insert.on_conflict_do_update(
                index_elements=[old.order_id, old.source_id], set_={"source_id": old.source_id}
            ).returning(*returned)
            stored.update(((row.order_id, row.source_id), row) for row in conn.execute(stmt, params))
    if tx._is_mysql:
        wanted = {(row["order_id"], row["source_id"]) for row in (*fresh_rows, *stale_rows)}
        order_ids = sorted({order_id for order_id, _ in wanted})
        rows = mysql.locked_rows(conn, select(*returned), old.order_id, order_ids)
        stored.update(((row.order_id, row.source_id), row) for row in rows
                      if (row.order_id, row.source_id) in wanted)
    return stored


def _record_history(tx: TxBase, conn: Connection, history: list[dict[str, Any]]) -> tuple[Cancellation, ...]:
    if not history:
        return ()
    # On PostgreSQL the writing transaction's id orders the history for pollers
    # (list_cancellations); SQLite's writers take turns, so there the ids alone are in commit order.
    # Matched back by item_id (unique within a page) rather than sort_by_parameter_order, which
    # SQLite can only honour by inserting one row per statement.
    if tx._is_mysql:
        ids = mysql.insert_history(tx, conn, history)
        return tuple(Cancellation(id=ids[row["item_id"]], **row) for row in history)
    insert, params = _insert_rows(tx, cancellations, history, computed={"commit_txid": CURRENT_TXID})
    stmt = insert.returning(cancellations.c.id, cancellations.c.item_id)
    ids = {item_id: row_id for row_id, item_id in conn.execute(stmt, params)}
    return tuple(Cancellation(id=ids[row["item_id"]], **row) for row in history)


def _mark_canceled(conn: Connection, newly_canceled: list[OrderVerdict], stored_orders: dict[str, Any]) -> None:
    cancelled_at = bindparam("b_cancelled_at", type_=orders.c.cancelled_at.type)
    reason = bindparam("b_reason", type_=orders.c.cancel_reason.type)
    conn.execute(
        update(orders)
        .where(orders.c.id == bindparam("b_id"))
        .values(
            status=OrderStatus.CANCELED.value,
            cancelled_at=func.coalesce(orders.c.cancelled_at, cancelled_at),
            cancel_reason=func.coalesce(orders.c.cancel_reason, reason),
        ),
        [
            {
                "b_id": stored_orders[v.order.source_id].id,
                "b_cancelled_at": v.order.cancelled_at or v.order.updated_at,
                "b_reason": v.order.cancel_reason,
            }
            for v in newly_canceled
        ],
    )
