"""Sync under pressure: many workers on one shop's rate limit, and throttle storms.

Real ``sync-gateway worker`` processes on real Redis and PostgreSQL import from a simulated
Standard shop (2,000 points, 100 points/s) served on a local socket by this process.

``contention``: two gateway shops (two jobs) point at one simulated shop, so every run draws on
one Shopify bucket; ``--workers`` processes take the runs while this script asks for a run of
each job over the whole history every quarter second ("run now" spammed: most are skipped as a
run of that job is in progress). Two variants alternate, each on fresh state: ``shared`` (the
product: one budget per shop in Redis) and ``per-process`` (each worker paces as if it owned the
bucket: the shop's ledger forced in-process, as before the shared budget).

``storm``: one job; 3 % of requests start a storm of 20 THROTTLED replies, and for the first
minute the bucket refills at a quarter of its rate. Runs are asked for back to back.

Printed per round: runs by status, requests, throttled share, points spent against the ceiling
(bucket + restore rate x elapsed), the time until the store first equalled the simulator's ground
truth, and whether it does at the end.

    python bench/pressure.py contention --seconds 120 --workers 4 --rounds 2
    python bench/pressure.py storm --seconds 120 --workers 2
    python bench/pressure.py contention --seconds 600 --workers 4 --rounds 1   # the issue's ten minutes

Loopback only; every process it starts is ended by PID when a round ends.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import redis  # noqa: E402

from core import JobRunStatus, NewShop, Settings  # noqa: E402
from core.jobcontrol import add_shop, run_job_now  # noqa: E402
from core.queues import QueueBackend  # noqa: E402
from core.runtime import Runtime  # noqa: E402
from core.token_cipher import generate_key  # noqa: E402
from plugins.shopify.simulator import FaultConfig, ShopSimulator  # noqa: E402
from plugins.shopify.simulator.agreement import stored_state  # noqa: E402
from tests.servers import serving  # noqa: E402

TOKEN = "shpat_pressure_0123456789abcdef"
POSTGRES = os.environ.get("SYNC_GATEWAY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("SYNC_GATEWAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")

# A worker whose shops each get a ledger of their own process: the pacing before the shared budget.
PER_PROCESS_WORKER = """
import sys
from plugins.shopify import source
from plugins.shopify.pacing import LocalLedger
source.ShopifySourceFactory._ledger = lambda self, base_url, settings: self._ledgers.setdefault(base_url, LocalLedger())
sys.argv = ["sync-gateway", "worker"]
from gateway.startup import main
main()
"""


@dataclass
class Round:
    scenario: str
    variant: str
    seconds: float
    runs: Counter[str]
    requests: int
    throttled: int
    points: int
    requested_points: int
    ceiling: float
    time_to_exact: float | None
    exact_at_end: bool
    failures: list[str]

    def line(self) -> str:
        share = self.throttled / self.requests if self.requests else 0.0
        exact = f"{self.time_to_exact:6.1f}s" if self.time_to_exact is not None else "  never"
        return (f"{self.scenario:10} {self.variant:12} {self.seconds:6.0f}s  succeeded {self.runs['SUCCEEDED']:4}  "
                f"failed {self.runs['FAILED']:3}  skipped {self.runs['SKIPPED']:4}  requests {self.requests:6}  "
                f"throttled {share:6.2%}  use {self.points / self.ceiling:5.2f} of ceiling "
                f"(requested {self.requested_points / max(1, self.points):.1f}x spent)  "
                f"exact after {exact}  exact at end {'yes' if self.exact_at_end else 'NO'}")


@contextmanager
def fresh_database() -> Iterator[str]:
    name = f"sg_pressure_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES.rpartition("/")[0].replace("postgresql://", "postgresql+psycopg://", 1) + f"/{name}"
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_workers(count: int, env: dict[str, str], *, per_process: bool) -> list[subprocess.Popen[bytes]]:
    code = PER_PROCESS_WORKER if per_process else "from gateway.startup import main; import sys; sys.argv=['sync-gateway','worker']; main()"
    return [subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT, start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(count)]


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        # RQ's work-horses live in sessions of their own: end them first, by parent PID.
        subprocess.run(["pkill", "-KILL", "-P", str(worker.pid)], check=False)
        with_pid_group = worker.pid
        try:
            os.killpg(with_pid_group, signal.SIGKILL)
        except ProcessLookupError:
            pass
        worker.wait(timeout=10)


def one_round(scenario: str, variant: str, *, seconds: float, workers: int, orders: int, seed: int) -> Round:
    sim = ShopSimulator(shop_domain="pressure.myshopify.com", access_token=TOKEN, plan="standard")
    now = sim.clock.now()
    sim.seed(orders, seed=seed, start=now - timedelta(hours=6), end=now - timedelta(minutes=10))
    history_from = now - timedelta(hours=7)
    queue_name = f"pressure-{uuid.uuid4().hex[:8]}"
    with serving(sim.asgi_app) as url, fresh_database() as database_url:
        secret_key = generate_key()  # encrypts the stored shop tokens; the workers decrypt them
        settings = Settings(data_dir=Path("/tmp/sg-pressure"), database_url=database_url, redis_url=REDIS,
                            queue_name=queue_name, lease_seconds=20, secret_key=secret_key)
        runtime = Runtime.build(settings)
        queue = QueueBackend.from_settings(settings)
        names = ["north", "south"] if scenario == "contention" else ["north"]
        jobs = [add_shop(runtime, NewShop(name=n, url=url, token=TOKEN))[1][0] for n in names]
        shop_ids = [job.shop_id for job in jobs]
        truth = {k: v for k, v in sim.truth().canceled_units.items() if v}
        if scenario == "storm":
            sim.faults = FaultConfig(storm_rate=0.03, storm_length=20, seed=seed)
            sim.lower_restore_rate(0.25, 60)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SYNC_GATEWAY_")}
        env.update({"SYNC_GATEWAY_DATABASE_URL": database_url, "REDIS_URL": REDIS, "SYNC_GATEWAY_QUEUE_NAME": queue_name,
                    "SYNC_GATEWAY_SECRET_KEY": secret_key,
                    "SYNC_GATEWAY_LOG_LEVEL": "ERROR", "SYNC_GATEWAY_LEASE_SECONDS": "20"})
        procs = start_workers(workers, env, per_process=variant == "per-process")
        started = time.monotonic()
        time_to_exact: float | None = None
        try:
            while time.monotonic() - started < seconds:
                thru = datetime.now(UTC) - timedelta(seconds=60)
                for job in jobs:
                    run_job_now(runtime, queue.enqueue_run, job.id, window_from=history_from, window_thru=thru)
                if time_to_exact is None and all(_exact(runtime, shop_id, truth) for shop_id in shop_ids):
                    time_to_exact = time.monotonic() - started
                time.sleep(0.25)
            elapsed = time.monotonic() - started
            stats = sim.stats
            requests, throttled, points, asked = stats.requests, stats.throttled, stats.points_spent, stats.requested_points
            _drain(runtime, jobs, timeout=120)
        finally:
            stop_workers(procs)
        with runtime.storage.transaction() as tx:
            runs = [run for job in jobs for run in tx.list_runs(job_id=job.id, first=100_000).items]
        statuses = Counter(run.status.value for run in runs)
        failures = sorted({run.error or "" for run in runs if run.status is JobRunStatus.FAILED})
        exact_at_end = all(_exact(runtime, shop_id, truth) for shop_id in shop_ids)
        runtime.close()
        _forget_queue(queue_name)
        ceiling = sim.plan.maximum_available + sim.plan.restore_rate * elapsed
        return Round(scenario, variant, elapsed, statuses, requests, throttled, points, asked, ceiling,
                     time_to_exact, exact_at_end, failures)


def _exact(runtime: Runtime, shop_id: int, truth: dict[str, int]) -> bool:
    return stored_state(runtime.storage, shop_id).canceled_units == truth


def _drain(runtime: Runtime, jobs: list, timeout: float) -> None:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with runtime.storage.transaction() as tx:
            if not any(tx.active_runs(job.id) for job in jobs):
                return
        time.sleep(0.5)


def _forget_queue(queue_name: str) -> None:
    client = redis.Redis.from_url(REDIS)
    for key in client.scan_iter(match=f"*{queue_name}*", count=1000):
        client.delete(key)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", choices=["contention", "storm"])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--orders", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=1, help="rounds of each variant, alternating")
    parser.add_argument("--variants", default=None, help="comma-separated; contention: shared,per-process")
    args = parser.parse_args()
    variants = (args.variants or ("shared,per-process" if args.scenario == "contention" else "shared")).split(",")
    print(f"# {args.scenario}: {args.workers} workers, {args.orders} orders, {args.seconds:.0f}s a round, "
          f"simulated Standard shop (2,000 points, 100/s)", flush=True)
    for index in range(args.rounds):
        for variant in variants:
            result = one_round(args.scenario, variant, seconds=args.seconds, workers=args.workers,
                               orders=args.orders, seed=index + 1)
            print(result.line(), flush=True)
            for failure in result.failures[:3]:
                print(f"    failed: {failure[:200]}", flush=True)


if __name__ == "__main__":
    main()
