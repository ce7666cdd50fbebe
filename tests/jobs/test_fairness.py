"""Fairness between shops: a scheduled run never waits in line behind another shop's backfill.

One real `sync-gateway worker` on real Redis and PostgreSQL, two simulated shops served over
sockets. Shop A's backfill is queued first, shop B's scheduled slot after it; the one worker
takes B's run first, because backfills wait on a queue of their own that workers take from only
when the main queue is empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from core import JobRunStatus, NewShop
from core.jobcontrol import add_shop, backfill_job
from core.queues import QueueBackend
from core.runtime import Runtime
from core.scheduler import tick
from core.settings import Settings

from ..servers import seeded_shop, serving
from .test_workers import TOKEN, start_worker, worker_env

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


@pytest.fixture
def runtime(tmp_path: Path, postgres_url: str, redis_url: str, queue_name: str) -> Iterator[Runtime]:
    rt = Runtime.build(Settings(data_dir=tmp_path, database_url=postgres_url, redis_url=redis_url, queue_name=queue_name,
                                window_settle_seconds=60, lease_seconds=3, schedule_jitter_seconds=0))
    yield rt
    rt.close()


def test_a_scheduled_run_of_shop_b_goes_before_the_backfill_of_shop_a_queued_earlier(
    runtime: Runtime, postgres_url: str, redis_url: str
) -> None:
    shop_a = seeded_shop("backfill-a.myshopify.com", TOKEN, plan="standard", orders=400, seed=1, hours=24 * 20)
    shop_b = seeded_shop("hourly-b.myshopify.com", TOKEN, plan="standard", orders=50, seed=2, hours=1)
    queue = QueueBackend.from_settings(runtime.settings)
    with serving(shop_a.asgi_app) as url_a, serving(shop_b.asgi_app) as url_b:
        _, (job_a,) = add_shop(runtime, NewShop(name="alpha", url=url_a, token=TOKEN))
        _, (job_b,) = add_shop(runtime, NewShop(name="bravo", url=url_b, token=TOKEN))
        now = runtime.now()
        with runtime.storage.transaction() as tx:
            tx.update_job(job_a.id, next_run_at=now + timedelta(days=1))  # only B's slot is due
            tx.update_job(job_b.id, next_run_at=now - timedelta(seconds=1))
        backfill = backfill_job(runtime, queue.enqueue_run, job_a.id, since=now - timedelta(days=21))
        [scheduled] = tick(runtime, queue.enqueue_run).enqueued  # queued after the backfill
        assert queue.queued_count() == 2 and queue.queue.count == 1  # the backfill waits on its own queue

        worker = start_worker(worker_env(postgres_url, redis_url, runtime.settings.queue_name), burst=True)
        output, _ = worker.communicate(timeout=180)
        assert worker.returncode == 0, output.decode()

    with runtime.storage.transaction() as tx:
        a, b = tx.get_run(backfill.id), tx.get_run(scheduled.id)
    assert a.status is b.status is JobRunStatus.SUCCEEDED, (a.error, b.error)
    assert a.orders_seen == 400 and b.orders_seen == 50
    assert b.finished_at is not None and a.started_at is not None
    assert b.finished_at <= a.started_at  # B did not wait behind A's backfill
