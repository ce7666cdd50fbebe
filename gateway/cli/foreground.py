"""``sync-gateway run``, ``backfill`` and ``jobs run`` without Redis: one window now, in this process,
with live progress and a summary."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import overload

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from core import validation
from core.jobcontrol import find_shop
from core.models import JobRun, JobRunStatus, RunProgress, RunTrigger
from core.new_runs import record_run
from core.runs import execute_run
from core.runtime import Runtime

log = logging.getLogger("sync_gateway")


def run_backfill(runtime: Runtime, *, shop_name: str, since: datetime, until: datetime | None,
                 console: Console) -> bool:
    """Import ``[since, until)`` (default end: now minus the settle buffer) as a BACKFILL run of the
    shop's canceled-items job (its source takes the faster path for long windows, a bulk query);
    True if it succeeded."""
    from core.jobcontrol import backfill_window
    from core.models import Window

    since, end = backfill_window(runtime, since.replace(tzinfo=since.tzinfo or UTC), aware(until))
    total = count_orders(runtime, shop_name, Window(since, end))
    return run_foreground(runtime, shop_name=shop_name, kind="canceled-items", window_from=since, window_thru=end,
                          console=console, trigger=RunTrigger.BACKFILL, total=total)


def count_orders(runtime: Runtime, shop_name: str, window: object) -> int | None:
    """The window's size for the progress bar, if the shop's source can count (optional)."""
    import anyio

    with runtime.storage.transaction() as tx:
        shop = find_shop(tx, shop_name)
    source = runtime.source_for(shop)
    count = getattr(source, "count_orders", None)

    async def counted() -> int | None:
        try:
            return await count(window) if count is not None else None
        except Exception as exc:  # noqa: BLE001 - only the bar's total is lost; the run reports real failures
            log.warning("could not count the backfill window's orders: %s", exc)
            return None
        finally:
            await source.aclose()

    return anyio.run(counted)


def run_foreground(runtime: Runtime, *, shop_name: str, kind: str, window_from: datetime | None,
                   window_thru: datetime | None, console: Console, trigger: RunTrigger = RunTrigger.MANUAL,
                   total: int | None = None) -> bool:
    """Execute one run of the shop's ``kind`` job; print a one-line summary; True if it succeeded.

    ``total`` (orders expected) turns the spinner into a progress bar."""
    window_from, window_thru = validation.window(aware(window_from), aware(window_thru), now=runtime.now(),
                                                 names=("--from", "--thru"))
    with runtime.storage.transaction() as tx:
        shop = find_shop(tx, shop_name)
        job = tx.find_job(shop.id, kind)
        if job is None:
            from core.errors import NotFoundError

            raise NotFoundError(f"shop {shop_name!r} has no {kind!r} job")
        run = record_run(tx, job_id=job.id, trigger=trigger, now=runtime.now(), window_from=window_from,
                         window_thru=window_thru)
    return follow_run(runtime, run, shop_name=shop_name, kind=kind, console=console, total=total)


def follow_run(runtime: Runtime, run: JobRun, *, shop_name: str, kind: str, console: Console,
               total: int | None = None) -> bool:
    """Execute the QUEUED ``run`` here with live progress; print a one-line summary; True if it
    succeeded. ``total`` (orders expected) turns the spinner into a progress bar."""
    trigger = run.trigger
    started = time.monotonic()
    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(bar_width=None),
                  TextColumn("{task.fields[detail]}"), TimeElapsedColumn(), console=console,
                  transient=True) as progress:
        label = f"{'backfill' if trigger is RunTrigger.BACKFILL else kind} {shop_name}"
        task = progress.add_task(label, total=total, detail="starting")

        def show(p: RunProgress) -> None:
            progress.update(task, completed=p.orders_seen, detail=f"{p.orders_seen:,} orders, {p.units_canceled:,} "
                                                                  f"units canceled, page {p.pages}")

        final = execute_run(runtime, run.id, progress=show)
    console.print(summary_line(final, shop_name, kind, time.monotonic() - started))
    return final.status is JobRunStatus.SUCCEEDED


def summary_line(run: JobRun, shop: str, kind: str, seconds: float) -> str:
    window = ""
    if run.window_from and run.window_thru:
        window = f" window {run.window_from:%Y-%m-%d %H:%M:%S} → {run.window_thru:%Y-%m-%d %H:%M:%S} UTC;"
    if run.status is JobRunStatus.SUCCEEDED:
        rate = run.orders_seen / seconds if seconds > 0 else 0.0
        return (f"[green]✓[/] {kind} {shop}: {run.orders_seen:,} orders in {seconds:.2f}s ({rate:,.0f}/s);"
                f"{window} {run.items_canceled:,} items / {run.units_canceled:,} units canceled, "
                f"{run.orders_canceled:,} orders canceled; API cost {run.api_cost:,.0f} points, "
                f"{run.throttled} throttled, {run.retries} retries (run #{run.id})")
    if run.status is JobRunStatus.SKIPPED:
        return f"[yellow]–[/] {kind} {shop}: skipped: {run.error} (run #{run.id})"
    ended = "lost (its worker vanished)" if run.status is JobRunStatus.LOST else "failed"
    return f"[red]✗[/] {kind} {shop}: {ended} after {seconds:.2f}s: {run.error} (run #{run.id}; watermark unchanged)"


@overload
def aware(value: datetime) -> datetime: ...
@overload
def aware(value: None) -> None: ...
@overload
def aware(value: datetime | None) -> datetime | None: ...


def aware(value: datetime | None) -> datetime | None:
    """A time given on the command line without an offset is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
