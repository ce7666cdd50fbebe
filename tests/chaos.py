"""Worker chaos trials: SIGKILL a work-horse, its worker, or both, at a random moment of a
multi-page window, then let the system recover by itself; shared by the suite (a few seeded
trials) and ``bench/worker_chaos.py`` (many).

A trial: a fresh PostgreSQL database, a queue of its own on Redis, a simulated shop served on a
socket (each reply slowed a little so the window spans many pages and seconds), one `sync-gateway
worker`. The run is killed ``uniform(0, 1.2 x window time)`` after it starts; a worker killed with
it is started again (as a service manager would). The scheduler's tick runs every half second. The
run that was killed must end (LOST or FAILED with a reason, or SUCCEEDED if its work-horse outlived
its worker) no later than a minute past its lease; then run-now runs are queued until one succeeds,
and the store must equal the shop's ground truth.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from core import JobRunStatus, NewShop
from core.jobcontrol import add_shop, run_job_now
from core.models import JobRun
from core.queues import QueueBackend
from core.runtime import Runtime
from core.scheduler import tick
from core.settings import Settings
from core.token_cipher import generate_key
from plugins.shopify.simulator.agreement import stored_state

from .servers import seeded_shop, serving
from .services import fresh_postgres_database

KINDS = ("horse", "worker", "both")
TOKEN = "shpat_chaos"
FINAL = {status for status in JobRunStatus if status.finished}


@dataclass(frozen=True)
class TrialResult:
    kind: str
    seed: int
    killed_after: float
    killed_run_ended_as: str
    killed_run_error: str
    past_lease_seconds: float
    """How long the killed run stayed RUNNING after its lease lapsed (0 if it ended before)."""
    exact: bool
    seconds: float

    def error_head(self) -> str:
        return self.killed_run_error.split(";")[0] if self.killed_run_error else "no error"


def worker_env(database_url: str, redis_url: str, queue_name: str, lease: int, secret_key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNC_GATEWAY_")}
    env.update({"SYNC_GATEWAY_DATABASE_URL": database_url, "REDIS_URL": redis_url,
                "SYNC_GATEWAY_SECRET_KEY": secret_key,
                "SYNC_GATEWAY_LOG_LEVEL": "ERROR", "SYNC_GATEWAY_QUEUE_NAME": queue_name,
                "SYNC_GATEWAY_WINDOW_SETTLE_SECONDS": "60", "SYNC_GATEWAY_LEASE_SECONDS": str(lease),
                "SYNC_GATEWAY_PAGE_SIZE": "10"})
    return env


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "gateway", "worker"], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except FileNotFoundError:
        return []


def kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def get_run(runtime: Runtime, run_id: int) -> JobRun:
    with runtime.storage.transaction() as tx:
        run = tx.get_run(run_id)
    assert run is not None
    return run


def run_trial(kind: str, seed: int, redis_url: str, *, orders: int = 200, reply_delay: float = 0.04,
              lease: int = 3, timeout: float = 180.0) -> TrialResult:
    """One trial (see the module docstring). Cleans up its database, queue and processes."""
    assert kind in KINDS
    rng = random.Random(seed)
    started = time.monotonic()
    queue_name = f"chaos-{uuid.uuid4().hex[:10]}"
    sim = seeded_shop("chaos-shop.myshopify.com", TOKEN, plan="plus", orders=orders, seed=seed, hours=4)
    sim.replies.delay = reply_delay
    spawned: list[subprocess.Popen[bytes]] = []
    orphans: list[int] = []  # work-horses of killed workers live on in sessions of their own
    with fresh_postgres_database() as database_url, serving(sim.asgi_app) as sim_url, \
            tempfile.TemporaryDirectory() as data_dir:
        secret_key = generate_key()  # encrypts the shop's stored token; the workers decrypt it
        runtime = Runtime.build(Settings(data_dir=Path(data_dir), database_url=database_url, redis_url=redis_url,
                                         queue_name=queue_name, window_settle_seconds=60, lease_seconds=lease,
                                         secret_key=secret_key))
        queue = QueueBackend.from_settings(runtime.settings)
        env = worker_env(database_url, redis_url, queue_name, lease, secret_key)
        try:
            shop, (job,) = add_shop(runtime, NewShop(name="chaos", url=sim_url, token=TOKEN))
            run = run_job_now(runtime, queue.enqueue_run, job.id)
            spawned.append(start_worker(env))
            deadline = time.monotonic() + timeout
            while get_run(runtime, run.id).status is JobRunStatus.QUEUED:
                if time.monotonic() > deadline:
                    raise AssertionError("the run was never started")
                time.sleep(0.05)
            pages = orders // 10 + 1
            killed_after = rng.uniform(0, 1.2 * pages * reply_delay)
            time.sleep(killed_after)
            worker = spawned[-1]
            horses = children(worker.pid)
            orphans.extend(horses)
            if kind in ("worker", "both"):
                kill(worker.pid)
                worker.wait(timeout=10)
            if kind in ("horse", "both"):
                for horse in horses:
                    kill(horse)
            killed_at = time.monotonic()
            if kind in ("worker", "both"):
                spawned.append(start_worker(env))  # a service manager restarts it

            killed = get_run(runtime, run.id)
            while killed.status not in FINAL:
                if time.monotonic() > deadline:
                    raise AssertionError(f"run {run.id} never ended")
                tick(runtime, queue.enqueue_run)
                time.sleep(0.5)
                killed = get_run(runtime, run.id)
            past_lease = max(0.0, time.monotonic() - killed_at - lease)

            sim.replies.delay = 0.0
            succeeded = killed.status is JobRunStatus.SUCCEEDED  # its work-horse outlived its worker
            while not succeeded:  # redo the window until a run succeeds
                again = run_job_now(runtime, queue.enqueue_run, job.id)
                current = get_run(runtime, again.id)
                while current.status not in FINAL:
                    if time.monotonic() > deadline:
                        raise AssertionError(f"run {again.id} never ended")
                    tick(runtime, queue.enqueue_run)
                    time.sleep(0.2)
                    current = get_run(runtime, again.id)
                succeeded = current.status is JobRunStatus.SUCCEEDED
            expected = {k: v for k, v in sim.truth().canceled_units.items() if v}
            exact = stored_state(runtime.storage, shop.id).canceled_units == expected
            first = get_run(runtime, run.id)
            return TrialResult(kind, seed, round(killed_after, 3), first.status.value, (first.error or "")[:80],
                               round(past_lease, 2), exact, round(time.monotonic() - started, 1))
        finally:
            for process in spawned:
                for pid in children(process.pid):
                    kill(pid)
                kill(process.pid)
                process.wait(timeout=10)
            for pid in orphans:
                kill(pid)
            queue.purge()
            for key in queue.connection.scan_iter(match=f"*{queue_name}*", count=1000):
                queue.connection.delete(key)
            runtime.close()
