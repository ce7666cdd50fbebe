"""The cost pacer waits exactly as long as the bucket needs to refill, and no longer."""

from __future__ import annotations

import pytest

from plugins.shopify.pacing import CostPacer, ThrottleStatus

from .fakes import FakeTime


def status(available: float, maximum: float = 2000.0, rate: float = 100.0) -> ThrottleStatus:
    return ThrottleStatus(maximum_available=maximum, currently_available=available, restore_rate=rate)


async def test_no_wait_before_the_first_reply(fake_time: FakeTime) -> None:
    pacer = CostPacer(clock=fake_time.clock, sleep=fake_time.sleep)
    assert await pacer.acquire(1000) == 0
    assert fake_time.sleeps == []


async def test_waits_for_the_missing_points_at_the_restore_rate(fake_time: FakeTime) -> None:
    pacer = CostPacer(clock=fake_time.clock, sleep=fake_time.sleep)
    pacer.observe(status(available=100))
    # (972 - 100) / 100, plus one point of slack for Shopify's rounded-down figures
    assert await pacer.acquire(972) == pytest.approx(8.73)
    assert fake_time.sleeps == [pytest.approx(8.73)]


async def test_counts_the_refill_since_the_last_reply(fake_time: FakeTime) -> None:
    pacer = CostPacer(clock=fake_time.clock, sleep=fake_time.sleep)
    pacer.observe(status(available=100))
    fake_time.now += 5  # 500 points refilled meanwhile
    assert pacer.available() == pytest.approx(600)
    assert await pacer.acquire(972) == pytest.approx(3.73)


async def test_never_waits_when_the_bucket_holds_enough(fake_time: FakeTime) -> None:
    pacer = CostPacer(clock=fake_time.clock, sleep=fake_time.sleep)
    pacer.observe(status(available=1990))
    assert await pacer.acquire(972) == 0
    assert fake_time.sleeps == []


def test_refill_stops_at_the_bucket_size(fake_time: FakeTime) -> None:
    pacer = CostPacer(clock=fake_time.clock, sleep=fake_time.sleep)
    pacer.observe(status(available=0, maximum=50, rate=10))
    fake_time.now += 3600
    assert pacer.available() == 50


def test_a_query_bigger_than_the_bucket_waits_only_for_a_full_bucket(fake_time: FakeTime) -> None:
    pacer = CostPacer(clock=fake_time.clock, sleep=fake_time.sleep)
    pacer.observe(status(available=0, maximum=50, rate=10))
    assert pacer.delay_for(972) == pytest.approx(5.0)


async def test_back_to_back_queries_reserve_their_points(fake_time: FakeTime) -> None:
    # Two queries before the next reply must not both count the same 1000 points.
    pacer = CostPacer(clock=fake_time.clock, sleep=fake_time.sleep)
    pacer.observe(status(available=1000))
    assert await pacer.acquire(600) == 0
    assert await pacer.acquire(600) == pytest.approx(2.01)  # 200 (+1) short at 100/s
    pacer.observe(status(available=1500))  # Shopify's own figure replaces the estimate
    assert pacer.available() == 1500


async def test_failed_request_gives_its_reservation_back(fake_time: FakeTime) -> None:
    pacer = CostPacer(clock=fake_time.clock, sleep=fake_time.sleep)
    pacer.observe(status(available=1000))
    await pacer.acquire(600)
    assert pacer.available() == 400
    pacer.release(600)
    assert pacer.available() == 1000


@pytest.mark.parametrize(
    "raw",
    [
        None,
        {},
        {"maximumAvailable": 2000.0, "currentlyAvailable": 10},
        {"maximumAvailable": 2000.0, "currentlyAvailable": "10", "restoreRate": 100.0},
        {"maximumAvailable": 0, "currentlyAvailable": 0, "restoreRate": 100.0},
    ],
)
def test_unreadable_throttle_status_is_ignored(raw: object) -> None:
    assert ThrottleStatus.from_extension(raw) is None


def test_throttle_status_reads_shopify_numbers() -> None:
    parsed = ThrottleStatus.from_extension({"maximumAvailable": 2000.0, "currentlyAvailable": 1990, "restoreRate": 100.0})
    assert parsed == status(available=1990)
    assert parsed.seconds_until(2500) == pytest.approx(5.1)
