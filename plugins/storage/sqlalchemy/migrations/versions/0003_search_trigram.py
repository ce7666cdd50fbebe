"""Order search served by trigram indexes on PostgreSQL: ``pg_trgm`` GIN indexes on the order
name and the item SKU, which answer the ``ILIKE '%term%'`` / ``ILIKE 'term%'`` that ``search``
runs (see :mod:`..orders`). SQLite and MariaDB have no such index: there the search scans,
bounded by the term's length limit (core.Limits.SEARCH); this revision does nothing on them.

``fastupdate = off``: a GIN index otherwise queues new entries in a pending list that every
search reads in full until VACUUM merges it; after a bulk import of 100,000 orders that made a
search that matches nothing take 77 ms instead of 0.4 ms (bench/search.py, docs/benchmarks.md).
Each insert updates the index at once instead, a cost the import pays (measured there too).

Building the indexes takes a lock that blocks writes to ``orders`` and ``order_items`` while it
runs (seconds per million rows); run it when no import is writing.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (("ix_orders_name_trgm", "orders", "name"), ("ix_order_items_sku_trgm", "order_items", "sku"))


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # A trusted extension since PostgreSQL 13: the database's owner may create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        op.create_index(name, table, [column], postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"},
                        postgresql_with={"fastupdate": "off"})


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, table, _column in INDEXES:
        op.drop_index(name, table_name=table)
    # pg_trgm stays: other schemas in the database may use it, and dropping it is the owner's call.
