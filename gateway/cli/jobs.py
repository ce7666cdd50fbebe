"""``sync-gateway jobs``: list jobs, change their schedules, pause, resume, skip, run now, backfill
and read their run history; the same core functions as the GraphQL mutations
(:mod:`core.jobcontrol`).

A job is named by its id (``jobs list`` shows it) or by ``--shop NAME`` and ``--kind``.

``jobs run`` and ``jobs backfill`` put the run on the queue when REDIS_URL is set: a
``sync-gateway worker`` executes it (``--wait`` follows it to the end). Without Redis the queue
is embedded in each process, and no worker could ever see a run queued from here, so the run
executes in this process, in the foreground with a progress bar, as ``run canceled-items`` does.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from . import context
from .context import console, err

if TYPE_CHECKING:
    from collections.abc import Callable

    from core.new_runs import Enqueue
    from core.models import Job, JobRun
    from core.runtime import Runtime

app = typer.Typer(no_args_is_help=True,
                  help="List jobs, change schedules, pause, resume, skip, run now, backfill, read run history.")

DEFAULT_KIND = "canceled-items"
FOREGROUND = "foreground"
"""The queue id recorded for a run this process executes itself."""

JobIdArg = Annotated[Optional[int], typer.Argument(help="The job's id (see `sync-gateway jobs list`); or --shop.",
                                                   metavar="JOB_ID", show_default=False)]
ShopOpt = Annotated[Optional[str], typer.Option(help="The shop's name, instead of a job id.")]
KindOpt = Annotated[str, typer.Option(help="The job's kind, with --shop.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print a JSON array.")]
TIME_HELP = "ISO 8601, UTC if no offset"


def select_job(runtime: Runtime, job_id: int | None, shop: str | None, kind: str) -> Job:
    """The job named on the command line: by id, or by shop and kind."""
    from core.errors import NotFoundError, ValidationError
    from core.jobcontrol import find_shop

    if (job_id is None) == (shop is None):
        raise ValidationError("name the job by its id or by --shop NAME (with --kind), not both" if shop
                              else "name the job by its id or by --shop NAME (with --kind)", field="jobId",
                              suggestion="list jobs with `sync-gateway jobs list`")
    with runtime.storage.read() as tx:
        if job_id is not None:
            job = tx.get_job(job_id)
            if job is None:
                raise NotFoundError(f"job {job_id} does not exist",
                                    suggestion="list jobs with `sync-gateway jobs list`")
            return job
        assert shop is not None
        owner = find_shop(tx, shop)
        found = tx.find_job(owner.id, kind)
        if found is None:
            kinds = ", ".join(sorted(j.kind for j in tx.list_jobs(owner.id))) or "none"
            raise NotFoundError(f"shop {shop!r} has no {kind!r} job (its jobs: {kinds})")
        return found


@app.command("list")
def list_jobs(as_json: JsonOpt = False) -> None:
    """List jobs with schedule, next run and last run."""
    from rich.table import Table

    from core.schedules import describe

    from .output import job_record, print_list

    runtime = context.runtime()
    try:
        with runtime.storage.read() as tx:
            jobs = tx.list_jobs()
            latest = tx.latest_runs([job.id for job in jobs])
    finally:
        runtime.close()
    if as_json:
        print_list(job_record(job, latest.get(job.id)) for job in jobs)
        return
    table = Table("id", "shop", "kind", "schedule", "paused", "next run", "last run")
    for job in jobs:
        last = latest.get(job.id)
        table.add_row(str(job.id), job.shop, job.kind, describe(job.schedule), "yes" if job.paused else "",
                      f"{job.next_run_at:%Y-%m-%d %H:%M:%S}" if job.next_run_at else "-",
                      f"{last.status.value} #{last.id}" if last else "-")
    console.print(table)


@app.command("schedule")
def schedule(
    job_id: JobIdArg = None,
    cron: Annotated[Optional[str], typer.Option(help="Cron expression, e.g. '0 * * * *'.")] = None,
    every: Annotated[Optional[int], typer.Option(help="Interval in seconds.")] = None,
    timezone: Annotated[Optional[str], typer.Option(help="IANA timezone for cron.")] = None,
    shop: ShopOpt = None,
    kind: KindOpt = DEFAULT_KIND,
) -> None:
    """Change a job's schedule (applies at the scheduler's next tick)."""
    from core.jobcontrol import update_schedule
    from core.schedules import describe

    runtime = context.runtime()
    try:
        job = update_schedule(runtime, select_job(runtime, job_id, shop, kind).id, cron=cron,
                              every_seconds=every, timezone=timezone)
    finally:
        runtime.close()
    console.print(f"job {job.id}: {describe(job.schedule)}; next run {job.next_run_at:%Y-%m-%d %H:%M:%S %Z}")


@app.command("pause")
def pause(job_id: JobIdArg = None, shop: ShopOpt = None, kind: KindOpt = DEFAULT_KIND) -> None:
    """Stop scheduling the job; a run in progress finishes."""
    from core.jobcontrol import pause_job

    runtime = context.runtime()
    try:
        job = pause_job(runtime, select_job(runtime, job_id, shop, kind).id)
    finally:
        runtime.close()
    console.print(f"paused job {job.id} ({job.shop} {job.kind}); `sync-gateway jobs resume {job.id}` "
                  "schedules it again", highlight=False)


@app.command("resume")
def resume(job_id: JobIdArg = None, shop: ShopOpt = None, kind: KindOpt = DEFAULT_KIND) -> None:
    """Schedule the job again from now on (missed slots are not replayed)."""
    from core.jobcontrol import resume_job

    runtime = context.runtime()
    try:
        job = resume_job(runtime, select_job(runtime, job_id, shop, kind).id)
    finally:
        runtime.close()
    console.print(f"resumed job {job.id} ({job.shop} {job.kind}); next run {_when(job.next_run_at)}",
                  highlight=False)


@app.command("skip")
def skip(job_id: JobIdArg = None, shop: ShopOpt = None, kind: KindOpt = DEFAULT_KIND) -> None:
    """Record the next scheduled slot as SKIPPED instead of running it; later slots run."""
    from core.jobcontrol import skip_next_run

    runtime = context.runtime()
    try:
        job = skip_next_run(runtime, select_job(runtime, job_id, shop, kind).id)
    finally:
        runtime.close()
    console.print(f"job {job.id} ({job.shop} {job.kind}) skips its next run at {_when(job.next_run_at)}",
                  highlight=False)


@app.command("run")
def run_now(
    job_id: JobIdArg = None,
    window_from: Annotated[Optional[datetime], typer.Option("--from", help=f"Window start ({TIME_HELP}).")] = None,
    window_thru: Annotated[Optional[datetime], typer.Option("--thru", help=f"Window end ({TIME_HELP}).")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="With Redis: wait until a worker has finished the run.")] = False,
    shop: ShopOpt = None,
    kind: KindOpt = DEFAULT_KIND,
) -> None:
    """Run the job now, outside its schedule (by default over the window after its watermark).

    With REDIS_URL the run is queued for `sync-gateway worker`; without it, it runs here, in the
    foreground. Exits 1 if a run it waited for did not succeed."""
    from core.jobcontrol import run_job_now

    from .foreground import aware

    runtime = context.runtime()
    try:
        job = select_job(runtime, job_id, shop, kind)
        ok = _start(runtime, job, wait, lambda enqueue: run_job_now(
            runtime, enqueue, job.id, window_from=aware(window_from), window_thru=aware(window_thru)))
    finally:
        runtime.close()
    raise typer.Exit(0 if ok else 1)


@app.command("backfill")
def backfill(
    since: Annotated[datetime, typer.Option(help=f"Window start ({TIME_HELP}).", show_default=False)],
    job_id: JobIdArg = None,
    until: Annotated[Optional[datetime], typer.Option(help=f"Window end ({TIME_HELP}; default: now minus the "
                                                           "settle buffer).")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="With Redis: wait until a worker has finished the run.")] = False,
    shop: ShopOpt = None,
    kind: KindOpt = DEFAULT_KIND,
) -> None:
    """Import a long past window for the job (a bulk query where the source has one).

    Queued for a worker with REDIS_URL, else run here in the foreground, like `jobs run`."""
    from core.jobcontrol import backfill_job, backfill_window
    from core.models import Window

    from .foreground import aware, count_orders

    runtime = context.runtime()
    try:
        job = select_job(runtime, job_id, shop, kind)
        start, end = backfill_window(runtime, aware(since), aware(until))
        total = None if runtime.settings.redis_url else count_orders(runtime, job.shop, Window(start, end))
        ok = _start(runtime, job, wait, lambda enqueue: backfill_job(runtime, enqueue, job.id, since=start,
                                                                     until=end), total=total)
    finally:
        runtime.close()
    raise typer.Exit(0 if ok else 1)


@app.command("history")
def history(
    job_id: JobIdArg = None,
    status: Annotated[Optional[str], typer.Option(help="Only runs with this status: QUEUED, RUNNING, "
                                                       "SUCCEEDED, FAILED, SKIPPED or LOST (its worker "
                                                       "vanished).")] = None,
    since: Annotated[Optional[datetime], typer.Option(help=f"Runs started at or after ({TIME_HELP}).")] = None,
    until: Annotated[Optional[datetime], typer.Option(help=f"Runs started before ({TIME_HELP}).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="At most this many runs, newest first.")] = 20,
    shop: ShopOpt = None,
    kind: KindOpt = DEFAULT_KIND,
    as_json: JsonOpt = False,
) -> None:
    """The job's runs, newest first: window, pages, orders, items, units, API cost, retries,
    throttled replies, duration and error."""
    from core import validation
    from core.errors import ValidationError
    from core.models import JobRunStatus

    from .foreground import aware
    from .output import print_list, run_record

    try:
        wanted = JobRunStatus(status.strip().upper()) if status is not None else None
    except ValueError:
        raise ValidationError(f"unknown status {validation.shown(status or '')}",
                              field="status", suggestion=", ".join(s.value for s in JobRunStatus)) from None
    runtime = context.runtime()
    try:
        job = select_job(runtime, job_id, shop, kind)
        with runtime.storage.read() as tx:
            runs = tx.list_runs(job.id, first=limit, status=wanted, since=aware(since), until=aware(until)).items
    finally:
        runtime.close()
    if as_json:
        print_list(run_record(run) for run in runs)
        return
    _print_history(job, runs)


def _print_history(job: Job, runs: tuple[JobRun, ...]) -> None:
    from rich.table import Table

    from core.models import JobRunStatus

    from .output import duration_seconds

    if not runs:
        console.print(f"job {job.id} ({job.shop} {job.kind}) has no runs that match", highlight=False)
        return
    table = Table("run", "status", "trigger", "started (UTC)", "window (UTC)", "pages", "orders", "items",
                  "units", "cost", "retries", "throttled", "duration", "error",
                  title=f"job {job.id}: {job.shop} {job.kind}", title_justify="left")
    for run in runs:
        style = {JobRunStatus.FAILED: "bold white on red", JobRunStatus.LOST: "bold white on red",
                 JobRunStatus.SUCCEEDED: "green", JobRunStatus.SKIPPED: "yellow"}.get(run.status, "cyan")
        # A mark as well as a colour: it must stand out in a log file or a colourless terminal too.
        mark = "✗ " if run.status in (JobRunStatus.FAILED, JobRunStatus.LOST) else ""
        seconds = duration_seconds(run)
        window = (f"{run.window_from:%Y-%m-%d %H:%M:%S} → {run.window_thru:%Y-%m-%d %H:%M:%S}"
                  if run.window_from and run.window_thru else "-")
        table.add_row(f"#{run.id}", f"[{style}]{mark}{run.status.value}[/]", run.trigger.value,
                      f"{run.started_at or run.queued_at:%Y-%m-%d %H:%M:%S}" if run.started_at or run.queued_at
                      else "-", window, str(run.pages), f"{run.orders_seen:,}", f"{run.items_canceled:,}",
                      f"{run.units_canceled:,}", f"{run.api_cost:,.0f}", str(run.retries), str(run.throttled),
                      f"{seconds:.2f}s" if seconds is not None else "-", run.error or "")
    console.print(table)
    failed = sum(run.status is JobRunStatus.FAILED for run in runs)
    lost = sum(run.status is JobRunStatus.LOST for run in runs)
    if failed or lost:
        parts = ([f"{failed} FAILED (its error says why)"] if failed else []) + (
            [f"{lost} LOST (its worker vanished: check the workers and the queue)"] if lost else [])
        console.print(f"[bold red]✗ {failed + lost} of {len(runs)} runs did not succeed:[/] {'; '.join(parts)}",
                      highlight=False)


def _start(runtime: Runtime, job: Job, wait: bool, create: Callable[[Enqueue], JobRun], *,
           total: int | None = None) -> bool:
    """Queue the run ``create(enqueue)`` makes (with Redis), or execute it here (without);
    True unless a run this command executed or waited for did not succeed."""
    from core.models import JobRunStatus

    from .foreground import follow_run, summary_line

    if not runtime.settings.redis_url:
        run = create(lambda run_id, backfill=False: FOREGROUND)
        err.print("REDIS_URL is not set: the run executes here, in the foreground (no worker could see a run "
                  "queued from this process)", highlight=False)
        return follow_run(runtime, run, shop_name=job.shop, kind=job.kind, console=console, total=total)
    from core.queues import QueueBackend

    queue = QueueBackend.from_settings(runtime.settings)
    run = create(queue.enqueue_run)
    console.print(f"queued run #{run.id} of job {job.id} ({job.shop} {job.kind}) on queue "
                  f"{runtime.settings.queue_name!r}; a `sync-gateway worker` executes it", highlight=False)
    if not wait:
        return True
    final = _wait_for(runtime, run.id)
    seconds = (final.finished_at - final.started_at).total_seconds() if final.finished_at and final.started_at else 0.0
    console.print(summary_line(final, job.shop, job.kind, seconds))
    return final.status is JobRunStatus.SUCCEEDED


def _wait_for(runtime: Runtime, run_id: int, poll_seconds: float = 0.5) -> JobRun:
    from core.models import JobRunStatus

    while True:
        with runtime.storage.read() as tx:
            run = tx.get_run(run_id)
        assert run is not None
        if run.status not in (JobRunStatus.QUEUED, JobRunStatus.RUNNING):
            return run
        time.sleep(poll_seconds)


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S %Z}" if moment else "not scheduled"
