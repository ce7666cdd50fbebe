"""The cost pacer waits exactly as long as the bucket needs to refill, and no longer."""

from __future__ import annotations

import pytest

from plugins.shopify.pacing import CostPacer, LocalLedger, ThrottleStatus

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


async def test_a_lower_figure_from_shopify_replaces_the_estimate(fake_time: FakeTime) -> None:
    pacer = CostPacer(clock=fake_time.clock, sleep=fake_time.sleep)
    pacer.observe(status(available=1000))
    pacer.observe(status(available=300))  # something else spent: Shopify's figure wins
    assert pacer.available() == 300


async def test_a_higher_figure_does_not_erase_reservations_still_on_their_way(fake_time: FakeTime) -> None:
    # Another run's reply, produced before our queries reached Shopify, cannot know about them:
    # believing it would let the two runs spend the same points twice (many workers, one bucket).
    pacer = CostPacer(clock=fake_time.clock, sleep=fake_time.sleep)
    pacer.observe(status(available=1000))
    await pacer.acquire(600)
    pacer.observe(status(available=1000))
    assert pacer.available() == 400


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


# --- one budget per shop: every run of the shop draws on one ledger -------------------------


async def test_runs_sharing_a_ledger_queue_behind_each_other(fake_time: FakeTime) -> None:
    ledger = LocalLedger(clock=fake_time.clock)
    first = CostPacer(ledger=ledger, sleep=fake_time.sleep)
    second = CostPacer(ledger=ledger, sleep=fake_time.sleep)
    first.observe(status(available=1000))
    assert await first.acquire(800) == 0
    # The second run sees the 800 points the first one holds: it waits for 600 (+1) more.
    assert await second.acquire(800) == pytest.approx(6.01)


async def test_a_reply_gives_back_what_the_query_did_not_use(fake_time: FakeTime) -> None:
    pacer = CostPacer(clock=fake_time.clock, sleep=fake_time.sleep)
    pacer.observe(status(available=2000))
    hold = await pacer.hold(1000)
    assert pacer.available() == 1000
    # Requested 1000, charged 150: Shopify reports 1850, and so does the ledger.
    pacer.settle(hold, status(available=1850), actual=150)
    assert pacer.available() == 1850
    assert hold.settled


async def test_a_throttled_reply_gives_back_all_it_held_before_the_correction(fake_time: FakeTime) -> None:
    pacer = CostPacer(clock=fake_time.clock, sleep=fake_time.sleep)
    pacer.observe(status(available=900))
    hold = await pacer.hold(500)
    pacer.settle(hold, status(available=40), actual=None)  # THROTTLED: the query never started
    assert pacer.available() == 40


async def test_a_backfill_leaves_the_scheduled_window_its_share(fake_time: FakeTime) -> None:
    ledger = LocalLedger(clock=fake_time.clock)
    backfill = CostPacer(ledger=ledger, backfill=True, sleep=fake_time.sleep)
    scheduled = CostPacer(ledger=ledger, sleep=fake_time.sleep)
    scheduled.observe(status(available=2000))
    # 2000 - 900 keeps half the bucket free: the backfill may go.
    assert await backfill.acquire(900) == 0
    # Now only 1100 is left: a second backfill query waits until 900 + 1000 are there again...
    assert backfill.delay_for(900) == pytest.approx(8.0)
    # ... while the scheduled window takes what it needs at once.
    assert await scheduled.acquire(900) == 0
    assert ledger.estimate().currently_available == pytest.approx(200)


async def test_a_backfill_asks_again_until_there_is_headroom(fake_time: FakeTime) -> None:
    ledger = LocalLedger(clock=fake_time.clock)
    backfill = CostPacer(ledger=ledger, backfill=True, sleep=fake_time.sleep)
    backfill.observe(status(available=0))
    slept = await backfill.acquire(500)
    assert slept == pytest.approx(15.0)  # (500 + 1000 - 0) / 100
    assert ledger.estimate().currently_available == pytest.approx(1000)  # 1500 refilled, 500 held
