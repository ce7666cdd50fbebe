"""Creating a run: the one place where a run's record is written and handed to the queue.

The scheduler (a due slot), the admin's "run now" and backfill (API and CLI) and the CLI's
foreground runs all record their runs here, so every run starts life the same way: QUEUED at
``now`` (or SKIPPED with its reason), and a run the queue refuses ends FAILED at once, saying
why, instead of sitting QUEUED until the reaper declares it lost.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol

from .errors import JobError
from .models import JobRun, JobRunStatus, RunTrigger
from .runtime import Runtime
from .storage import StorageTx

log = logging.getLogger("sync_gateway.runs")

class Enqueue(Protocol):
    """Puts a stored run on the queue and returns the queue's job id. A BACKFILL run is passed
    ``backfill=True`` (:meth:`core.queues.QueueBackend.enqueue_run` queues it behind other work);
    other runs are passed the run id alone, so a one-argument callable serves the scheduler."""

    def __call__(self, run_id: int, *, backfill: bool = False) -> str: ...


def record_run(tx: StorageTx, *, job_id: int, trigger: RunTrigger, now: datetime,
               window_from: datetime | None = None, window_thru: datetime | None = None,
               slot: str | None = None, skipped: str | None = None) -> JobRun:
    """Write a new run of ``job_id`` in ``tx``: QUEUED at ``now``, or, given ``skipped`` (the
    reason), SKIPPED and finished at ``now``. An explicit window (both or either bound) is the
    run's to read; ``slot`` is the schedule slot it fills."""
    if skipped is not None:
        run = tx.create_run(job_id=job_id, trigger=trigger, status=JobRunStatus.SKIPPED, slot=slot,
                            window_from=window_from, window_thru=window_thru)
        return tx.update_run(run.id, started_at=now, finished_at=now, error=skipped)
    run = tx.create_run(job_id=job_id, trigger=trigger, status=JobRunStatus.QUEUED, slot=slot,
                        window_from=window_from, window_thru=window_thru)
    return tx.update_run(run.id, queued_at=now)


def enqueue_run(runtime: Runtime, enqueue: Enqueue, run: JobRun) -> JobRun:
    """Put the recorded ``run`` on the queue and store the queue's job id on it.

    Raises:
        JobError: the queue refused it; the run is then recorded as FAILED with the reason.
    """
    try:
        rq_id = enqueue(run.id, backfill=True) if run.trigger is RunTrigger.BACKFILL else enqueue(run.id)
    except Exception as exc:
        log.warning("run %s of job %s could not be queued", run.id, run.job_id, exc_info=True)
        reason = f"could not be queued: the queue did not accept the run ({type(exc).__name__}: {exc})"
        with runtime.storage.transaction() as tx:
            tx.update_run(run.id, status=JobRunStatus.FAILED, finished_at=runtime.now(), error=reason)
        raise JobError(f"run {run.id} of job {run.job_id} {reason}; it is recorded as FAILED",
                       suggestion="check that the queue (Redis) is reachable, then run it again") from exc
    with runtime.storage.transaction() as tx:
        return tx.update_run(run.id, rq_job_id=rq_id)


__all__ = ["Enqueue", "enqueue_run", "record_run"]
