"""Schedule jitter: each job's slots shifted by a stable offset, so many shops do not start at once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core import NewShop
from core.jobcontrol import add_shop, update_schedule
from core.models import Schedule
from core.queues import QueueBackend
from core.runtime import Runtime
from core.scheduler import tick
from core.schedules import next_fire, schedule_offset, upcoming
from core.settings import Settings

from .test_scheduler import Clock, runs_of

START = datetime(2026, 11, 30, 9, 0, 30, tzinfo=UTC)
HOURLY_CRON = Schedule(cron="0 * * * *", timezone="UTC")
HOURLY = Schedule(every_seconds=3600, timezone="UTC")


def test_the_offset_is_stable_within_the_spread_and_differs_between_shops() -> None:
    offsets = [schedule_offset(f"shop-{n}", "canceled-items", 300) for n in range(1000)]
    assert offsets == [schedule_offset(f"shop-{n}", "canceled-items", 300) for n in range(1000)]  # a restart
    assert all(timedelta(0) <= o < timedelta(seconds=300) and o.microseconds == 0 for o in offsets)
    assert len(set(offsets)) > 250  # 1,000 shops over 300 seconds: no second holds more than a few
    assert max(offsets.count(o) for o in set(offsets)) <= 12
    assert schedule_offset("shop-1", "canceled-items", 0) == timedelta(0)


def test_a_cron_schedule_fires_at_its_offset_every_period() -> None:
    offset = timedelta(seconds=197)
    first = next_fire(HOURLY_CRON, after=START, offset=offset)
    assert first == datetime(2026, 11, 30, 9, 3, 17, tzinfo=UTC)  # this hour's slot is still ahead
    fired = [first]
    for _ in range(4):
        fired.append(next_fire(HOURLY_CRON, after=fired[-1] + timedelta(seconds=2), previous=fired[-1],
                               offset=offset))
    assert [b - a for a, b in zip(fired, fired[1:], strict=False)] == [timedelta(hours=1)] * 4
    assert upcoming(HOURLY_CRON, first=first, count=5, offset=offset) == fired


def test_a_slot_set_before_jitter_is_not_run_twice() -> None:
    """A job whose next slot was 10:00:00 (jitter off) fires at 10:00:05: the next is 11:03:17,
    not 10:03:17 of the same hour."""
    slot = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    following = next_fire(HOURLY_CRON, after=slot + timedelta(seconds=5), previous=slot,
                          offset=timedelta(seconds=197))
    assert following == datetime(2026, 11, 30, 11, 3, 17, tzinfo=UTC)


def test_an_offset_longer_than_the_period_is_reduced_below_it() -> None:
    every_minute = Schedule(cron="* * * * *", timezone="UTC")
    first = next_fire(every_minute, after=START, offset=timedelta(seconds=130))
    assert first == datetime(2026, 11, 30, 9, 1, 10, tzinfo=UTC)  # 130 s is 10 s past each minute
    following = next_fire(every_minute, after=first, previous=first, offset=timedelta(seconds=130))
    assert following - first == timedelta(minutes=1)


def test_an_interval_keeps_its_cadence_from_an_offset_first_slot() -> None:
    offset = timedelta(seconds=42)
    first = next_fire(HOURLY, after=START, offset=offset)
    assert first == START + timedelta(hours=1, seconds=42)
    assert next_fire(HOURLY, after=first + timedelta(seconds=3), previous=first, offset=offset) == \
        first + timedelta(hours=1)


@pytest.fixture
def runtime(tmp_path: Path, database_url: str, redis_url: str, queue_name: str) -> Iterator[Runtime]:
    clock = Clock(START.replace(minute=30))  # the next hour's slots are the first
    settings = Settings(data_dir=tmp_path, database_url=database_url, redis_url=redis_url, queue_name=queue_name,
                        schedule_jitter_seconds=300)
    rt = Runtime.build(settings, clock=clock)
    rt.test_clock = clock  # type: ignore[attr-defined]
    yield rt
    rt.close()


def test_a_hundred_shops_on_one_cron_schedule_start_spread_over_the_jitter(runtime: Runtime) -> None:
    clock: Clock = runtime.test_clock  # type: ignore[attr-defined]
    queue = QueueBackend.from_settings(runtime.settings)
    jobs = [add_shop(runtime, NewShop(name=f"shop-{n}", url=f"shop-{n}.myshopify.com", token="t"))[1][0]
            for n in range(100)]
    jobs = [update_schedule(runtime, job.id, cron="0 * * * *") for job in jobs]
    slots = [job.next_run_at for job in jobs]
    nominal = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    assert all(nominal <= slot < nominal + timedelta(seconds=300) for slot in slots)
    assert len(set(slots)) > 80  # not all in the same second
    assert slots == [nominal + schedule_offset(job.shop, job.kind, 300) for job in jobs]  # as after a restart

    clock.advance(seconds=(nominal - clock()).total_seconds() + 150)  # 10:02:30: about half are due
    enqueued = tick(runtime, queue.enqueue_run).enqueued
    due = sum(1 for slot in slots if slot <= clock())
    assert len(enqueued) == due and 20 < due < 80
    clock.advance(seconds=150)
    assert len(tick(runtime, queue.enqueue_run).enqueued) == 100 - due
    assert len(tick(runtime, queue.enqueue_run).enqueued) == 0
    with runtime.storage.transaction() as tx:
        following = [tx.get_job(job.id).next_run_at for job in jobs]
    assert following == [slot + timedelta(hours=1) for slot in slots]  # each keeps its offset
    assert all(len(runs_of(runtime, job.id)) == 1 for job in jobs)
    queue.purge()
