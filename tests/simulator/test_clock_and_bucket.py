"""The simulated wall clock and the leaky bucket, on their own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from plugins.shopify.simulator import PLANS, LeakyBucket, SimClock

from .helpers import ManualTime


def test_clock_runs_on_real_time_in_whole_utc_seconds() -> None:
    clock = SimClock()
    now = clock.now()
    assert now.tzinfo is UTC and now.microsecond == 0
    assert abs((datetime.now(UTC) - now).total_seconds()) < 2
    assert not clock.frozen


def test_clock_set_advance_and_freeze() -> None:
    start = datetime(2026, 8, 3, 12, 0, 0, 750_000, tzinfo=UTC)
    clock = SimClock(start, frozen=True)
    assert clock.now() == start.replace(microsecond=0)
    clock.advance(90.4)
    assert clock.now() == datetime(2026, 8, 3, 12, 1, 30, tzinfo=UTC)  # 12:00:00 + 90.4 s, truncated
    clock.set(datetime(2025, 1, 1))  # naive means UTC
    assert clock.now() == datetime(2025, 1, 1, tzinfo=UTC)
    assert clock.epoch() == int(datetime(2025, 1, 1, tzinfo=UTC).timestamp())
    clock.unfreeze()
    assert clock.now() - datetime(2025, 1, 1, tzinfo=UTC) < timedelta(seconds=2)


def test_running_clock_keeps_its_offset() -> None:
    clock = SimClock(datetime(2030, 1, 1, tzinfo=UTC))
    clock.advance(-3600)
    assert timedelta(0) <= clock.now() - datetime(2029, 12, 31, 23, 0, tzinfo=UTC) < timedelta(seconds=2)


def test_plans() -> None:
    assert {name: (p.maximum_available, p.restore_rate) for name, p in PLANS.items()} == {
        "standard": (2000.0, 100.0),
        "advanced": (4000.0, 200.0),
        "plus": (20000.0, 1000.0),
        "enterprise": (40000.0, 2000.0),
    }


def test_bucket_starts_full_reserves_refunds_and_refills() -> None:
    time = ManualTime()
    bucket = LeakyBucket(100, 10, time)
    assert bucket.available() == 100
    assert bucket.try_reserve(80)
    assert not bucket.try_reserve(30)  # refused: nothing taken
    assert bucket.available() == 20
    bucket.refund(50)  # requested 80, actual 30
    assert bucket.available() == 70
    assert bucket.seconds_until(100) == pytest.approx(3.0)
    time.advance(2)
    assert bucket.available() == 90
    time.advance(100)
    assert bucket.available() == 100  # never above the maximum
    with pytest.raises(ValueError):
        LeakyBucket(0, 1)
