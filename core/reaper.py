"""The reaper: runs that say QUEUED or RUNNING while nothing works on them are ended, with the reason.

RQ reports most deaths itself: a job whose function raised runs our failure callback, and a killed
work-horse calls the worker's ``work_horse_killed_handler`` (:func:`core.jobs.record_work_horse_killed`).
Both run in the worker, with a runtime built from the worker's environment, so a worker that cannot
build one (a plugin missing there) cannot record anything. The reaper runs in the scheduler's tick,
with a working runtime, and covers what is left:

* a RUNNING run whose lease expired more than a grace ago and that nobody took over (worker and
  work-horse killed at once, a machine gone): LOST, lease freed;
* a QUEUED or RUNNING run whose RQ job is failed, stopped or canceled: FAILED with RQ's reason (the
  last line of its ``exc_info``), or LOST when that reason is a work-horse that died;
* a QUEUED run whose RQ job vanished (Redis flushed or restarted without persistence): LOST;
* a QUEUED run no worker picked up within the job timeout: LOST.

LOST, not FAILED, when nothing that worked on the run ended it: an admin then looks at workers
and the queue, not at the shop (see :class:`core.JobRunStatus`).

Its cost is flat: one indexed query for the QUEUED/RUNNING runs, one for their jobs (none when no
run is active), and one Redis lookup per such run (a handful), whatever the number of jobs or of
finished runs (``bench/scheduler_load.py``: an idle tick reads no row at 10 or 1,000 shops).

Taking the lease decides the race with a live worker: the reaper claims an expired lease with the
same conditional update a run uses (``acquire_lease`` with ``now`` set back by the grace), so a
worker that renews in time keeps it, and one that renews too late finds it gone (fencing stops it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import redis

from .models import Job, JobRun, JobRunStatus

if TYPE_CHECKING:
    from .queues import QueueBackend
    from .runtime import Runtime
    from .storage import StorageTx

log = logging.getLogger("sync_gateway.reaper")

MAX_GRACE_SECONDS = 30
"""A lease lapsed this long (or one lease period, if shorter) before the reaper ends its run."""

_RQ_ENDED = frozenset({"failed", "stopped", "canceled"})

WORK_HORSE_DIED = "Work-horse terminated unexpectedly"
"""How RQ words the death of a work-horse (killed, out of memory), in its handler and its job's exc_info."""


@dataclass(frozen=True, slots=True)
class Reaped:
    run_id: int
    job_id: int
    was: JobRunStatus
    error: str


def reaper_grace(runtime: Runtime) -> timedelta:
    """How long past its lease (or queue time) a run may look idle before it is ended."""
    return timedelta(seconds=min(runtime.settings.lease_seconds, MAX_GRACE_SECONDS))


def rq_failure_reason(rq_job: Any) -> str:
    """RQ's own account of why a job ended: the last non-empty line of its ``exc_info``."""
    text = ""
    try:
        result = rq_job.latest_result()
        text = (getattr(result, "exc_string", None) or "") if result is not None else ""
    except Exception:  # an older result format, or a result already expired
        text = ""
    text = text or (rq_job.exc_info or "")
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[-1] if lines else f"RQ job {rq_job.get_status()}"


def reap_runs(runtime: Runtime, queue: QueueBackend | None = None) -> list[Reaped]:
    """End every run that lies about its state (see the module docstring); returns what it ended.

    Without ``queue`` only lease expiry is checked (RQ's registries are not at hand).
    """
    now = runtime.now()
    grace = reaper_grace(runtime)
    with runtime.storage.transaction() as tx:
        candidates = tx.all_active_runs()
        jobs = tx.get_jobs(sorted({run.job_id for run in candidates})) if candidates else {}
    reaped: list[Reaped] = []
    for run in candidates:
        job = jobs.get(run.job_id)
        if job is None:
            continue  # its job was removed meanwhile (and its runs with it)
        try:
            verdict = _verdict(runtime, queue, job, run, now, grace)
            if verdict is not None:
                reaped.append(verdict)
        except Exception:
            log.exception("could not check run %s of job %s; trying again at the next tick", run.id, job.id)
    for r in reaped:
        log.warning("run %s of job %s was %s with nothing working on it: %s", r.run_id, r.job_id, r.was.value, r.error)
    return reaped


def _verdict(runtime: Runtime, queue: QueueBackend | None, job: Job, run: JobRun, now: datetime,
             grace: timedelta) -> Reaped | None:
    try:
        rq_state, rq_job = _rq_state(queue, run)
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
        queue, rq_state, rq_job = None, None, None  # Redis is away: judge by the lease alone this time
    if rq_state in _RQ_ENDED:
        rq_reason = rq_failure_reason(rq_job)
        reason = f"the worker could not finish the run (RQ job {rq_state}): {rq_reason}"
        status = JobRunStatus.LOST if rq_reason.startswith(WORK_HORSE_DIED) else JobRunStatus.FAILED
        return _fail(runtime, job, run, reason, expected=run.status, status=status)
    if run.status is JobRunStatus.RUNNING:
        return _reap_if_lease_lapsed(runtime, job, run, now, grace)
    queued_at = run.queued_at
    if queued_at is None or queued_at > now - grace:
        return None  # it may be on its way to the queue right now
    if queue is not None and rq_state is None:
        reason = "its RQ job vanished before a worker started it (was Redis flushed or restarted?)"
        return _fail(runtime, job, run, reason, expected=JobRunStatus.QUEUED, status=JobRunStatus.LOST)
    if queued_at < now - timedelta(seconds=runtime.settings.job_timeout_seconds):
        reason = "never picked up by a worker (was the queue flushed or no worker running?)"
        return _fail(runtime, job, run, reason, expected=JobRunStatus.QUEUED, status=JobRunStatus.LOST)
    return None


def _rq_state(queue: QueueBackend | None, run: JobRun) -> tuple[str | None, Any]:
    """The run's RQ job status and the job (``(None, None)`` if Redis has no such job). Redis
    being unreachable raises: a job we cannot see is not a job that vanished."""
    if queue is None:
        return None, None
    from rq.exceptions import NoSuchJobError
    from rq.job import Job as RQJob

    from .queues import rq_job_id

    try:
        rq_job = RQJob.fetch(run.rq_job_id or rq_job_id(queue.queue.name, run.id), connection=queue.connection)
    except NoSuchJobError:
        return None, None
    status = rq_job.get_status(refresh=False)
    return (str(getattr(status, "value", status)) if status is not None else None), rq_job


def _reap_if_lease_lapsed(runtime: Runtime, job: Job, run: JobRun, now: datetime, grace: timedelta) -> Reaped | None:
    claim = -run.id  # never a real run id: the reaper's claim on the lease, dropped in the same transaction
    with runtime.storage.transaction() as tx:
        if not tx.acquire_lease(job.id, run_id=claim, holder="reaper", now=now - grace, expires_at=now):
            return None  # a live holder (this run or the one that took over) has it
        current = tx.get_run(run.id)
        if current is None or current.status is not JobRunStatus.RUNNING:
            tx.release_lease(job.id, run_id=claim)
            return None
        reason = (f"lost: its worker stopped renewing the lease (killed, or cut off) and it lapsed more "
                  f"than {int(grace.total_seconds())} s ago; the window is read again by the next run")
        final = _record_failure(runtime, tx, current, reason, JobRunStatus.LOST)
        tx.release_lease(job.id, run_id=claim)
    return _reported(runtime, job, current, final)


def _fail(runtime: Runtime, job: Job, run: JobRun, reason: str, *, expected: JobRunStatus,
          status: JobRunStatus) -> Reaped | None:
    with runtime.storage.transaction() as tx:
        current = tx.get_run(run.id)
        if current is None or current.status is not expected:
            return None  # it moved on while we looked
        final = _record_failure(runtime, tx, current, reason, status)
        tx.release_lease(job.id, run_id=run.id)
    return _reported(runtime, job, current, final)


def _record_failure(runtime: Runtime, tx: StorageTx, run: JobRun, reason: str, status: JobRunStatus) -> JobRun:
    return tx.update_run(run.id, status=status, finished_at=runtime.now(), error=reason[:500])


def _reported(runtime: Runtime, job: Job, was: JobRun, final: JobRun) -> Reaped:
    """Tell the plugins the run ended, as a run that ends itself does."""
    with runtime.storage.transaction() as tx:
        shop = tx.get_shop(job.shop_id)
    if shop is not None:
        runtime.notify_run_finished(shop, job, final)
    return Reaped(run_id=final.id, job_id=final.job_id, was=was.status, error=final.error or "")


__all__ = ["MAX_GRACE_SECONDS", "WORK_HORSE_DIED", "Reaped", "reap_runs", "reaper_grace", "rq_failure_reason"]
