"""The scheduler: enqueue due runs, exactly once per slot, from schedules stored in the database.

Any number of schedulers may tick at once: a slot belongs to the one whose compare-and-set on
the job's ``next_run_at`` succeeds, in the same transaction that records the run. A scheduler
that was down runs each overdue job once and moves on.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from .errors import JobError
from .models import JobRun, JobRunStatus, RunTrigger
from .new_runs import Enqueue, enqueue_run, record_run
from .queues import QueueBackend
from .reaper import reap_runs
from .runtime import Runtime
from .schedules import next_fire, schedule_offset

log = logging.getLogger("sync_gateway.scheduler")


@dataclass
class TickResult:
    enqueued: list[JobRun] = field(default_factory=list)
    skipped: list[JobRun] = field(default_factory=list)
    lost: int = 0


def tick(runtime: Runtime, enqueue: Enqueue, *, queue: QueueBackend | None = None) -> TickResult:
    """Claim and enqueue every due slot; record a skipped slot for jobs told to skip once; then
    end the runs nothing works on (:mod:`.reaper`). ``queue`` (by default the one ``enqueue`` is a
    method of) lets the reaper read RQ's registries."""
    now = runtime.now()
    result = TickResult()
    with runtime.storage.transaction() as tx:
        due = tx.due_jobs(now)
    for job in due:
        slot = job.next_run_at
        assert slot is not None
        offset = schedule_offset(job.shop, job.kind, runtime.settings.schedule_jitter_seconds)
        following = next_fire(job.schedule, after=now, previous=slot, offset=offset)
        with runtime.storage.transaction() as tx:
            if not tx.advance_job(job.id, expected_next_run_at=slot, next_run_at=following, skip_next=False):
                continue  # another scheduler claimed this slot
            run = record_run(tx, job_id=job.id, trigger=RunTrigger.SCHEDULE, now=now, slot=slot.isoformat(),
                             skipped="skipped once by an admin" if job.skip_next else None)
        if run.status is JobRunStatus.SKIPPED:
            result.skipped.append(run)
            continue
        try:
            result.enqueued.append(enqueue_run(runtime, enqueue, run))
        except JobError:
            continue  # recorded FAILED with the queue's reason; the next slot still comes
    if queue is None and isinstance(getattr(enqueue, "__self__", None), QueueBackend):
        queue = enqueue.__self__  # type: ignore[attr-defined]
    result.lost = len(reap_runs(runtime, queue))
    return result


def prune_history(runtime: Runtime) -> int:
    """Delete finished runs older than ``run_history_days``."""
    cutoff = runtime.now() - timedelta(days=runtime.settings.run_history_days)
    with runtime.storage.transaction() as tx:
        return tx.prune_runs(finished_before=cutoff)


class SchedulerThread:
    """Ticks every ``scheduler_tick_seconds`` in a background thread until stopped."""

    def __init__(self, runtime: Runtime, enqueue: Enqueue) -> None:
        self.runtime, self.enqueue = runtime, enqueue
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sync-gateway-scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def run_forever(self) -> None:
        """Tick in the calling thread (``sync-gateway scheduler``) until interrupted."""
        self._loop()

    def _loop(self) -> None:
        ticks = 0
        while not self._stop.is_set():
            try:
                tick(self.runtime, self.enqueue)
                if ticks % 240 == 0:
                    prune_history(self.runtime)
            except Exception:
                log.exception("scheduler tick failed; trying again at the next tick")
            ticks += 1
            self._stop.wait(self.runtime.settings.scheduler_tick_seconds)
