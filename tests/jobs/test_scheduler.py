"""The scheduler: schedules live in the database, each slot is enqueued once, a scheduler that
was down runs once and moves on, DST neither skips nor doubles a run, admins' controls apply at
the next tick. Real PostgreSQL/SQLite and real Redis."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core import JobRunStatus, NewShop, RunTrigger
from core.jobcontrol import add_shop, pause_job, resume_job, skip_next_run, update_schedule
from core.queues import QueueBackend
from core.runtime import Runtime
from core.scheduler import SchedulerThread, tick
from core.settings import Settings


class Clock:
    def __init__(self, now: datetime) -> None:
        self.value = now
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.value

    def advance(self, **delta: float) -> None:
        with self._lock:
            self.value += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 30, 9, 0, 30, tzinfo=UTC))


@pytest.fixture
def runtime(tmp_path: Path, database_url: str, redis_url: str, queue_name: str, clock: Clock) -> Iterator[Runtime]:
    settings = Settings(data_dir=tmp_path, database_url=database_url, redis_url=redis_url, queue_name=queue_name,
                        scheduler_tick_seconds=0.05, schedule_jitter_seconds=0)  # exact slots; jitter: test_jitter.py
    rt = Runtime.build(settings, clock=clock)
    yield rt
    rt.close()


@pytest.fixture
def queue(runtime: Runtime) -> QueueBackend:
    return QueueBackend.from_settings(runtime.settings)


def runs_of(runtime: Runtime, job_id: int) -> list:
    with runtime.storage.transaction() as tx:
        return list(tx.list_runs(job_id, first=1000).items)


def make_shops(runtime: Runtime, n: int) -> list:
    return [add_shop(runtime, NewShop(name=f"shop-{i}", url=f"shop-{i}.myshopify.com", token="t"))[1][0]
            for i in range(n)]


def test_a_new_shop_gets_an_hourly_job_whose_schedule_lives_in_the_database(runtime: Runtime, clock: Clock,
                                                                             queue: QueueBackend) -> None:
    (job,) = make_shops(runtime, 1)
    assert job.schedule.every_seconds == 3600
    assert job.next_run_at == clock() + timedelta(hours=1)
    queue.purge()  # Redis may be flushed: nothing about schedules is lost
    with runtime.storage.transaction() as tx:
        assert tx.get_job(job.id).next_run_at == job.next_run_at


def test_two_schedulers_at_once_enqueue_each_slot_once(runtime: Runtime, clock: Clock, queue: QueueBackend) -> None:
    jobs = make_shops(runtime, 12)
    clock.advance(hours=1, seconds=1)
    barrier = threading.Barrier(2)
    results = []

    def scheduler() -> None:
        barrier.wait()
        for _ in range(5):
            results.append(tick(runtime, queue.enqueue_run))

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sum(len(r.enqueued) for r in results) == 12
    for job in jobs:
        assert len(runs_of(runtime, job.id)) == 1
    assert queue.queue.count == 12


def test_a_scheduler_that_was_down_runs_once_and_moves_on(runtime: Runtime, clock: Clock, queue: QueueBackend) -> None:
    (job,) = make_shops(runtime, 1)
    slot = job.next_run_at
    clock.advance(hours=6, minutes=20)  # five slots were missed
    result = tick(runtime, queue.enqueue_run)
    assert len(result.enqueued) == 1
    assert tick(runtime, queue.enqueue_run).enqueued == []
    with runtime.storage.transaction() as tx:
        nxt = tx.get_job(job.id).next_run_at
    assert nxt == slot + timedelta(hours=6)  # 16:00:30: back on the hourly cadence, in the future
    assert nxt > clock()


def test_pause_resume_and_skip_next(runtime: Runtime, clock: Clock, queue: QueueBackend) -> None:
    (job,) = make_shops(runtime, 1)
    pause_job(runtime, job.id)
    clock.advance(hours=3)
    assert tick(runtime, queue.enqueue_run).enqueued == []
    assert runs_of(runtime, job.id) == []

    resumed = resume_job(runtime, job.id)
    assert resumed.next_run_at == clock() + timedelta(hours=1)  # from now, no replay

    skip_next_run(runtime, job.id)
    clock.advance(hours=1, seconds=1)
    first = tick(runtime, queue.enqueue_run)
    assert first.enqueued == [] and len(first.skipped) == 1
    assert first.skipped[0].status is JobRunStatus.SKIPPED
    clock.advance(hours=1)
    second = tick(runtime, queue.enqueue_run)
    assert len(second.enqueued) == 1  # only one slot skipped
    statuses = sorted(r.status.value for r in runs_of(runtime, job.id))
    assert statuses == ["QUEUED", "SKIPPED"]


def test_a_schedule_change_is_picked_up_without_restart(runtime: Runtime, clock: Clock, queue: QueueBackend) -> None:
    (job,) = make_shops(runtime, 1)
    ticker = SchedulerThread(runtime, queue.enqueue_run)
    ticker.start()
    try:
        update_schedule(runtime, job.id, cron="*/5 * * * *", timezone="Europe/Rome")
        clock.advance(minutes=5)
        deadline = datetime.now(UTC) + timedelta(seconds=5)
        while not runs_of(runtime, job.id) and datetime.now(UTC) < deadline:
            threading.Event().wait(0.05)
    finally:
        ticker.stop()
    (run,) = runs_of(runtime, job.id)
    assert run.trigger is RunTrigger.SCHEDULE
    assert run.slot == "2026-11-30T09:05:00+00:00"


@pytest.mark.parametrize(
    ("cron", "day", "expected_local_times"),
    [
        ("30 1 * * *", datetime(2026, 11, 1, 0, 0), ["01:30 EDT"]),  # fall-back: 01:30 happens twice
        ("30 2 * * *", datetime(2026, 3, 8, 0, 0), ["03:00 EDT"]),  # spring-forward: 02:30 does not exist
        ("0 * * * *", datetime(2026, 11, 1, 0, 0), None),  # hourly: every real hour once
    ],
)
def test_dst_transitions_neither_skip_nor_double_a_run(runtime: Runtime, clock: Clock, queue: QueueBackend,
                                                       cron: str, day: datetime,
                                                       expected_local_times: list[str] | None) -> None:
    from zoneinfo import ZoneInfo

    ny = ZoneInfo("America/New_York")
    start = day.replace(tzinfo=ny).astimezone(UTC)
    clock.value = start
    (job,) = make_shops(runtime, 1)
    update_schedule(runtime, job.id, cron=cron, timezone="America/New_York")
    slots = []
    while clock() < start + timedelta(hours=24):
        clock.advance(minutes=10)
        slots += [datetime.fromisoformat(r.slot) for r in tick(runtime, queue.enqueue_run).enqueued]
    if expected_local_times is None:
        assert len(slots) == 24  # one per real hour, for 24 real hours
        assert all(b - a == timedelta(hours=1) for a, b in zip(slots, slots[1:]))
        local = [s.astimezone(ny).strftime("%H:%M %Z") for s in slots]
        assert "01:00 EDT" in local and "01:00 EST" in local  # the repeated hour runs in both
    else:
        # the parametrized day covers the DST change and one more slot may fall in the next day
        first_day = [s for s in slots if s < start + timedelta(hours=23)]
        assert [s.astimezone(ny).strftime("%H:%M %Z") for s in first_day] == expected_local_times


def test_run_history_is_kept_for_the_configured_period(runtime: Runtime, clock: Clock) -> None:
    from core.scheduler import prune_history

    (job,) = make_shops(runtime, 1)
    with runtime.storage.transaction() as tx:
        old = tx.create_run(job_id=job.id, trigger=RunTrigger.MANUAL, status=JobRunStatus.SUCCEEDED)
        tx.update_run(old.id, finished_at=clock() - timedelta(days=91))
        recent = tx.create_run(job_id=job.id, trigger=RunTrigger.MANUAL, status=JobRunStatus.FAILED)
        tx.update_run(recent.id, finished_at=clock() - timedelta(days=89))
        running = tx.create_run(job_id=job.id, trigger=RunTrigger.MANUAL, status=JobRunStatus.RUNNING)
    assert runtime.settings.run_history_days == 90
    assert prune_history(runtime) == 1
    assert {r.id for r in runs_of(runtime, job.id)} == {recent.id, running.id}
