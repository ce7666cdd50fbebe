"""MySQL and MariaDB (InnoDB, through PyMySQL): what they need that the other databases do not.

**Reading back what an upsert wrote.** MySQL has no ``INSERT ... RETURNING`` (MariaDB has it, but
not for the rows ``ON DUPLICATE KEY UPDATE`` changed), so a page's upserts are followed by one
``SELECT ... FOR UPDATE`` through the same unique index (:func:`locked_rows`). The upsert has
locked those rows already; the locking read returns their latest committed values, as RETURNING
does on PostgreSQL (a plain read could return an older snapshot's). Writers run READ COMMITTED,
as on PostgreSQL, so InnoDB takes no gap locks between a page's keys.

**One shop's pages take turns** (:func:`lock_shop_pages`): InnoDB's duplicate-key checks take
next-key locks, and two upserts inserting the same new orders at once could deadlock.

**The cancellation history in commit order.** Integrators poll ``list_cancellations`` by
``(commit_txid, id)`` and must never find a row appear behind their cursor. PostgreSQL stamps a
row with its transaction id and holds back rows newer than the oldest running transaction
(``pg_snapshot_xmin``); InnoDB exposes nothing alike (its transaction ids are assigned at the
first write, not at commit, and a reader cannot ask which are still running). So the order is
made at commit: a unit of work that wrote history rows (:func:`insert_history`, with
``commit_txid`` = :data:`PENDING`) takes the next number of a one-row counter,
``commit_sequence``, just before COMMIT (:func:`stamp_commit`) and writes it into its rows. The
counter's row lock is held until COMMIT returns, so the next writer gets its number only after
this one's rows are visible: numbers are handed out in commit order, and a reader that sees a
number has already been able to see every smaller one. Pending rows are never visible to
another transaction (they are uncommitted), so readers need no filter.

*Cost*: the commits of transactions that wrote history take turns on that one row, for the
length of one UPDATE by primary key and the COMMIT itself (its log flush); the pages' work
before it runs concurrently, and units of work that record no history never touch the counter.
The lock is the last one a transaction takes, and it holds no other wait, so it adds no
deadlock. (Alternatives weighed: ``GET_LOCK`` around the commit needs the same turn-taking plus
a release that a dropped connection can skip; stamping at the first write instead of at commit
would hold the counter for the whole transaction and serialise the pages themselves.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Connection, Select, bindparam, insert, literal_column, select, update

from .base import TxBase, chunks
from .tables import cancellations, commit_sequence, shops

PENDING = -1
"""``commit_txid`` of a history row whose unit of work has not committed yet (MySQL only)."""


def lock_shop_pages(conn: Connection, shop_id: int) -> None:
    """Two pages of one shop are stored one after the other (``SELECT ... FOR UPDATE`` of the shop).

    InnoDB checks a new key's uniqueness under next-key locks, even in READ COMMITTED, and two
    multi-row upserts inserting the same new orders at once (a webhook and a run) deadlocked
    (error 1213) in the contract suite's concurrency tests on a loaded machine. Pages of other
    shops still run at once.
    """
    conn.execute(select(shops.c.id).where(shops.c.id == shop_id).with_for_update())


def locked_rows(conn: Connection, query: Select[Any], key: Column[Any], values: Sequence[Any]) -> list[Any]:
    """``query`` narrowed to ``key IN values``, read ``FOR UPDATE`` (latest committed values), in batches."""
    found: list[Any] = []
    for start in range(0, len(values), 5000):
        batch = list(values[start:start + 5000])
        found += conn.execute(query.where(key.in_(batch)).with_for_update()).all()
    return found


def insert_history(tx: TxBase, conn: Connection, history: list[dict[str, Any]]) -> dict[int, int]:
    """Insert the page's history rows as pending; return each row's id by its item id.

    The ids are read back among this transaction's pending rows of these items (another
    transaction's pending rows are invisible to it), leaving out those of earlier pages of the
    same unit of work.
    """
    conn.execute(insert(cancellations), [{**row, "commit_txid": PENDING} for row in history])
    item_ids = sorted({row["item_id"] for row in history})
    seen = set(tx._pending_history)
    ids: dict[int, int] = {}
    for chunk in chunks(item_ids):
        query = (select(cancellations.c.id, cancellations.c.item_id)
                 .where(cancellations.c.commit_txid == PENDING, cancellations.c.item_id.in_(chunk)))
        ids.update((row.item_id, row.id) for row in conn.execute(query) if row.id not in seen)
    tx._pending_history += ids.values()
    return ids


def stamp_commit(tx: TxBase) -> None:
    """Just before COMMIT: give this unit of work's history rows the next commit number."""
    if not tx._pending_history:
        return
    conn = tx._conn
    # LAST_INSERT_ID(expr) hands the new value back on this connection without a second read
    conn.execute(update(commit_sequence).where(commit_sequence.c.id == 1)
                 .values(last=literal_column("LAST_INSERT_ID(last + 1)")))
    number: int = conn.exec_driver_sql("SELECT LAST_INSERT_ID()").scalar_one()
    for chunk in chunks(tx._pending_history):
        conn.execute(update(cancellations).where(cancellations.c.id.in_(bindparam("ids", expanding=True)))
                     .values(commit_txid=number), {"ids": chunk})
    tx._pending_history.clear()
