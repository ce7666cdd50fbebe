"""``jobRunUpdated``: follow a job's current (or next) run until it finishes.

Polls the store and the queue's live progress every ``POLL_SECONDS``; emits whenever the run
changed; completes after emitting the finished run. Polling keeps the API independent of
where the worker runs (another process, another machine): the database is the source of truth.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import anyio
import strawberry

from core import JobRun as CoreJobRun
from core import JobRunStatus as CoreJobRunStatus
from core import NotFoundError, StorageTx
from core import RunProgress as CoreRunProgress

from .. import ids
from ..context import Context, Info
from ..loaders import current_run
from ..permissions import IsAuthenticated
from .types import FINISHED, JobRun

POLL_SECONDS = 0.5


@strawberry.type
class JobSubscriptions:
    @strawberry.subscription(
        permission_classes=[IsAuthenticated],
        description="The job's current run (or, if none is active, its next one) each time it changes; "
                    "completes when that run finishes.",
    )
    async def job_run_updated(self, info: Info, job_id: strawberry.ID) -> AsyncGenerator[JobRun, None]:
        pk = ids.decode_as(job_id, "Job", argument="jobId")
        context = info.context

        def start(tx: StorageTx) -> tuple[CoreJobRun | None, int]:
            if tx.get_job(pk) is None:
                raise NotFoundError(f"job {job_id} does not exist")
            latest = tx.latest_run(pk)
            return current_run(tx.active_runs(pk)), latest.id if latest is not None else 0

        watched, newest_seen = await context.read(start)
        watched_id = watched.id if watched is not None else None
        last: tuple[CoreJobRun, CoreRunProgress | None] | None = None
        while True:
            if watched_id is None:
                watched_id = await context.read(lambda tx: _next_run(tx, pk, newest_seen))
            if watched_id is not None:
                run, live = await _snapshot(context, watched_id)
                if run is None:
                    raise NotFoundError(f"run {ids.encode('JobRun', watched_id)} was deleted")
                if last != (run, live):
                    last = (run, live)
                    context.fresh_loaders()
                    yield JobRun.from_record(run, live=live, live_known=True)
                if run.status in FINISHED:
                    return
            await anyio.sleep(POLL_SECONDS)


def _next_run(tx: StorageTx, job_pk: int, newest_seen: int) -> int | None:
    """The first run created after the subscription started (active first, else the newest)."""
    active = current_run(tx.active_runs(job_pk))
    if active is not None and active.id > newest_seen:
        return active.id
    latest = tx.latest_run(job_pk)
    return latest.id if latest is not None and latest.id > newest_seen else None


async def _snapshot(context: Context, run_id: int) -> tuple[CoreJobRun | None, CoreRunProgress | None]:
    run = await context.read(lambda tx: tx.get_run(run_id))
    live = None
    if run is not None and run.status is CoreJobRunStatus.RUNNING:
        live = await context.call(context.queue.progress, run_id)
    return run, live
