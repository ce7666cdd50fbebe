"""The schema as typed SQLAlchemy 2 models. Alembic owns it: change a model, then add a migration.

Rows of these classes never leave the plugin; :mod:`.convert` turns them into ``core`` records.
Enumerations are stored as short strings (not native enums) so adding a value needs no ALTER TYPE.
Every timestamp is a :class:`UtcDateTime`: timezone-aware in, timezone-aware UTC out, on every
database.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Named constraints, so Alembic's SQLite batch mode and downgrades can refer to them."""


NAIVE_UTC = frozenset({"sqlite", "mysql", "mariadb"})
"""Databases whose timestamps carry no zone: UTC is stored without one."""

MYSQL_TIMESTAMP = mysql.DATETIME(fsp=6)

DOUBLE = Float().with_variant(mysql.DOUBLE(), "mysql", "mariadb")
"""A double-precision float everywhere (MySQL's FLOAT is single precision)."""

MYSQL_TABLE = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin", "mysql_engine": "InnoDB"}
"""MySQL table options: every character, compared exactly, as PostgreSQL and SQLite compare text
(the server's default collation is usually case-insensitive: "North" would clash with "north")."""


class UtcDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that refuses naive values and always returns aware UTC.

    PostgreSQL keeps the instant in ``timestamptz``. SQLite has no timezone type, so values are
    stored as naive UTC text (one fixed format, so text order is time order) and made aware again
    on the way out. MySQL and MariaDB store naive UTC in ``DATETIME(6)`` (microseconds kept; its
    ``TIMESTAMP`` would convert through the session's time zone and ends in 2038).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name in NAIVE_UTC and dialect.name != "sqlite":
            return dialect.type_descriptor(MYSQL_TIMESTAMP)
        return dialect.type_descriptor(self.impl)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"timestamps must be timezone-aware datetimes, got {value!r}")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name in NAIVE_UTC else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is UTC:
            return value
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


POSTGRESQL_ONLY: set[str] = set()
"""Indexes that exist on PostgreSQL alone (:func:`trigram_index`)."""


def trigram_index(name: str, column: str) -> Index:
    """A PostgreSQL ``pg_trgm`` GIN index: it serves ``ILIKE '%term%'``; other databases have none
    (migration 0003)."""
    POSTGRESQL_ONLY.add(name)
    return Index(name, column, postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"},
                 postgresql_with={"fastupdate": "off"}).ddl_if(dialect="postgresql")


def include_object_on(dialect: str) -> Callable[..., bool]:
    """Alembic's ``include_object`` for a database of ``dialect``: autogenerate and schema
    comparisons skip the indexes that database never has (it ignores ``ddl_if``)."""

    def include(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
        return not (type_ == "index" and name in POSTGRESQL_ONLY and dialect != "postgresql")

    return include


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: JSON}


class ShopRow(Base):
    __tablename__ = "shops"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    source: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(512))
    api_version: Mapped[str] = mapped_column(String(32))
    token: Mapped[str | None] = mapped_column(Text)  # secret, encrypted (core.TokenCipher); only shop_credentials() returns it
    token_env: Mapped[str | None] = mapped_column(String(255))
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]


class JobRow(Base):
    __tablename__ = "jobs"
    __table_args__ = (UniqueConstraint("shop_id", "kind"), Index(None, "paused", "next_run_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))
    cron: Mapped[str | None] = mapped_column(String(255))
    every_seconds: Mapped[int | None] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(64))
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    skip_next: Mapped[bool] = mapped_column(Boolean, default=False)
    next_run_at: Mapped[datetime | None]
    # The single-flight lease: which run may work on this job until when. No foreign key to
    # job_runs (it would make the two tables reference each other); a pruned run's lease has
    # expired long before it is pruned.
    lease_run_id: Mapped[int | None] = mapped_column(Integer)
    lease_holder: Mapped[str | None] = mapped_column(String(255))
    lease_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class JobRunRow(Base):
    __tablename__ = "job_runs"
    __table_args__ = (Index(None, "job_id", "id"), Index(None, "status", "finished_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    trigger: Mapped[str] = mapped_column(String(16))
    window_from: Mapped[datetime | None]
    window_thru: Mapped[datetime | None]
    queued_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    orders_seen: Mapped[int] = mapped_column(Integer, default=0)
    items_canceled: Mapped[int] = mapped_column(Integer, default=0)
    units_canceled: Mapped[int] = mapped_column(Integer, default=0)
    orders_canceled: Mapped[int] = mapped_column(Integer, default=0)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    api_cost: Mapped[float] = mapped_column(DOUBLE, default=0.0)
    throttled: Mapped[int] = mapped_column(Integer, default=0)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    rq_job_id: Mapped[str | None] = mapped_column(String(255))
    slot: Mapped[str | None] = mapped_column(String(255))
    progress: Mapped[dict[str, Any]] = mapped_column(default=dict)


class WatermarkRow(Base):
    __tablename__ = "watermarks"

    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    thru: Mapped[datetime]
    updated_at: Mapped[datetime]


class OrderRow(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("shop_id", "source_id"),
        Index(None, "shop_id", "updated_at", "id"),
        Index(None, "updated_at", "id"),
        Index(None, "created_at", "id"),
        Index(None, "status"),
        trigram_index("ix_orders_name_trgm", "name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    source_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]  # the platform's updatedAt of the version stored
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    synced_at: Mapped[datetime]  # when we last wrote this order


class OrderItemRow(Base):
    __tablename__ = "order_items"
    __table_args__ = (UniqueConstraint("order_id", "source_id"), Index(None, "sku"),
                      trigram_index("ix_order_items_sku_trgm", "sku"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    source_id: Mapped[str] = mapped_column(String(255))
    sku: Mapped[str | None] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(Text)
    quantity: Mapped[int] = mapped_column(Integer)
    fulfilled_quantity: Mapped[int] = mapped_column(Integer, default=0)
    canceled_quantity: Mapped[int] = mapped_column(Integer, default=0)  # only ever grows
    status: Mapped[str] = mapped_column(String(24))


class CancellationRow(Base):
    """Append-only history: one row per increase of an item's canceled quantity.

    Integrators poll it in commit order, by ``(commit_txid, id)`` (see ``list_cancellations``).
    ``commit_txid`` is the writing transaction's id on PostgreSQL, its commit number on MySQL and
    MariaDB (:mod:`.mysql`), and 0 on SQLite, whose writers take turns, so there ids alone are in
    commit order; ``sqlite_autoincrement`` keeps SQLite
    from handing out again the ids of deleted rows (a shop's removal), which a poller is past.
    """

    __tablename__ = "cancellations"
    __table_args__ = (
        Index(None, "commit_txid", "id"),
        Index(None, "shop_id", "commit_txid", "id"),
        Index(None, "shop_id", "recorded_at"),
        Index(None, "item_id"),
        Index(None, "order_id", "canceled_at"),
        Index(None, "run_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    commit_txid: Mapped[int] = mapped_column(BigInteger, server_default="0")
    item_id: Mapped[int] = mapped_column(ForeignKey("order_items.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    quantity: Mapped[int] = mapped_column(Integer)
    canceled_at: Mapped[datetime]  # when the platform removed the units
    recorded_at: Mapped[datetime]  # when we stored the increase: what integrators poll by
    run_id: Mapped[int | None] = mapped_column(ForeignKey("job_runs.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(255), unique=True)  # never the token itself
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class WebhookDeliveryRow(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("shop_id", "delivery_id"), Index(None, "received_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    delivery_id: Mapped[str] = mapped_column(String(255))
    topic: Mapped[str] = mapped_column(String(128))
    received_at: Mapped[datetime]


class CommitSequenceRow(Base):
    """MySQL and MariaDB: the last commit number handed to a history-writing transaction (one
    row, id 1; see :mod:`.mysql`). The table exists on every database, unused elsewhere."""

    __tablename__ = "commit_sequence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(BigInteger, server_default="0")


# Core handles for statements that bypass the ORM unit of work (bulk upserts, compare-and-set).
shops = cast(Table, ShopRow.__table__)
jobs = cast(Table, JobRow.__table__)
job_runs = cast(Table, JobRunRow.__table__)
watermarks = cast(Table, WatermarkRow.__table__)
orders = cast(Table, OrderRow.__table__)
order_items = cast(Table, OrderItemRow.__table__)
cancellations = cast(Table, CancellationRow.__table__)
api_tokens = cast(Table, ApiTokenRow.__table__)
webhook_deliveries = cast(Table, WebhookDeliveryRow.__table__)
commit_sequence = cast(Table, CommitSequenceRow.__table__)
