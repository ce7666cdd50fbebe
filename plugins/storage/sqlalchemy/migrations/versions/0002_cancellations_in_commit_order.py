"""The cancellation history in commit order: ``commit_txid``, and ids SQLite never reuses.

Paging by ``(recorded_at, id)`` let a poller skip a row that a slower transaction committed after
the poller had read past it. Rows written before this revision get ``commit_txid`` 0: they were
all committed before any new one.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # SQLite: rebuild the table so that it is AUTOINCREMENT (ALTER TABLE cannot change that).
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("cancellations", recreate="always" if sqlite else "auto",
                              table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.add_column(sa.Column("commit_txid", sa.BigInteger(), server_default="0", nullable=False))
        batch.drop_index("ix_cancellations_recorded_at_id")
        batch.create_index("ix_cancellations_commit_txid_id", ["commit_txid", "id"], unique=False)
        batch.create_index("ix_cancellations_shop_id_commit_txid_id", ["shop_id", "commit_txid", "id"], unique=False)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("cancellations", recreate="always" if sqlite else "auto",
                              table_kwargs={"sqlite_autoincrement": False}) as batch:
        batch.drop_index("ix_cancellations_shop_id_commit_txid_id")
        batch.drop_index("ix_cancellations_commit_txid_id")
        batch.create_index("ix_cancellations_recorded_at_id", ["recorded_at", "id"], unique=False)
        batch.drop_column("commit_txid")
