"""Redis blips: a Redis restart mid-run neither fails the import nor ends `sync-gateway worker`;
the scheduler's tick survives Redis being away. A private redis-server, restarted by PID."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import JobRunStatus, NewShop
from core.jobcontrol import add_shop, run_job_now
from core.queues import QueueBackend
from core.runtime import Runtime
from core.scheduler import tick
from core.settings import Settings
from plugins.shopify.simulator import ShopSimulator

from ..private_redis import PrivateRedis, private_redis
from ..servers import seeded_shop, serving
from .test_run_truth import children, get_run
from .test_workers import TOKEN, start_worker, stored_canceled, wait_for, worker_env

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[PrivateRedis]:
    with private_redis(tmp_path) as server:
        yield server


@pytest.fixture
def sim() -> ShopSimulator:
    return seeded_shop("blip-shop.myshopify.com", TOKEN, plan="plus", orders=200, seed=3, hours=4)


@pytest.fixture
def sim_url(sim: ShopSimulator) -> Iterator[str]:
    with serving(sim.asgi_app) as url:
        yield url


@pytest.fixture
def runtime(tmp_path: Path, postgres_url: str, redis_server: PrivateRedis) -> Iterator[Runtime]:
    rt = Runtime.build(Settings(data_dir=tmp_path, database_url=postgres_url, redis_url=redis_server.url,
                                queue_name="blips", window_settle_seconds=60, lease_seconds=3))
    yield rt
    rt.close()


def test_a_redis_restart_mid_run_fails_nothing_and_the_worker_goes_on_taking_jobs(
    runtime: Runtime, sim: ShopSimulator, sim_url: str, postgres_url: str, redis_server: PrivateRedis
) -> None:
    queue = QueueBackend.from_settings(runtime.settings)
    shop, (job,) = add_shop(runtime, NewShop(name="acme", url=sim_url, token=TOKEN))
    sim.replies.delay = 0.15  # a run of some twenty pages takes a few seconds
    env = worker_env(postgres_url, redis_server.url, "blips", SYNC_GATEWAY_PAGE_SIZE="10")
    run = run_job_now(runtime, queue.enqueue_run, job.id)
    worker = start_worker(env, burst=False)
    try:
        wait_for(lambda: get_run(runtime, run.id).status is JobRunStatus.RUNNING and get_run(runtime, run.id).pages >= 2,
                 timeout=60)
        redis_server.stop()  # down until the run has ended: the worker meets the outage mid-job and after it
        wait_for(lambda: get_run(runtime, run.id).status.finished, timeout=90)
        time.sleep(2)
        redis_server.start()  # forgets every job: no persistence
        first = get_run(runtime, run.id)
        assert first.status is JobRunStatus.SUCCEEDED, first.error  # progress publishing was best effort
        assert worker.poll() is None, "the worker exited on the Redis restart"

        sim.replies.delay = 0.0
        second = run_job_now(runtime, queue.enqueue_run, job.id)  # onto the restarted Redis
        wait_for(lambda: get_run(runtime, second.id).status.finished, timeout=90)
        assert get_run(runtime, second.id).status in {JobRunStatus.SUCCEEDED, JobRunStatus.SKIPPED}, \
            get_run(runtime, second.id).error
        assert worker.poll() is None
        assert stored_canceled(runtime, shop.id) == {k: v for k, v in sim.truth().canceled_units.items() if v}
    finally:
        for pid in [*children(worker.pid), worker.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        worker.wait(timeout=10)


def test_the_scheduler_tick_survives_redis_being_away_and_records_what_it_could_not_queue(
    runtime: Runtime, sim_url: str, redis_server: PrivateRedis
) -> None:
    from datetime import timedelta


    queue = QueueBackend.from_settings(runtime.settings)
    _, (job,) = add_shop(runtime, NewShop(name="acme", url=sim_url, token=TOKEN))
    with runtime.storage.transaction() as tx:
        tx.update_job(job.id, next_run_at=runtime.now() - timedelta(seconds=1))
    redis_server.stop()
    try:
        result = tick(runtime, queue.enqueue_run)  # must not raise
        assert result.enqueued == []
        with runtime.storage.transaction() as tx:
            (run,) = tx.list_runs(job.id, first=10).items
        assert run.status is JobRunStatus.FAILED
        assert "could not be queued" in (run.error or "") and "ConnectionError" in (run.error or "")
        with runtime.storage.transaction() as tx:
            assert tx.get_job(job.id).next_run_at > runtime.now()  # the next slot still comes
    finally:
        redis_server.start()
    time.sleep(0.1)
    assert tick(runtime, queue.enqueue_run).lost == 0  # and it goes on once Redis is back
