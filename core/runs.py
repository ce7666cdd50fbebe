"""Executing one run of a job: lease, window, the job kind's work, history and watermark.

The watermark only advances after the whole window is stored; a run that fails leaves it
where it was, so the next run reads the same window again (idempotently).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import anyio

from .errors import GatewayError, NotFoundError
from .jobkinds import RunContext, RunOutcome
from .models import Job, JobRun, JobRunStatus, RunTrigger, Shop, Window
from .runtime import Runtime
from .storage import StorageTx

log = logging.getLogger("sync_gateway.runs")

ProgressSink = Callable[[dict[str, object]], None]


def holder_name() -> str:
    """Who holds a lease: host and process, for the job manager's "running on" column."""
    return f"{socket.gethostname()}:{os.getpid()}"


def plan_window(runtime: Runtime, job: Job, run: JobRun, now: datetime) -> Window | None:
    """The window a run reads, or None if there is nothing to read yet.

    An explicit window (a backfill or a run-now with from/thru) wins. Otherwise: from the last
    watermark minus the overlap (or now minus the first-run look-back), to now minus the settle
    buffer, so orders Shopify is still post-processing are left for the next run.
    """
    settings = runtime.settings
    if run.window_from is not None and run.window_thru is not None:
        return Window(run.window_from, run.window_thru)
    end = run.window_thru or now - timedelta(seconds=settings.window_settle_seconds)
    with runtime.storage.transaction() as tx:
        watermark = tx.get_watermark(job.id)
        if watermark is None and run.window_from is None:
            # The first window's start is where this job's history begins: pin it, so a first
            # run that fails is redone from the same start rather than a later look-back.
            watermark = end - timedelta(hours=settings.first_run_lookback_hours)
            tx.set_watermark(job.id, watermark)
            return Window(watermark, end)
    if run.window_from is not None:
        start = run.window_from
    elif watermark is not None:
        start = watermark - timedelta(seconds=settings.window_overlap_seconds)
    if end <= start:
        return None
    return Window(start, end)


def execute_run(runtime: Runtime, run_id: int, *, progress: ProgressSink | None = None) -> JobRun:
    """Run ``run_id`` to completion in this thread and return its final record.

    Never raises for a failed run: the failure is recorded on the run (status FAILED, error)
    and the watermark is left untouched. Raises NotFoundError for an unknown run id.
    """
    holder = holder_name()
    with runtime.storage.transaction() as tx:
        run = tx.get_run(run_id)
        if run is None:
            raise NotFoundError(f"run {run_id} does not exist")
        job = tx.get_job(run.job_id)
        if job is None:
            raise NotFoundError(f"job {run.job_id} of run {run_id} does not exist")
        shop = tx.get_shop(job.shop_id)
        assert shop is not None
        if run.status is not JobRunStatus.QUEUED:
            log.warning("run %s is %s, not QUEUED; not running it again", run_id, run.status.value)
            return run
        if job.paused and run.trigger is RunTrigger.SCHEDULE:
            return _finish_skipped(runtime, tx, shop, job, run, "job is paused")
        now = runtime.now()
        lease_until = now + timedelta(seconds=runtime.settings.lease_seconds)
        if not tx.acquire_lease(job.id, run_id=run.id, holder=holder, now=now, expires_at=lease_until):
            others = [r.id for r in tx.active_runs(job.id) if r.id != run.id and r.status is JobRunStatus.RUNNING]
            detail = f"run #{others[0]}" if others else "another run"
            return _finish_skipped(runtime, tx, shop, job, run, f"{detail} of this job is still in progress")
        # We hold the lease: any other RUNNING run of this job lost its worker.
        for other in tx.active_runs(job.id):
            if other.id != run.id and other.status is JobRunStatus.RUNNING:
                tx.update_run(other.id, status=JobRunStatus.FAILED, finished_at=now,
                              error="abandoned: its worker stopped before finishing (lease expired); "
                                    "the window is read again by this run")
    try:
        window = plan_window(runtime, job, run, now)
        if window is None:
            with runtime.storage.transaction() as tx:
                tx.release_lease(job.id, run_id=run.id)
                return _finish_skipped(runtime, tx, shop, job, run, "window is empty (settle buffer not yet passed)")
        with runtime.storage.transaction() as tx:
            run = tx.update_run(run.id, status=JobRunStatus.RUNNING, started_at=runtime.now(),
                                window_from=window.start, window_thru=window.end)
        runtime.pm.hook.on_run_started(shop=shop, job=job, run=run)
        outcome = _run_kind(runtime, shop, job, run, window, progress)
    except BaseException as exc:
        final = _finish_failed(runtime, shop, job, run, exc)
        if not isinstance(exc, Exception):
            raise
        return final
    return _finish_succeeded(runtime, shop, job, run, window, outcome)


def _run_kind(runtime: Runtime, shop: Shop, job: Job, run: JobRun, window: Window,
              progress: ProgressSink | None) -> RunOutcome:
    kind = runtime.job_kind(job.kind)
    reporter = _ProgressReporter(runtime, job, run, progress)
    context = RunContext(runtime=runtime, shop=shop, job=job, run=run, window=window,
                         report=reporter, source_options={})
    heartbeat = _LeaseHeartbeat(runtime, job, run)
    heartbeat.start()
    try:
        return anyio.run(kind.run, context)
    finally:
        heartbeat.stop()
        reporter.flush()


def _finish_succeeded(runtime: Runtime, shop: Shop, job: Job, run: JobRun, window: Window,
                      outcome: RunOutcome) -> JobRun:
    with runtime.storage.transaction() as tx:
        watermark = tx.get_watermark(job.id)
        # A window that starts after the watermark leaves a gap behind it: storing it must not
        # let the watermark jump over the gap.
        if watermark is None or window.start <= watermark:
            tx.set_watermark(job.id, window.end)
        final = tx.update_run(run.id, status=JobRunStatus.SUCCEEDED, finished_at=runtime.now(),
                              **_counts(outcome))
        tx.release_lease(job.id, run_id=run.id)
    log.info("run %s of %s/%s succeeded: %s orders, %s units canceled", run.id, shop.name, job.kind,
             outcome.orders_seen, outcome.units_canceled)
    runtime.notify_run_finished(shop, job, final)
    return final


def _finish_failed(runtime: Runtime, shop: Shop, job: Job, run: JobRun, exc: BaseException) -> JobRun:
    message = describe_failure(shop, run, exc)
    log.error("run %s of %s/%s failed: %s", run.id, shop.name, job.kind, message,
              exc_info=not isinstance(exc, GatewayError))
    with runtime.storage.transaction() as tx:
        current = tx.get_run(run.id) or run
        final = tx.update_run(run.id, status=JobRunStatus.FAILED, finished_at=runtime.now(), error=message,
                              **_progress_counts(current))
        tx.release_lease(job.id, run_id=run.id)
    runtime.notify_run_finished(shop, job, final)
    return final


def _finish_skipped(runtime: Runtime, tx: StorageTx, shop: Shop, job: Job, run: JobRun, why: str) -> JobRun:
    now = runtime.now()
    final = tx.update_run(run.id, status=JobRunStatus.SKIPPED, started_at=now, finished_at=now, error=why)
    log.info("run %s of %s/%s skipped: %s", run.id, shop.name, job.kind, why)
    runtime.notify_run_finished(shop, job, final)
    return final


def describe_failure(shop: Shop, run: JobRun, exc: BaseException) -> str:
    """One line naming the shop, the window and the cause; never a secret."""
    window = ""
    if run.window_from and run.window_thru:
        window = f" window {run.window_from.isoformat()} .. {run.window_thru.isoformat()}"
    if isinstance(exc, GatewayError):
        cause = str(exc)
    else:
        cause = f"internal error ({exc.__class__.__name__}); see the worker log"
    return f"shop {shop.name}{window}: {cause}"


def _counts(outcome: RunOutcome) -> dict[str, object]:
    return {
        "orders_seen": outcome.orders_seen,
        "items_canceled": outcome.items_canceled,
        "units_canceled": outcome.units_canceled,
        "orders_canceled": outcome.orders_canceled,
        "pages": outcome.pages,
        "api_cost": outcome.stats.actual_cost,
        "throttled": outcome.stats.throttled,
        "retries": outcome.stats.retries,
    }


def _progress_counts(run: JobRun) -> dict[str, object]:
    """Counts of the pages a failed run did store (they stay stored: re-runs are idempotent)."""
    p = run.progress or {}
    return {
        "orders_seen": int(p.get("ordersSeen", 0)),
        "items_canceled": int(p.get("itemsCanceled", 0)),
        "units_canceled": int(p.get("unitsCanceled", 0)),
        "orders_canceled": int(p.get("ordersCanceled", 0)),
        "pages": int(p.get("pages", 0)),
        "api_cost": float(p.get("apiCost", 0.0)),
        "throttled": int(p.get("throttled", 0)),
        "retries": int(p.get("retries", 0)),
    }


class _ProgressReporter:
    """Stores live progress on the run (at most every half second) and forwards it to a sink."""

    interval = 0.5

    def __init__(self, runtime: Runtime, job: Job, run: JobRun, sink: ProgressSink | None) -> None:
        self.runtime, self.job, self.run, self.sink = runtime, job, run, sink
        self._last_saved = 0.0
        self._pending: dict[str, object] | None = None

    def __call__(self, progress: dict[str, object]) -> None:
        self._pending = progress
        if self.sink is not None:
            self.sink(progress)
        if time.monotonic() - self._last_saved >= self.interval:
            self.flush()

    def flush(self) -> None:
        if self._pending is None:
            return
        progress, self._pending = self._pending, None
        self._last_saved = time.monotonic()
        with self.runtime.storage.transaction() as tx:
            tx.update_run(self.run.id, progress=progress, pages=progress.get("pages", 0),
                          orders_seen=progress.get("ordersSeen", 0))


class _LeaseHeartbeat:
    """Renews the job's lease while the run works, so only a dead worker's lease expires."""

    def __init__(self, runtime: Runtime, job: Job, run: JobRun) -> None:
        self.runtime, self.job, self.run = runtime, job, run
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease-{run.id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _beat(self) -> None:
        period = max(0.2, self.runtime.settings.lease_seconds / 3)
        while not self._stop.wait(period):
            until = self.runtime.now() + timedelta(seconds=self.runtime.settings.lease_seconds)
            try:
                with self.runtime.storage.transaction() as tx:
                    tx.renew_lease(self.job.id, run_id=self.run.id, expires_at=until)
            except Exception:
                log.exception("could not renew the lease of run %s", self.run.id)


__all__ = ["describe_failure", "execute_run", "holder_name", "plan_window"]
