"""Runs tell the truth within a minute: a run whose work-horse died, whose worker died with it or
whose RQ job vanished from Redis ends LOST; one whose RQ job failed before the run began ends
FAILED; each with the reason, and its job's lease freed. Real PostgreSQL, real Redis, real `sync-gateway worker` processes.

The simulated shop is *stalled* (its replies held) to keep a run RUNNING for as long as a test
needs, with the worker process alive: no SIGSTOP needed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from core import JobRunStatus, NewShop
from core.jobcontrol import add_shop, pause_job, run_job_now
from core.models import Job, JobRun, RunTrigger
from core.queues import QueueBackend
from core.runs import execute_run
from core.runtime import Runtime
from core.scheduler import tick
from core.settings import Settings
from plugins.shopify.simulator import ShopSimulator

from ..chaos import get_run, kill
from ..servers import seeded_shop, serving
from .test_workers import TOKEN, start_worker, stored_canceled, wait_for, worker_env

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

LEASE = 3


@pytest.fixture
def sim() -> ShopSimulator:
    return seeded_shop("truth-shop.myshopify.com", TOKEN, plan="plus", orders=120, seed=8, hours=4)


@pytest.fixture
def sim_url(sim: ShopSimulator) -> Iterator[str]:
    with serving(sim.asgi_app) as url:
        yield url
    sim.release()


def make_runtime(tmp_path: Path, postgres_url: str, redis_url: str, queue_name: str, lease: int) -> Runtime:
    return Runtime.build(Settings(data_dir=tmp_path, database_url=postgres_url, redis_url=redis_url,
                                  queue_name=queue_name, window_settle_seconds=60, lease_seconds=lease))


@pytest.fixture
def runtime(tmp_path: Path, postgres_url: str, redis_url: str, queue_name: str) -> Iterator[Runtime]:
    rt = make_runtime(tmp_path, postgres_url, redis_url, queue_name, LEASE)
    yield rt
    rt.close()


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except FileNotFoundError:
        return []


def stalled_running_run(runtime: Runtime, queue: QueueBackend, sim: ShopSimulator, job: Job,
                        env: dict[str, str]) -> tuple[JobRun, object]:
    """Queue a run, start a worker, and hold the run RUNNING on a stalled Shopify call."""
    sim.stall()
    run = run_job_now(runtime, queue.enqueue_run, job.id)
    worker = start_worker(env, burst=False)
    wait_for(lambda: get_run(runtime, run.id).status is JobRunStatus.RUNNING and sim.replies.held >= 1, timeout=60)
    return run, worker


def lease_is_free(runtime: Runtime, job: Job) -> bool:
    """True if a newcomer can take the job's lease right now (nobody holds a live one)."""
    now = runtime.now()
    with runtime.storage.transaction() as tx:
        taken = tx.acquire_lease(job.id, run_id=10**9, holder="probe", now=now, expires_at=now + timedelta(seconds=1))
        if taken:
            tx.release_lease(job.id, run_id=10**9)
    return taken


def test_a_killed_work_horse_loses_its_run_with_rqs_reason_and_frees_the_lease(
    tmp_path: Path, sim: ShopSimulator, sim_url: str, postgres_url: str, redis_url: str, queue_name: str
) -> None:
    # A long lease: the run must end through RQ's work-horse death handling, not by lease expiry.
    runtime = make_runtime(tmp_path, postgres_url, redis_url, queue_name, lease=120)
    queue = QueueBackend.from_settings(runtime.settings)
    _, (job,) = add_shop(runtime, NewShop(name="acme", url=sim_url, token=TOKEN))
    env = worker_env(postgres_url, redis_url, queue_name, SYNC_GATEWAY_LEASE_SECONDS="120")
    run, worker = stalled_running_run(runtime, queue, sim, job, env)
    try:
        (horse,) = wait_for(lambda: children(worker.pid), timeout=10)  # type: ignore[attr-defined]
        kill(horse)
        wait_for(lambda: get_run(runtime, run.id).status is JobRunStatus.LOST, timeout=30)
        failed = get_run(runtime, run.id)
        assert "Work-horse terminated unexpectedly" in (failed.error or "")
        assert "signal 9" in (failed.error or "")
        assert lease_is_free(runtime, job)  # freed at once, 120 s before the lease would lapse
        assert worker.poll() is None  # type: ignore[attr-defined]  # the worker lives on
    finally:
        kill(worker.pid)  # type: ignore[attr-defined]
        worker.wait(timeout=10)  # type: ignore[attr-defined]
        runtime.close()


def test_a_run_whose_worker_and_work_horse_died_is_lost_within_a_minute_of_its_lease_even_when_paused(
    runtime: Runtime, sim: ShopSimulator, sim_url: str, postgres_url: str, redis_url: str, queue_name: str
) -> None:
    queue = QueueBackend.from_settings(runtime.settings)
    shop, (job,) = add_shop(runtime, NewShop(name="acme", url=sim_url, token=TOKEN))
    env = worker_env(postgres_url, redis_url, queue_name)
    run, worker = stalled_running_run(runtime, queue, sim, job, env)
    pause_job(runtime, job.id)  # nothing will take over this job's lease: only the reaper can end the run
    horses = children(worker.pid)  # type: ignore[attr-defined]
    kill(worker.pid)  # type: ignore[attr-defined]
    for horse in horses:
        kill(horse)
    worker.wait(timeout=10)  # type: ignore[attr-defined]
    killed_at = time.monotonic()
    sim.release()

    def reaped() -> bool:
        tick(runtime, queue.enqueue_run)
        return get_run(runtime, run.id).status is JobRunStatus.LOST

    wait_for(reaped, timeout=LEASE + 60, every=0.5)
    assert time.monotonic() - killed_at < LEASE + 60
    failed = get_run(runtime, run.id)
    assert failed.error is not None and failed.error.startswith("lost:")
    assert lease_is_free(runtime, job)

    # The next run reads the window again: the store ends equal to the shop's ground truth.
    with runtime.storage.transaction() as tx:
        again = tx.create_run(job_id=job.id, trigger=run.trigger)
    final = execute_run(runtime, again.id)
    assert final.status is JobRunStatus.SUCCEEDED, final.error
    assert stored_canceled(runtime, shop.id) == {k: v for k, v in sim.truth().canceled_units.items() if v}


def test_a_live_run_is_not_reaped(runtime: Runtime, sim: ShopSimulator, sim_url: str, postgres_url: str,
                                  redis_url: str, queue_name: str) -> None:
    queue = QueueBackend.from_settings(runtime.settings)
    _, (job,) = add_shop(runtime, NewShop(name="acme", url=sim_url, token=TOKEN))
    run, worker = stalled_running_run(runtime, queue, sim, job, worker_env(postgres_url, redis_url, queue_name))
    try:
        deadline = time.monotonic() + 3 * LEASE  # well past several lease periods, renewed all along
        while time.monotonic() < deadline:
            assert tick(runtime, queue.enqueue_run).lost == 0
            time.sleep(0.5)
        assert get_run(runtime, run.id).status is JobRunStatus.RUNNING
        sim.release()
        wait_for(lambda: get_run(runtime, run.id).status is JobRunStatus.SUCCEEDED, timeout=60)
    finally:
        sim.release()
        kill(worker.pid)  # type: ignore[attr-defined]
        for horse in children(worker.pid):  # type: ignore[attr-defined]
            kill(horse)
        worker.wait(timeout=10)  # type: ignore[attr-defined]


def queue_from_another_version(runtime: Runtime, queue: QueueBackend, job: Job) -> JobRun:
    """A run queued by a gateway of another version: its job function and failure callback live in
    a module this worker does not have, so RQ fails the job before any of our code runs."""
    from rq import Callback

    from core.queues import rq_job_id

    with runtime.storage.transaction() as tx:
        run = tx.create_run(job_id=job.id, trigger=RunTrigger.MANUAL)
        run = tx.update_run(run.id, queued_at=runtime.now(), rq_job_id=rq_job_id(queue.queue.name, run.id))
    queue.queue.enqueue("core.retired_jobs.execute_run_job", run.id, job_id=run.rq_job_id, meta={"run_id": run.id},
                        on_failure=Callback("core.retired_jobs.record_rq_failure"))
    return run


def test_a_job_rq_failed_before_the_run_started_is_failed_with_rqs_reason_within_a_minute(
    runtime: Runtime, sim_url: str, postgres_url: str, redis_url: str, queue_name: str
) -> None:
    queue = QueueBackend.from_settings(runtime.settings)
    _, (job,) = add_shop(runtime, NewShop(name="acme", url=sim_url, token=TOKEN))
    run = queue_from_another_version(runtime, queue, job)
    worker = start_worker(worker_env(postgres_url, redis_url, queue_name), burst=True)
    worker.communicate(timeout=120)
    rq_job = queue.fetch(run.rq_job_id or "")
    assert rq_job is not None and rq_job.get_status() == "failed"
    assert get_run(runtime, run.id).status is JobRunStatus.QUEUED  # nothing in the worker could say so
    started = time.monotonic()

    def ended() -> bool:
        tick(runtime, queue.enqueue_run)
        return get_run(runtime, run.id).status is JobRunStatus.FAILED

    wait_for(ended, timeout=60, every=0.5)
    assert time.monotonic() - started < 60
    error = get_run(runtime, run.id).error or ""
    assert "RQ job failed" in error
    last_line = [line for line in (rq_job.latest_result().exc_string or "").splitlines() if line.strip()][-1]
    assert last_line.strip() in error  # RQ's own words


def test_a_queued_run_whose_rq_job_vanished_is_lost(runtime: Runtime, sim_url: str) -> None:
    queue = QueueBackend.from_settings(runtime.settings)
    _, (job,) = add_shop(runtime, NewShop(name="acme", url=sim_url, token=TOKEN))
    run = run_job_now(runtime, queue.enqueue_run, job.id)
    assert tick(runtime, queue.enqueue_run).lost == 0  # queued, and its RQ job is there
    queue.purge()  # as a flushed Redis would
    wait_for(lambda: tick(runtime, queue.enqueue_run).lost == 1, timeout=LEASE + 10, every=0.5)
    failed = get_run(runtime, run.id)
    assert failed.status is JobRunStatus.LOST
    assert "vanished" in (failed.error or "")
