"""``sync-gateway jobs``: list jobs and change their schedules."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from . import context
from .context import console

app = typer.Typer(no_args_is_help=True, help="List jobs and change their schedules.")


@app.command("list")
def list_jobs() -> None:
    """List jobs with schedule, next run and last run."""
    from rich.table import Table

    from core.schedules import describe

    runtime = context.runtime()
    table = Table("id", "shop", "kind", "schedule", "paused", "next run", "last run")
    with runtime.storage.transaction() as tx:
        for job in tx.list_jobs():
            last = tx.latest_run(job.id)
            table.add_row(str(job.id), job.shop, job.kind, describe(job.schedule), "yes" if job.paused else "",
                          f"{job.next_run_at:%Y-%m-%d %H:%M:%S}" if job.next_run_at else "-",
                          f"{last.status.value} #{last.id}" if last else "-")
    runtime.close()
    console.print(table)


@app.command("schedule")
def schedule(
    job_id: int,
    cron: Annotated[Optional[str], typer.Option(help="Cron expression, e.g. '0 * * * *'.")] = None,
    every: Annotated[Optional[int], typer.Option(help="Interval in seconds.")] = None,
    timezone: Annotated[Optional[str], typer.Option(help="IANA timezone for cron.")] = None,
) -> None:
    """Change a job's schedule (applies at the scheduler's next tick)."""
    from core.jobcontrol import update_schedule
    from core.schedules import describe

    runtime = context.runtime()
    try:
        job = update_schedule(runtime, job_id, cron=cron, every_seconds=every, timezone=timezone)
    finally:
        runtime.close()
    console.print(f"job {job.id}: {describe(job.schedule)}; next run {job.next_run_at:%Y-%m-%d %H:%M:%S %Z}")
