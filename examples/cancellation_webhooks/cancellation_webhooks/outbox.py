"""The durable outbox: the plugin's own tables, fed from the gateway's cancellation feed.

Why the feed and not ``on_items_canceled``: that hook runs after the store's commit, so a crash
between the commit and writing an outbox row would lose the row. The feed (``list_cancellations``)
is commit-ordered and resumable from a keyset cursor, so it is the durable source: ``ingest``
copies the rows after the cursor into ``cwh_delivery`` and moves the cursor *in one transaction
of the outbox's database*; a crash before that commit re-reads the same rows, after it the rows
are safe. ``deliver`` POSTs due rows and marks them only after the endpoint answered 2xx, so a
crash mid-delivery sends that row again: at least once, and ``deliveryId`` lets receivers dedupe.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core import Storage

from .body import delivery_body

metadata = sa.MetaData()

cursor_table = sa.Table(
    "cwh_cursor", metadata,
    sa.Column("feed", sa.String(40), primary_key=True),
    sa.Column("after", sa.String(200), nullable=True),  # the feed's opaque keyset cursor
)

delivery_table = sa.Table(
    "cwh_delivery", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("cancellation_id", sa.BigInteger, nullable=False, unique=True),  # a row enters once
    sa.Column("body", sa.Text, nullable=False),  # frozen at ingest: every attempt sends the same bytes
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_error", sa.String(300), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
    sa.Index("ix_cwh_delivery_due", "status", "next_attempt_at"),
)

FEED = "cancellations"


class Status(str, enum.Enum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    cancellation_id: int
    body: bytes
    status: Status
    attempts: int
    next_attempt_at: datetime
    last_error: str | None


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one POST came to: ``error`` is None on a 2xx answer."""

    error: str | None


_WRITES = "cwh_writes"


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A transaction that writes (on SQLite it takes the write lock when it begins)."""
    with engine.connect() as conn:
        conn.execution_options(**{_WRITES: True})
        with conn.begin():
            yield conn


def open_outbox(url: str) -> Engine:
    """An engine on the outbox's database, its tables created if missing (they are this plugin's,
    outside the gateway's Alembic history)."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _no_implicit_begin(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we send BEGIN ourselves, below

        @sa.event.listens_for(engine, "begin")
        def _write_lock_first(connection: Any) -> None:
            # A deferred transaction that reads then writes fails at once (SQLITE_BUSY) when the
            # gateway wrote in between; taking the write lock up front makes it wait instead.
            # Reads stay deferred, so they never wait for (nor hold up) the gateway's writers.
            writes = connection.get_execution_options().get(_WRITES, False)
            connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")
    else:
        engine = sa.create_engine(url, pool_pre_ping=True)
    metadata.create_all(engine, checkfirst=True)
    return engine


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)  # SQLite returns naive datetimes


def ingest(engine: Engine, storage: Storage, *, batch: int, now: Callable[[], datetime] = _now) -> int:
    """Copy the feed's rows after the stored cursor into the outbox; returns how many were new."""
    with engine.connect() as conn:
        after = conn.execute(sa.select(cursor_table.c.after).where(cursor_table.c.feed == FEED)).scalar()
    with storage.read() as tx:
        page = tx.list_cancellations(first=batch, after=after)
        if not page.items:
            return 0
        shops = {shop.id: shop for shop in tx.list_shops()}
        orders = tx.get_orders(sorted({c.order_id for c in page.items}))
        items = tx.get_items(sorted({c.item_id for c in page.items}))
    rows = [(c.id, delivery_body(c, shop=shops.get(c.shop_id), order=orders.get(c.order_id),
                                 item=items.get(c.item_id))) for c in page.items]
    at = now()
    with writing(engine) as conn:
        # Compare-and-set on the cursor: a second `run` that read the same page loses here and
        # rolls back, so rows are never inserted twice.
        moved = conn.execute(sa.update(cursor_table).where(cursor_table.c.feed == FEED,
                                                            cursor_table.c.after == after)
                             .values(after=page.cursors[-1])).rowcount if after is not None else 0
        if after is None:
            conn.execute(sa.insert(cursor_table).values(feed=FEED, after=page.cursors[-1]))
        elif moved != 1:
            raise RuntimeError("another process moved the cancellation feed's cursor; run one deliverer")
        known: set[int] = set(conn.execute(sa.select(delivery_table.c.cancellation_id)
                                 .where(delivery_table.c.cancellation_id.in_([cid for cid, _ in rows]))).scalars())
        fresh = [{"cancellation_id": cid, "body": json.dumps(body, sort_keys=True), "status": Status.PENDING.value,
                  "attempts": 0, "next_attempt_at": at, "created_at": at} for cid, body in rows if cid not in known]
        if fresh:
            conn.execute(sa.insert(delivery_table), fresh)
    return len(fresh)


def _row(row: Any) -> Delivery:
    return Delivery(id=row.id, cancellation_id=row.cancellation_id, body=_with_id(row.id, row.body),
                    status=Status(row.status), attempts=row.attempts,
                    next_attempt_at=_aware(row.next_attempt_at), last_error=row.last_error)


def _with_id(delivery_id: int, body: str) -> bytes:
    # deliveryId is the outbox row's id: the same on every attempt and replay, so receivers dedupe by it
    return json.dumps({"deliveryId": delivery_id, **json.loads(body)}, sort_keys=True).encode()


def due(engine: Engine, *, batch: int, now: datetime) -> list[Delivery]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(delivery_table)
                            .where(delivery_table.c.status == Status.PENDING.value,
                                   delivery_table.c.next_attempt_at <= now)
                            .order_by(delivery_table.c.id).limit(batch)).all()
    return [_row(row) for row in rows]


def backoff(attempts: int, *, base: float, cap: float) -> timedelta:
    """The wait after the ``attempts``-th failure: ``base * 2**(attempts-1)``, at most ``cap``."""
    return timedelta(seconds=min(cap, base * 2 ** (attempts - 1)))


def record(engine: Engine, delivery: Delivery, attempt: Attempt, *, now: datetime, max_attempts: int,
           base: float, cap: float) -> Status:
    """Store what an attempt came to: delivered, retried later, or dead after ``max_attempts``."""
    attempts = delivery.attempts + 1
    if attempt.error is None:
        values: dict[str, Any] = {"status": Status.DELIVERED.value, "delivered_at": now, "last_error": None}
    elif attempts >= max_attempts:
        values = {"status": Status.DEAD.value, "last_error": attempt.error[:300]}
    else:
        values = {"status": Status.PENDING.value, "last_error": attempt.error[:300],
                  "next_attempt_at": now + backoff(attempts, base=base, cap=cap)}
    with writing(engine) as conn:
        conn.execute(sa.update(delivery_table).where(delivery_table.c.id == delivery.id)
                     .values(attempts=attempts, **values))
    return Status(values["status"])


def listing(engine: Engine, *, status: Status | None = None, limit: int = 100) -> list[Delivery]:
    query = sa.select(delivery_table).order_by(delivery_table.c.id).limit(limit)
    if status is not None:
        query = query.where(delivery_table.c.status == status.value)
    with engine.connect() as conn:
        return [_row(row) for row in conn.execute(query).all()]


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        found: dict[str, int] = dict(conn.execute(sa.select(delivery_table.c.status, sa.func.count())
                                  .group_by(delivery_table.c.status)).all())
    return {status.value: int(found.get(status.value, 0)) for status in Status}


def replay(engine: Engine, ids: Sequence[int] | None = None, *, now: Callable[[], datetime] = _now) -> int:
    """Send dead letters again from a fresh count of attempts: those of ``ids``, or all of them.
    Returns how many were dead and are pending again (an id not dead is left alone)."""
    query = sa.update(delivery_table).where(delivery_table.c.status == Status.DEAD.value)
    if ids is not None:
        query = query.where(delivery_table.c.id.in_(list(ids)))
    with writing(engine) as conn:
        return conn.execute(query.values(status=Status.PENDING.value, attempts=0, next_attempt_at=now())).rowcount
