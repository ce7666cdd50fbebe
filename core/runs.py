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
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import anyio

from .errors import GatewayError, LeaseLost, NotFoundError
from .jobkinds import RunContext, RunOutcome
from .logcontext import add_log_fields, carry_into, log_fields
from .models import Job, JobRun, JobRunStatus, OrderPage, PageResult, RunProgress, RunTrigger, Shop, Window
from .pages import store_orders
from .runtime import Runtime
from .sources import Source
from .storage import StorageTx

log = logging.getLogger("sync_gateway.runs")

ProgressSink = Callable[[RunProgress], None]


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
    and the watermark is left untouched. Raises NotFoundError for an unknown run id. Every log
    line of the run carries its id, shop, job kind and window (:mod:`core.logcontext`).
    """
    with log_fields(run_id=run_id):
        return _execute_run(runtime, run_id, progress)


def _execute_run(runtime: Runtime, run_id: int, progress: ProgressSink | None) -> JobRun:
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
        add_log_fields(shop=shop.name, job_kind=job.kind)
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
                tx.update_run(other.id, status=JobRunStatus.LOST, finished_at=now,
                              error="abandoned: its worker stopped before finishing (lease expired); "
                                    "the window is read again by this run")
    try:
        window = plan_window(runtime, job, run, now)
        if window is None:
            with runtime.storage.transaction() as tx:
                tx.release_lease(job.id, run_id=run.id)
                return _finish_skipped(runtime, tx, shop, job, run, "window is empty (settle buffer not yet passed)")
        add_log_fields(window_from=window.start.isoformat(), window_thru=window.end.isoformat())
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
    lease = _Lease(runtime, job, run)
    reporter = _ProgressReporter(runtime, lease, run, progress)

    @asynccontextmanager
    async def open_source() -> AsyncIterator[Source]:
        source = runtime.source_for(shop, backfill=run.trigger is RunTrigger.BACKFILL)
        try:
            yield source
        finally:
            with anyio.CancelScope(shield=True):  # a cancelled run still closes its connections
                await source.aclose()

    def store(page: OrderPage) -> PageResult:
        lease.ensure()  # a run another run took over stops here, at a page boundary
        return store_orders(runtime, shop, run, page.orders)

    async def store_page(page: OrderPage) -> PageResult:
        return await anyio.to_thread.run_sync(store, page)

    context = RunContext(shop=shop, job=job, run=run, window=window, page_size=runtime.settings.page_size,
                         open_source=open_source, store_page=store_page, report=reporter,
                         ensure_lease=lease.ensure)
    lease.start()
    try:
        return anyio.run(kind.run, context)
    finally:
        lease.stop()
        reporter.flush()


def _finish_succeeded(runtime: Runtime, shop: Shop, job: Job, run: JobRun, window: Window,
                      outcome: RunOutcome) -> JobRun:
    with runtime.storage.transaction() as tx:
        # Fencing: the renewal locks the job row, so no other run can take the lease between
        # this check and the commit; a run that lost it writes nothing that ends a run.
        if not _still_holds(runtime, tx, job, run):
            return _lost_to_another_run(tx, shop, job, run)
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
    with runtime.storage.transaction() as tx:
        current = tx.get_run(run.id) or run
        if not _still_holds(runtime, tx, job, run) and current.status not in ACTIVE:
            return _lost_to_another_run(tx, shop, job, run)
        log.error("run %s of %s/%s failed: %s", run.id, shop.name, job.kind, message,
                  exc_info=not isinstance(exc, GatewayError))
        final = tx.update_run(run.id, status=JobRunStatus.FAILED, finished_at=runtime.now(), error=message,
                              **_progress_counts(current))
        tx.release_lease(job.id, run_id=run.id)
    runtime.notify_run_finished(shop, job, final)
    return final


ACTIVE = frozenset({JobRunStatus.QUEUED, JobRunStatus.RUNNING})


def _still_holds(runtime: Runtime, tx: StorageTx, job: Job, run: JobRun) -> bool:
    until = runtime.now() + timedelta(seconds=runtime.settings.lease_seconds)
    return tx.renew_lease(job.id, run_id=run.id, expires_at=until)


def _lost_to_another_run(tx: StorageTx, shop: Shop, job: Job, run: JobRun) -> JobRun:
    current = tx.get_run(run.id) or run
    log.warning("run %s of %s/%s lost its lease to another run; it stops and leaves the run's record "
                "as the run that took over wrote it (%s)", run.id, shop.name, job.kind, current.status.value)
    return current


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
    p = run.progress or RunProgress()
    return {
        "orders_seen": p.orders_seen,
        "items_canceled": p.items_canceled,
        "units_canceled": p.units_canceled,
        "orders_canceled": p.orders_canceled,
        "pages": p.pages,
        "api_cost": p.api_cost,
        "throttled": p.throttled,
        "retries": p.retries,
    }


class _Lease:
    """The run's lease on its job: renewed while the run works, so only a dead worker's expires.

    It is *lost* when a renewal finds another run holding it, or when no renewal has succeeded
    for a whole lease (the store out of reach, the process stopped): from then on the run may
    still be the holder, but it can no longer know, so it stops at the next page boundary.
    """

    def __init__(self, runtime: Runtime, job: Job, run: JobRun) -> None:
        self.runtime, self.job, self.run = runtime, job, run
        self._lost = threading.Event()
        self._renewed_at = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=carry_into(self._beat), name=f"lease-{run.id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def held(self) -> bool:
        return not self._lost.is_set() and time.monotonic() - self._renewed_at < self.runtime.settings.lease_seconds

    def ensure(self) -> None:
        """Raise :class:`LeaseLost` unless the run still holds its lease."""
        if not self.held():
            raise LeaseLost(f"run {self.run.id} lost its lease on job {self.job.id} (another run took over, "
                            "or the store was out of reach for longer than LEASE_SECONDS); it stopped")

    def renew(self, tx: StorageTx) -> bool:
        """Renew in ``tx``; False (and lost for good) if another run holds the lease now."""
        until = self.runtime.now() + timedelta(seconds=self.runtime.settings.lease_seconds)
        if tx.renew_lease(self.job.id, run_id=self.run.id, expires_at=until):
            self._renewed_at = time.monotonic()
            return True
        if not self._lost.is_set():
            log.warning("run %s lost its lease on job %s to another run; stopping at the next page",
                        self.run.id, self.job.id)
        self._lost.set()
        return False

    def _beat(self) -> None:
        period = max(0.2, self.runtime.settings.lease_seconds / 3)
        while not self._stop.wait(period) and not self._lost.is_set():
            try:
                with self.runtime.storage.transaction() as tx:
                    self.renew(tx)
            except Exception:
                log.exception("could not renew the lease of run %s", self.run.id)


class _ProgressReporter:
    """Stores live progress on the run (at most every half second) and forwards it to a sink.

    Each store renews the lease in the same transaction, so a run that lost its lease never
    writes counts over the run that took over: the report raises :class:`LeaseLost` instead.
    """

    interval = 0.5

    def __init__(self, runtime: Runtime, lease: _Lease, run: JobRun, sink: ProgressSink | None) -> None:
        self.runtime, self.lease, self.run, self.sink = runtime, lease, run, sink
        self._last_saved = 0.0
        self._pending: RunProgress | None = None

    def __call__(self, progress: RunProgress) -> None:
        self.lease.ensure()
        self._pending = progress
        if self.sink is not None:
            self.sink(progress)
        if time.monotonic() - self._last_saved >= self.interval:
            self.flush()
            self.lease.ensure()

    def flush(self) -> None:
        if self._pending is None:
            return
        progress, self._pending = self._pending, None
        self._last_saved = time.monotonic()
        with self.runtime.storage.transaction() as tx:
            if self.lease.renew(tx):
                tx.update_run(self.run.id, progress=progress, pages=progress.pages,
                              orders_seen=progress.orders_seen)


__all__ = ["describe_failure", "execute_run", "holder_name", "plan_window"]
