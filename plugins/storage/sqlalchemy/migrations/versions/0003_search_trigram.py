"""A stand-in for the search migration of the same revision, which another branch adds.

It changes nothing; it exists so that 0004 has its parent on this branch. When the branches
meet, the real 0003 replaces it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
