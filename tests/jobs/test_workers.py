"""Runs executed as RQ jobs on real Redis by real `sync-gateway worker` processes, sharing one
database; a worker killed mid-window loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import JobRunStatus, NewShop
from core.jobcontrol import add_shop, run_job_now
from core.queues import QueueBackend
from core.runs import execute_run
from core.runtime import Runtime
from core.settings import Settings
from plugins.shopify.simulator import FaultConfig, ShopSimulator
from plugins.shopify.simulator.agreement import stored_state

from ..conftest import TEST_SECRET_KEY
from ..servers import seeded_shop, serving

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

TOKEN = "shpat_worker_test"


@pytest.fixture
def sim() -> ShopSimulator:
    return seeded_shop("worker-shop.myshopify.com", TOKEN, plan="plus", orders=300, seed=5, hours=5)


@pytest.fixture
def sim_url(sim: ShopSimulator) -> Iterator[str]:
    with serving(sim.asgi_app) as url:
        yield url


def worker_env(database_url: str, redis_url: str, queue_name: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNC_GATEWAY_") or k.startswith("SYNC_GATEWAY_TEST")}
    env.update({"SYNC_GATEWAY_DATABASE_URL": database_url, "REDIS_URL": redis_url, "SYNC_GATEWAY_LOG_LEVEL": "WARNING",
                "SYNC_GATEWAY_SECRET_KEY": TEST_SECRET_KEY,  # the workers decrypt the stored shop tokens
                "SYNC_GATEWAY_QUEUE_NAME": queue_name,
                "SYNC_GATEWAY_WINDOW_SETTLE_SECONDS": "60", "SYNC_GATEWAY_LEASE_SECONDS": "3", **extra})
    return env


def start_worker(env: dict[str, str], *, burst: bool) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "gateway", "worker"] + (["--burst"] if burst else [])
    return subprocess.Popen(args, env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def stored_canceled(runtime: Runtime, shop_id: int) -> dict[str, int]:
    return stored_state(runtime.storage, shop_id).canceled_units


def wait_for(predicate, timeout: float = 60.0, every: float = 0.1):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("timed out waiting")


@pytest.fixture
def runtime(tmp_path: Path, postgres_url: str, redis_url: str, queue_name: str) -> Iterator[Runtime]:
    rt = Runtime.build(Settings(data_dir=tmp_path, database_url=postgres_url, redis_url=redis_url, queue_name=queue_name,
                                window_settle_seconds=60, lease_seconds=3))
    yield rt
    rt.close()


def test_a_run_executes_as_an_rq_job_in_a_worker_process(runtime: Runtime, sim: ShopSimulator, sim_url: str,
                                                         postgres_url: str, redis_url: str) -> None:
    queue = QueueBackend.from_settings(runtime.settings)
    shop, (job,) = add_shop(runtime, NewShop(name="acme", url=sim_url, token=TOKEN))
    run = run_job_now(runtime, queue.enqueue_run, job.id)
    assert queue.queue.count == 1

    worker = start_worker(worker_env(postgres_url, redis_url, runtime.settings.queue_name), burst=True)
    output, _ = worker.communicate(timeout=120)
    assert worker.returncode == 0, output.decode()

    with runtime.storage.transaction() as tx:
        final = tx.get_run(run.id)
    assert final.status is JobRunStatus.SUCCEEDED, final.error
    assert final.orders_seen == 300
    assert stored_canceled(runtime, shop.id) == {k: v for k, v in sim.truth().canceled_units.items() if v}
    rq_job = queue.fetch(final.rq_job_id)
    assert rq_job is not None and rq_job.get_status() == "finished"
    assert rq_job.return_value()["status"] == "SUCCEEDED"


def test_a_worker_killed_mid_window_loses_nothing_and_doubles_nothing(
    runtime: Runtime, sim: ShopSimulator, sim_url: str, postgres_url: str, redis_url: str
) -> None:
    queue = QueueBackend.from_settings(runtime.settings)
    shop, (job,) = add_shop(runtime, NewShop(name="acme", url=sim_url, token=TOKEN))
    sim.faults = FaultConfig(rate_slow=1.0, slow_seconds=0.3)  # every page takes a while
    env = worker_env(postgres_url, redis_url, runtime.settings.queue_name, SYNC_GATEWAY_PAGE_SIZE="10")
    run = run_job_now(runtime, queue.enqueue_run, job.id)
    worker = start_worker(env, burst=False)
    try:
        def some_pages_stored() -> bool:
            with runtime.storage.transaction() as tx:
                current = tx.get_run(run.id)
            return current.status is JobRunStatus.RUNNING and current.pages >= 3

        wait_for(some_pages_stored, timeout=60)
    finally:
        # RQ runs the job in a forked work-horse in a session of its own: kill it, then the worker
        subprocess.run(["pkill", "-KILL", "-P", str(worker.pid)], check=False)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)

    with runtime.storage.transaction() as tx:
        killed = tx.get_run(run.id)
        assert tx.get_watermark(job.id) == killed.window_from  # not advanced: the window was not finished
    assert killed.status is JobRunStatus.RUNNING
    partial = stored_canceled(runtime, shop.id)

    sim.faults = FaultConfig()
    time.sleep(runtime.settings.lease_seconds + 0.5)  # the dead worker's lease expires
    queue.purge()  # even a flushed Redis loses nothing: the database is the truth
    runtime.source_options.clear()
    with runtime.storage.transaction() as tx:
        again = tx.create_run(job_id=job.id, trigger=killed.trigger)
    final = execute_run(runtime, again.id)

    assert final.status is JobRunStatus.SUCCEEDED, final.error
    assert final.window_from is not None and killed.window_from is not None
    assert final.window_from <= killed.window_from  # the killed window is read again
    expected = {k: v for k, v in sim.truth().canceled_units.items() if v}
    assert stored_canceled(runtime, shop.id) == expected
    assert all(partial[k] <= expected[k] for k in partial)
    with runtime.storage.transaction() as tx:
        assert tx.get_run(killed.id).status is JobRunStatus.LOST
        assert "abandoned" in (tx.get_run(killed.id).error or "")
        history = tx.list_cancellations(shop_id=shop.id, first=10_000)
    units_in_history: dict[int, int] = {}
    for row in history.items:
        units_in_history[row.item_id] = units_in_history.get(row.item_id, 0) + row.quantity
    assert sum(units_in_history.values()) == sum(expected.values())  # no unit recorded twice
