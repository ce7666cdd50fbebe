"""RQ job functions: importable, JSON-safe arguments, thin.

A worker process binds one :class:`Runtime` (built lazily from the environment, rebuilt in a
forked work-horse) and each job runs a stored run by id.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from .models import JobRunStatus
from .runtime import Runtime
from .settings import Settings

_bound: dict[int, Runtime] = {}
_lock = threading.Lock()


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

    def publish(progress: dict[str, object]) -> None:
        if rq_job is not None:
            rq_job.meta["progress"] = progress
            rq_job.save_meta()  # type: ignore[no-untyped-call]  # rq leaves it unannotated

    run = execute_run(runtime, run_id, progress=publish)
    return {
        "run_id": run.id,
        "status": run.status.value,
        "orders_seen": run.orders_seen,
        "units_canceled": run.units_canceled,
        "error": run.error,
        "failed": run.status is JobRunStatus.FAILED,
    }


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


def record_rq_failure(job: Any, connection: Any, exc_type: type[BaseException], value: BaseException,
                      traceback: Any) -> None:
    """RQ failure callback: a job that died outside our own handling (a timeout, a crash before
    the run started) still ends its run as FAILED, so history never shows it queued forever."""
    run_id = (job.meta or {}).get("run_id")
    if run_id is None:
        return
    runtime = process_runtime()
    with runtime.storage.transaction() as tx:
        run = tx.get_run(int(run_id))
        if run is None or run.status not in {JobRunStatus.QUEUED, JobRunStatus.RUNNING}:
            return
        job_record = tx.get_job(run.job_id)
        tx.update_run(run.id, status=JobRunStatus.FAILED, finished_at=runtime.now(),
                      error=f"the worker could not finish the run: {exc_type.__name__}: {value}"[:500])
        if job_record is not None:
            tx.release_lease(job_record.id, run_id=run.id)
