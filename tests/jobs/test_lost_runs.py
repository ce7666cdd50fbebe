"""A run whose worker vanished is LOST, not FAILED: the reaper's verdict is a status of its own, so
an admin tells "the shop or the store refused" (FAILED) from "nothing is working on it" (LOST).
Like FAILED it leaves the watermark, frees the lease, is counted and reaches the plugins."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from core import JobRunStatus, NewShop, RunTrigger, hookimpl
from core.jobcontrol import add_shop
from core.metrics import GatewayMetrics
from core.models import Job, JobRun
from core.plugins import make_plugin_manager
from core.reaper import reap_runs
from core.runtime import Runtime
from core.settings import Settings


class Finished:
    """A plugin that records every run that ends, as plugins see them."""

    def __init__(self) -> None:
        self.runs: list[JobRun] = []

    @hookimpl
    def on_run_finished(self, shop, job, run) -> None:  # type: ignore[no-untyped-def]
        self.runs.append(run)


@pytest.fixture
def finished() -> Finished:
    return Finished()


@pytest.fixture
def runtime(tmp_path: Path, database_url: str, finished: Finished) -> Iterator[Runtime]:
    pm = make_plugin_manager()
    pm.register(finished, name="finished-probe")
    built = Runtime.build(Settings(data_dir=tmp_path / "data", database_url=database_url, lease_seconds=10), pm=pm)
    yield built
    built.close()


def running_with_a_lapsed_lease(runtime: Runtime, job: Job, *, lapsed_seconds: float) -> JobRun:
    """A RUNNING run whose worker renewed its lease last ``lapsed_seconds`` ago and then vanished."""
    now = runtime.now()
    with runtime.storage.transaction() as tx:
        run = tx.create_run(job_id=job.id, trigger=RunTrigger.SCHEDULE)
        run = tx.update_run(run.id, status=JobRunStatus.RUNNING, queued_at=now - timedelta(minutes=5),
                            started_at=now - timedelta(minutes=4))
        expired = now - timedelta(seconds=lapsed_seconds)
        assert tx.acquire_lease(job.id, run_id=run.id, holder="vanished-worker", now=expired - timedelta(seconds=10),
                                expires_at=expired)
    return run


def test_a_running_run_whose_worker_vanished_is_reaped_lost_and_its_lease_freed(
    runtime: Runtime, finished: Finished
) -> None:
    _, (job,) = add_shop(runtime, NewShop(name="acme", url="https://acme.myshopify.com", token="shpat_x"))
    run = running_with_a_lapsed_lease(runtime, job, lapsed_seconds=60)

    (reaped,) = reap_runs(runtime)
    assert (reaped.run_id, reaped.was) == (run.id, JobRunStatus.RUNNING)
    with runtime.storage.transaction() as tx:
        lost = tx.get_run(run.id)
        assert tx.get_watermark(job.id) is None  # like FAILED: the window is read again
        assert tx.acquire_lease(job.id, run_id=run.id + 1, holder="next", now=runtime.now(),
                                expires_at=runtime.now() + timedelta(seconds=10))  # the lease is free
    assert lost is not None and lost.status is JobRunStatus.LOST and lost.finished_at is not None
    assert lost.error is not None and lost.error.startswith("lost:")
    assert [(r.id, r.status) for r in finished.runs] == [(run.id, JobRunStatus.LOST)]
    assert reap_runs(runtime) == []  # ended once


def test_a_run_whose_lease_is_still_within_its_grace_is_left_running(runtime: Runtime) -> None:
    _, (job,) = add_shop(runtime, NewShop(name="acme", url="https://acme.myshopify.com", token="shpat_x"))
    run = running_with_a_lapsed_lease(runtime, job, lapsed_seconds=2)  # the grace is one lease period (10 s)
    assert reap_runs(runtime) == []
    with runtime.storage.transaction() as tx:
        assert tx.get_run(run.id).status is JobRunStatus.RUNNING  # type: ignore[union-attr]


def test_lost_is_a_finished_status_counted_apart_from_failed(runtime: Runtime, finished: Finished) -> None:
    assert JobRunStatus.LOST.finished and JobRunStatus.FAILED.finished
    assert not JobRunStatus.RUNNING.finished and not JobRunStatus.QUEUED.finished
    _, (job,) = add_shop(runtime, NewShop(name="acme", url="https://acme.myshopify.com", token="shpat_x"))
    running_with_a_lapsed_lease(runtime, job, lapsed_seconds=60)
    reap_runs(runtime)
    metrics = GatewayMetrics()
    (lost,) = finished.runs
    metrics.count_run("acme", job.kind, lost)
    assert metrics.registry.get_sample_value(
        "sync_gateway_runs_total", {"shop": "acme", "kind": job.kind, "status": "LOST"}) == 1
    assert metrics.registry.get_sample_value(
        "sync_gateway_runs_total", {"shop": "acme", "kind": job.kind, "status": "FAILED"}) is None
