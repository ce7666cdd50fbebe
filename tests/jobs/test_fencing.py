"""A run that lost its lease stops, and never writes over the run that took its job over."""

from __future__ import annotations

import subprocess
import threading
import time

import pytest

from core import JobRunStatus, NewShop
from core.jobcontrol import add_shop, run_job_now
from core.queues import QueueBackend
from core.runs import execute_run
from core.runtime import Runtime
from plugins.shopify.simulator import FaultConfig, ShopSimulator

from .test_workers import TOKEN, runtime, sim, sim_url, start_worker, stored_canceled, wait_for, worker_env  # noqa: F401

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


def signal_work_horses(worker: subprocess.Popen[bytes], signal_name: str) -> None:
    # RQ forks the work-horse into a session of its own: signal the worker's children and the worker.
    subprocess.run(["pkill", f"-{signal_name}", "-P", str(worker.pid)], check=False)
    subprocess.run(["kill", f"-{signal_name}", str(worker.pid)], check=False)


def test_a_run_stopped_past_its_lease_stops_when_resumed_and_writes_nothing_over_the_next(
    runtime: Runtime, sim: ShopSimulator, sim_url: str, postgres_url: str, redis_url: str
) -> None:
    queue = QueueBackend.from_settings(runtime.settings)
    shop, (job,) = add_shop(runtime, NewShop(name="acme", url=sim_url, token=TOKEN))
    sim.faults = FaultConfig(rate_slow=1.0, slow_seconds=0.2)  # 30 pages of 10 orders, each a while
    env = worker_env(postgres_url, redis_url, runtime.settings.queue_name, SYNC_GATEWAY_PAGE_SIZE="10")
    first = run_job_now(runtime, queue.enqueue_run, job.id)
    worker = start_worker(env, burst=False)
    try:
        def pages_stored() -> int:
            with runtime.storage.transaction() as tx:
                current = tx.get_run(first.id)
            return current.pages if current.status is JobRunStatus.RUNNING else 0

        wait_for(lambda: pages_stored() >= 3, timeout=60)
        signal_work_horses(worker, "STOP")
        time.sleep(runtime.settings.lease_seconds + 1)  # its lease runs out while it is stopped

        with runtime.storage.transaction() as tx:
            second = tx.create_run(job_id=job.id, trigger=first.trigger)
        taking_over: dict[str, object] = {}
        thread = threading.Thread(target=lambda: taking_over.update(final=execute_run(runtime, second.id)))
        thread.start()

        def second_running() -> bool:
            with runtime.storage.transaction() as tx:
                return tx.get_run(second.id).status is JobRunStatus.RUNNING

        wait_for(second_running, timeout=30)
        with runtime.storage.transaction() as tx:
            abandoned = tx.get_run(first.id)
        assert abandoned.status is JobRunStatus.LOST and "abandoned" in (abandoned.error or "")

        signal_work_horses(worker, "CONT")
        rq_job = queue.fetch(first.rq_job_id)
        assert rq_job is not None
        # Resumed, the first run finds its lease gone and stops long before its 27 remaining pages.
        wait_for(lambda: rq_job.get_status(refresh=True) in {"finished", "failed"}, timeout=20)
        thread.join(timeout=120)
    finally:
        signal_work_horses(worker, "CONT")
        signal_work_horses(worker, "KILL")
        worker.wait(timeout=10)

    final = taking_over["final"]
    assert final.status is JobRunStatus.SUCCEEDED, final.error
    with runtime.storage.transaction() as tx:
        after = tx.get_run(first.id)
        watermark = tx.get_watermark(job.id)
    # Nothing the stopped run did after it resumed reached its record or the watermark.
    assert (after.status, after.error, after.pages, after.orders_seen) == (
        abandoned.status, abandoned.error, abandoned.pages, abandoned.orders_seen)
    assert watermark == final.window_thru
    assert rq_job.return_value() is None or rq_job.return_value()["status"] == "LOST"
    assert stored_canceled(runtime, shop.id) == {k: v for k, v in sim.truth().canceled_units.items() if v}
