"""Each process stops cleanly on the signal its systemd unit sends, and a worker stopped the way
its unit stops it (SIGTERM to the worker alone: ``KillMode=mixed``) lets its run finish, where
SIGTERM to every process of the unit (systemd's default, ``control-group``) fails the run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import httpx2
import pytest

from core import JobRunStatus, NewShop
from core.jobcontrol import add_shop, run_job_now
from core.models import JobRun
from core.queues import QueueBackend
from core.runtime import Runtime
from core.settings import Settings
from plugins.shopify.simulator import FaultConfig, ShopSimulator

from ..servers import free_port, seeded_shop, serving
from .units import command, kill_signal, service

pytestmark = [pytest.mark.redis, pytest.mark.slow]

TOKEN = "shpat_stopping_test"
WORKER = "sync-gateway-worker@.service"
T = TypeVar("T")


def _env(database_url: str, redis_url: str, queue_name: str, **extra: str) -> dict[str, str]:
    # the test settings stay out, but not the key the shop's token was encrypted with (tests/conftest.py)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNC_GATEWAY_")
           or k.startswith("SYNC_GATEWAY_TEST") or k == "SYNC_GATEWAY_SECRET_KEY"}
    env.pop("REDIS_URL", None)
    env.update({"SYNC_GATEWAY_DATABASE_URL": database_url, "REDIS_URL": redis_url, "SYNC_GATEWAY_QUEUE_NAME": queue_name,
                "SYNC_GATEWAY_LOG_LEVEL": "WARNING", "SYNC_GATEWAY_WINDOW_SETTLE_SECONDS": "60", **extra})
    return env


def _start(unit: str, env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    """The unit's own command line, run with this environment's interpreter."""
    # %H made unique: RQ refuses a worker whose name a killed one left registered in a shared Redis
    host = f"test-{uuid.uuid4().hex[:8]}"
    return subprocess.Popen([sys.executable, "-m", "gateway", *command(unit, host=host)[1:]], env=env, cwd=cwd,
                            start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _wait_for(predicate: Callable[[], T | None], timeout: float = 60.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


def _stopped(process: subprocess.Popen[bytes], timeout: float) -> tuple[int, str]:
    try:
        output, _ = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    return process.returncode, output.decode(errors="replace")


def _children(pid: int) -> list[int]:
    done = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return [int(line) for line in done.stdout.split()]


@pytest.fixture
def sim_url() -> Iterator[str]:
    sim: ShopSimulator = seeded_shop("stop-shop.myshopify.com", TOKEN, plan="plus", orders=200, seed=9, hours=4)
    sim.faults = FaultConfig(rate_slow=1.0, slow_seconds=0.25)  # every page takes a while
    with serving(sim.asgi_app) as url:
        yield url


@pytest.fixture
def runtime(tmp_path: Path, postgres_url: str, redis_url: str, queue_name: str) -> Iterator[Runtime]:
    rt = Runtime.build(Settings(data_dir=tmp_path, database_url=postgres_url, redis_url=redis_url,
                                queue_name=queue_name, window_settle_seconds=60))
    yield rt
    rt.close()


def _worker_mid_run(runtime: Runtime, sim_url: str, tmp_path: Path) -> tuple[subprocess.Popen[bytes], Callable[[], JobRun]]:
    """A worker started as its unit starts it, with a run in flight (some pages stored, most not)."""
    queue = QueueBackend.from_settings(runtime.settings)
    _, (job,) = add_shop(runtime, NewShop(name="acme", url=sim_url, token=TOKEN))
    env = _env(runtime.settings.database, runtime.settings.redis_url or "", runtime.settings.queue_name,
               SYNC_GATEWAY_PAGE_SIZE="10")
    run = run_job_now(runtime, queue.enqueue_run, job.id)
    worker = _start(WORKER, env, tmp_path)

    def current() -> JobRun:
        with runtime.storage.read() as tx:
            found = tx.get_run(run.id)
        assert found is not None
        return found

    _wait_for(lambda: current().status is JobRunStatus.RUNNING and current().pages >= 2)
    return worker, current


@pytest.mark.postgres
def test_a_worker_stopped_as_its_unit_stops_it_finishes_its_run(runtime: Runtime, sim_url: str, tmp_path: Path) -> None:
    worker, current = _worker_mid_run(runtime, sim_url, tmp_path)
    os.kill(worker.pid, signal.Signals[kill_signal(WORKER)])  # KillMode=mixed: the main process only

    code, output = _stopped(worker, timeout=120)
    assert code == 0, output
    final = current()
    assert final.status is JobRunStatus.SUCCEEDED, final.error
    assert final.orders_seen == 200


@pytest.mark.postgres
def test_sigterm_to_every_process_of_the_worker_loses_its_run(runtime: Runtime, sim_url: str, tmp_path: Path) -> None:
    """Why the unit says KillMode=mixed: systemd's default signals the work-horse too."""
    worker, current = _worker_mid_run(runtime, sim_url, tmp_path)
    horses = _children(worker.pid)
    assert horses, "the worker forked no work-horse"
    for pid in [worker.pid, *horses]:
        os.kill(pid, signal.SIGTERM)

    _stopped(worker, timeout=120)

    def ended() -> JobRun | None:
        run = current()
        return run if run.status is not JobRunStatus.RUNNING else None

    final = _wait_for(ended)
    assert final.status is JobRunStatus.LOST  # its work-horse died under it
    assert final.error is not None and "signal 15" in final.error


SCHEDULER = "sync-gateway-scheduler.service"


def _clean_stops(unit: str) -> set[int]:
    """The exit statuses systemd counts as a clean stop of ``unit``, besides its stop signal."""
    return {0} | {int(code) for line in service(unit).get("SuccessExitStatus", []) for code in line.split()}


@pytest.mark.parametrize("moment", ["ticking", "starting"])
def test_the_scheduler_stops_cleanly_on_its_units_signal(moment: str, tmp_path: Path, redis_url: str,
                                                          queue_name: str) -> None:
    env = _env(f"sqlite:///{tmp_path / 'store.db'}", redis_url, queue_name, SYNC_GATEWAY_LOG_LEVEL="INFO")
    scheduler = _start(SCHEDULER, env, tmp_path)
    assert scheduler.stdout is not None
    assert b"scheduler ticking" in scheduler.stdout.readline()  # its first line, printed just before its loop
    if moment == "ticking":
        time.sleep(1.0)  # well into its loop: a tick of an empty store takes milliseconds
    os.kill(scheduler.pid, signal.Signals[kill_signal(SCHEDULER)])
    code, output = _stopped(scheduler, timeout=10)
    if moment == "ticking":
        assert code == 0, output  # its Ctrl-C path: between ticks, connections closed
    else:
        assert code in _clean_stops(SCHEDULER), output


def test_the_api_stops_on_its_units_signal(tmp_path: Path, redis_url: str, queue_name: str) -> None:
    port = free_port()
    env = _env(f"sqlite:///{tmp_path / 'store.db'}", redis_url, queue_name, SYNC_GATEWAY_PORT=str(port),
               SYNC_GATEWAY_LOG_LEVEL="INFO")
    api = _start("sync-gateway-api.service", env, tmp_path)

    def ready() -> bool:
        try:
            return httpx2.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
        except httpx2.TransportError:
            return False

    _wait_for(ready, timeout=30)
    stop = signal.Signals[kill_signal("sync-gateway-api.service")]
    os.kill(api.pid, stop)
    code, output = _stopped(api, timeout=30)
    # uvicorn shuts down gracefully, then re-raises the signal it caught: systemd counts an end
    # by SIGTERM as a clean stop, as it does exit status 0
    assert code in (0, -stop), output
    assert "Finished server process" in output
