"""The commit sequence MySQL and MariaDB number the cancellation history with (see
``plugins/storage/sqlalchemy/mysql.py``): one row, id 1. Created on every database so that the
schema is the same everywhere; only MySQL and MariaDB use it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL_TABLE: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin", "mysql_engine": "InnoDB"}


def upgrade() -> None:
    table = op.create_table(
        "commit_sequence",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commit_sequence")),
        **MYSQL_TABLE,
    )
    op.bulk_insert(table, [{"id": 1, "last": 0}])


def downgrade() -> None:
    op.drop_table("commit_sequence")
