"""A job kind written outside the gateway, with only the public API (``tests/jobs/audit_kind.py``),
runs on the scheduler like the built-in one: the scheduler enqueues its slot on real Redis, a
worker executes it against the simulated shop, and its pages are stored, announced to plugins and
recorded in the run's history and progress; the watermark advances."""

from __future__ import annotations

import ast
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from core import Cancellation, JobRun, JobRunStatus, RunTrigger, Shop, hookimpl
from core.jobcontrol import pause_job
from core.jobs import bind_runtime, unbind_runtime
from core.queues import QueueBackend
from core.scheduler import tick

from ..harness import T0, Harness, fast_settings
from .audit_kind import PAGE_SIZE, LineAuditPlugin

HERE = Path(__file__).resolve().parent


class Listener:
    def __init__(self) -> None:
        self.pages: list[tuple[int | None, int]] = []

    @hookimpl
    def on_items_canceled(self, shop: Shop, run: JobRun | None, cancellations: Sequence[Cancellation]) -> None:
        self.pages.append((run.id if run else None, sum(c.quantity for c in cancellations)))


def test_the_job_kind_imports_only_the_public_api() -> None:
    tree = ast.parse((HERE / "audit_kind.py").read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert imported - {"__future__", "collections.abc"} == {"core"}


def test_a_third_party_job_kind_runs_on_the_scheduler_like_the_built_in_one(
        tmp_path: Path, database_url: str, redis_url: str, queue_name: str) -> None:
    listener = Listener()
    settings = fast_settings(tmp_path, database_url, redis_url=redis_url, queue_name=queue_name)
    h = Harness.build(settings, plugins=(LineAuditPlugin(), listener))
    sim, runtime = h.sim, h.runtime
    sim.seed(20, seed=3, start=T0 - timedelta(hours=3), end=T0 - timedelta(minutes=10), partial_cancel_rate=0.5)
    with runtime.storage.transaction() as tx:
        jobs = {job.kind: job for job in tx.list_jobs(h.shop.id)}
    assert set(jobs) == {"canceled-items", "line-audit"}  # one per shop, as the built-in kind
    pause_job(runtime, jobs["canceled-items"].id)  # the audit alone stores this shop's orders
    audit = jobs["line-audit"]

    queue = QueueBackend.from_settings(settings)
    bind_runtime(runtime)
    queue.start_embedded_worker(poll_seconds=0.05)
    try:
        h.advance(3600 + 1)  # the audit's first slot, an hour after the shop was added
        ticked = tick(runtime, queue.enqueue_run)
        assert [(r.job_id, r.trigger) for r in ticked.enqueued] == [(audit.id, RunTrigger.SCHEDULE)]
        run_id = ticked.enqueued[0].id
        deadline = time.monotonic() + 60
        while True:
            with runtime.storage.transaction() as tx:
                run = tx.get_run(run_id)
            assert run is not None
            if run.status not in (JobRunStatus.QUEUED, JobRunStatus.RUNNING) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    finally:
        queue.stop()
        unbind_runtime(runtime)

    try:
        assert run.status is JobRunStatus.SUCCEEDED, run.error
        expected = h.expected_canceled()
        assert expected and h.stored_canceled() == expected
        assert run.orders_seen == 20 and run.pages >= -(-20 // PAGE_SIZE)  # its own small pages
        assert run.units_canceled == sum(expected.values())
        assert run.progress is not None and (run.progress.pages, run.progress.orders_seen) == (run.pages, 20)
        with runtime.storage.transaction() as tx:
            assert tx.get_watermark(audit.id) == run.window_thru
        assert {run_of for run_of, _ in listener.pages} == {run.id}  # announced per page, by this run
        assert sum(units for _, units in listener.pages) == run.units_canceled
    finally:
        h.close()
