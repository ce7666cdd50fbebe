"""``sync-gateway db``: the database schema (Alembic migrations)."""

from __future__ import annotations

import typer

from . import context
from .context import console

app = typer.Typer(no_args_is_help=True, help="Database schema.")


@app.command("upgrade")
def upgrade() -> None:
    """Create or migrate the database schema to the newest version."""
    runtime = context.runtime(upgrade=True)
    runtime.close()
    console.print(f"database is up to date ({context.redacted(runtime.settings.database)})")
