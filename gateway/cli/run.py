"""``sync-gateway run canceled-items`` and ``backfill``: one window now, by shop name, in the
foreground with a progress bar (:mod:`.foreground`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Optional

import typer

from . import context
from .context import console

app = typer.Typer(no_args_is_help=True, help="Run a job once now, in the foreground.")


@app.command("canceled-items")
def canceled_items(
    shop: Annotated[str, typer.Option(help="Shop name.")],
    window_from: Annotated[Optional[datetime], typer.Option("--from", help="Window start (ISO, UTC if no offset).")] = None,
    window_thru: Annotated[Optional[datetime], typer.Option("--thru", help="Window end (ISO, UTC if no offset).")] = None,
) -> None:
    """Import one window now, in the foreground, with a progress bar."""
    from .foreground import run_foreground

    runtime = context.runtime()
    try:
        ok = run_foreground(runtime, shop_name=shop, kind="canceled-items", window_from=window_from,
                            window_thru=window_thru, console=console)
    finally:
        runtime.close()
    raise typer.Exit(0 if ok else 1)


def backfill(
    shop: Annotated[str, typer.Option(help="Shop name.")],
    since: Annotated[datetime, typer.Option(help="Window start (ISO, UTC if no offset).")],
    until: Annotated[Optional[datetime], typer.Option(help="Window end (default: now minus the settle buffer).")] = None,
) -> None:
    """Import a long past window now (a bulk query where the source has one), with a progress bar."""
    from .foreground import run_backfill

    runtime = context.runtime()
    try:
        ok = run_backfill(runtime, shop_name=shop, since=since, until=until, console=console)
    finally:
        runtime.close()
    raise typer.Exit(0 if ok else 1)
