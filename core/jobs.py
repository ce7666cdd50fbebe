"""RQ job functions: importable, JSON-safe arguments, thin.

A worker process binds one :class:`Runtime` (built lazily from the environment, rebuilt in a
forked work-horse) and each job runs a stored run by id.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from .models import JobRunStatus, RunProgress
from .reaper import WORK_HORSE_DIED
from .runtime import Runtime
from .settings import Settings

log = logging.getLogger("sync_gateway.jobs")

_bound: dict[int, Runtime] = {}
_lock = threading.Lock()

PUBLISH_WARNING_EVERY_SECONDS = 60.0


def bind_runtime(runtime: Runtime) -> None:
    """Make ``runtime`` the one this process's jobs use (the demo and tests bind theirs)."""
    with _lock:
        _bound[os.getpid()] = runtime


def unbind_runtime(runtime: Runtime) -> None:
    with _lock:
        if _bound.get(os.getpid()) is runtime:
            del _bound[os.getpid()]


def process_runtime() -> Runtime:
    """The bound runtime, or one built from the environment (a forked RQ work-horse)."""
    with _lock:
        runtime = _bound.get(os.getpid())
        if runtime is None:
            runtime = Runtime.build(Settings(), upgrade=False)
            _bound[os.getpid()] = runtime
        return runtime


def execute_run_job(run_id: int) -> dict[str, Any]:
    """The RQ entry point: execute stored run ``run_id``; returns its final status and counts."""
    from rq import get_current_job

    from .runs import execute_run

    runtime = process_runtime()
    rq_job = get_current_job()

    publish = ProgressPublisher(rq_job, run_id) if rq_job is not None else None
    run = execute_run(runtime, run_id, progress=publish)
    return {
        "run_id": run.id,
        "status": run.status.value,
        "orders_seen": run.orders_seen,
        "units_canceled": run.units_canceled,
        "error": run.error,
        "failed": run.status is JobRunStatus.FAILED,
    }


class ProgressPublisher:
    """Publishes a run's live progress in its RQ job's meta, best effort: the database holds the
    truth, so a Redis blip never fails the import. A failed publish is logged at most once a minute."""

    def __init__(self, rq_job: Any, run_id: int) -> None:
        self.rq_job, self.run_id = rq_job, run_id
        self.failures = 0
        self._warned_at: float | None = None

    def __call__(self, progress: RunProgress) -> None:
        self.rq_job.meta["progress"] = progress.to_json()
        try:
            self.rq_job.save_meta()
        except Exception as exc:  # redis ConnectionError/TimeoutError, or anything else Redis-side
            self.failures += 1
            now = time.monotonic()
            if self._warned_at is None or now - self._warned_at >= PUBLISH_WARNING_EVERY_SECONDS:
                self._warned_at = now
                log.warning("run %s: could not publish progress to Redis (%s: %s); the import goes on "
                            "(%d publish(es) failed so far)", self.run_id, type(exc).__name__, exc, self.failures)


def refresh_orders_job(shop_id: int, order_ids: list[str]) -> dict[str, Any]:
    """The RQ entry point of the webhook fast path: re-read and store the given orders."""
    import anyio

    from .webhooks import refresh_orders

    runtime = process_runtime()
    with runtime.storage.transaction() as tx:
        shop = tx.get_shop(shop_id)
    if shop is None:
        return {"shop_id": shop_id, "skipped": "shop was removed"}
    result = anyio.run(refresh_orders, runtime, shop, order_ids)
    return {"shop_id": shop_id, "orders": len(order_ids), "units_canceled": result.units_canceled}


def refresh_pending_orders_job(shop_id: int, queued_at: float, coalesce_seconds: float) -> dict[str, Any]:
    """The RQ entry point of the webhook fast path (:mod:`.webhook_batches`): wait out the
    coalescing interval, take the shop's pending orders, re-read and store each once."""
    import anyio
    from rq import get_current_job

    from .webhook_batches import take_pending, wait_out
    from .webhooks import refresh_orders

    job = get_current_job()
    if job is None:
        raise RuntimeError("refresh_pending_orders_job runs only as an RQ job")
    wait_out(queued_at, coalesce_seconds)
    order_ids = take_pending(job.connection, job.origin, shop_id)
    if not order_ids:
        return {"shop_id": shop_id, "orders": 0}
    runtime = process_runtime()
    with runtime.storage.transaction() as tx:
        shop = tx.get_shop(shop_id)
    if shop is None:
        return {"shop_id": shop_id, "skipped": "shop was removed"}
    units = 0
    for first in range(0, len(order_ids), REFRESH_CHUNK):  # a backlog is stored a chunk per transaction
        result = anyio.run(refresh_orders, runtime, shop, order_ids[first:first + REFRESH_CHUNK])
        units += result.units_canceled
    return {"shop_id": shop_id, "orders": len(order_ids), "units_canceled": units}


REFRESH_CHUNK = 64
"""Orders re-read and stored per transaction by a webhook refresh: on SQLite a write transaction
holds the one write lock, and deliveries (a short write each) must not wait behind a backlog's
hundreds of orders past busy_timeout."""


def record_rq_failure(job: Any, connection: Any, exc_type: type[BaseException], value: BaseException,
                      traceback: Any) -> None:
    """RQ failure callback: a job that died outside our own handling (a timeout, a crash before
    the run started) still ends its run as FAILED, so history never shows it queued forever."""
    _record_run_failure(job, f"{exc_type.__name__}: {value}", JobRunStatus.FAILED)


def record_work_horse_killed(job: Any, retpid: int, ret_val: int, rusage: Any) -> None:
    """RQ ``work_horse_killed_handler``: the forked work-horse died (SIGKILL, OOM killer, segfault).

    Runs in the worker's main process, which RQ keeps alive; the run ends LOST (nothing that
    worked on it ended it) with RQ's words.
    """
    signal_note = f" (signal {os.WTERMSIG(ret_val)})" if ret_val and os.WIFSIGNALED(ret_val) else ""
    _record_run_failure(job, f"{WORK_HORSE_DIED}; waitpid returned {ret_val}{signal_note}", JobRunStatus.LOST)


def _record_run_failure(job: Any, reason: str, status: JobRunStatus) -> None:
    """End the job's run as ``status`` with ``reason`` and free its lease, if the run is still active.

    Never raises (RQ calls this from its own error handling): if this process cannot build a
    runtime (the cause of the failure, sometimes), the scheduler's reaper records it instead.
    """
    run_id = (getattr(job, "meta", None) or {}).get("run_id")
    if run_id is None:
        return
    try:
        runtime = process_runtime()
        with runtime.storage.transaction() as tx:
            run = tx.get_run(int(run_id))
            if run is None or run.status not in {JobRunStatus.QUEUED, JobRunStatus.RUNNING}:
                return
            tx.update_run(run.id, status=status, finished_at=runtime.now(),
                          error=f"the worker could not finish the run: {reason}"[:500])
            tx.release_lease(run.job_id, run_id=run.id)
    except Exception:
        log.exception("could not record the failure of run %s (%s); the scheduler's reaper will", run_id, reason)
