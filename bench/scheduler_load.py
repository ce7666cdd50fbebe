"""The scheduler's database load per tick as shops grow (issue 13): SQL statements and time.

For each count of shops (default 10, 100 and 1,000), a fresh database holds that many shops, each
with its canceled-items job on the hourly default, jitter on (``SCHEDULE_JITTER_SECONDS`` 300).
The scheduler's tick (:func:`core.scheduler.tick`, reaper included) is then run on a test clock:

* *idle tick*: no slot due and no run active (most ticks);
* the hour's slots ticked every ``SCHEDULER_TICK_SECONDS`` (15 s): the most runs one tick
  enqueued, that tick's statements, statements per enqueued run, the slowest tick;
* *all queued*: an idle tick while every shop's run waits on the queue (no worker): what the
  reaper reads.

Every statement sent to the database is counted (SQLAlchemy's ``before_cursor_execute``; SQLite's
own BEGIN is left out). Runs are enqueued to a stub (their RQ job ids recorded), so the figures are
the database's alone. Loopback only, bounded: the largest case creates 1,000 shops.

    python bench/scheduler_load.py [--shops 10 100 1000] [--postgres]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, event, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core import NewShop  # noqa: E402
from core.jobcontrol import add_shop  # noqa: E402
from core.runtime import Runtime  # noqa: E402
from core.scheduler import tick  # noqa: E402
from core.settings import Settings  # noqa: E402

START = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@contextmanager
def counting(runtime: Runtime) -> Iterator[list[str]]:
    engines = runtime.storage.engines  # type: ignore[attr-defined]
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith("BEGIN"):
            statements.append(statement)

    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)


@contextmanager
def database(folder: Path, postgres: bool) -> Iterator[str]:
    if not postgres:
        yield f"sqlite:///{folder / 'scheduler.db'}"
        return
    name = f"sg_sched_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def measure(shops: int, postgres: bool, jitter: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder, database(Path(folder), postgres) as url:
        clock = Clock(START)
        settings = Settings(data_dir=Path(folder), database_url=url, schedule_jitter_seconds=jitter)
        runtime = Runtime.build(settings, clock=clock)
        try:
            for n in range(shops):
                add_shop(runtime, NewShop(name=f"shop-{n:04d}", url=f"shop-{n:04d}.myshopify.com",
                                          token_env="BENCH_TOKEN"))
            with runtime.storage.transaction() as tx:
                slots = sorted(job.next_run_at for job in tx.list_jobs() if job.next_run_at is not None)
            enqueued: list[int] = []

            def enqueue(run_id: int) -> str:
                enqueued.append(run_id)
                return f"bench-run-{run_id}"

            def one_tick(at: datetime) -> tuple[int, float, int]:
                clock.now = at
                before = len(enqueued)
                with counting(runtime) as statements:
                    started = time.perf_counter()
                    tick(runtime, enqueue)
                    seconds = time.perf_counter() - started
                return len(statements), seconds, len(enqueued) - before

            idle = [one_tick(slots[0] - timedelta(seconds=60 - k)) for k in range(5)]
            # The hour's slots, ticked every SCHEDULER_TICK_SECONDS (15 s) as the scheduler does.
            step = timedelta(seconds=settings.scheduler_tick_seconds)
            at, hour = slots[0] - step / 2, []
            while at <= slots[-1] + step:
                hour.append(one_tick(at))
                at += step
            busy = [(s, due) for s, _, due in hour if due]
            queued = [one_tick(slots[-1] + step * (2 + k)) for k in range(5)]  # every run still QUEUED
            return {
                "idle_statements": statistics.median(s for s, _, _ in idle),
                "idle_ms": statistics.median(t for _, t, _ in idle) * 1000,
                "max_due": max(due for _, due in busy),
                "max_statements": max(s for s, _ in busy),
                "per_due": sum(s for s, _ in busy) / sum(due for _, due in busy),
                "max_ms": max(t for _, t, _ in hour) * 1000,
                "queued_statements": statistics.median(s for s, _, _ in queued),
                "queued_ms": statistics.median(t for _, t, _ in queued) * 1000,
            }
        finally:
            runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shops", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--postgres", action="store_true", help="also on a fresh PostgreSQL database")
    args = parser.parse_args()
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; hourly default schedule, jitter 300 s; statements per tick")
    print(f"{'shops':>6} {'db':<10} | {'idle tick':>9} {'ms':>6} | {'most due':>8} {'its stmts':>9} {'per run':>7}"
          f" {'max ms':>7} | {'all queued':>10} {'ms':>6}")
    for shops in args.shops:
        for postgres in ([False, True] if args.postgres else [False]):
            r = measure(shops, postgres, 300)
            print(f"{shops:>6,} {'postgresql' if postgres else 'sqlite':<10} | {r['idle_statements']:>9.0f} "
                  f"{r['idle_ms']:>6.1f} | {r['max_due']:>8} {r['max_statements']:>9} {r['per_due']:>7.1f} "
                  f"{r['max_ms']:>7.1f} | {r['queued_statements']:>10.0f} {r['queued_ms']:>6.1f}", flush=True)

if __name__ == "__main__":
    main()
