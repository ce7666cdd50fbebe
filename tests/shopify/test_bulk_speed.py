"""The bulk threshold learned from the shop's measured bulk speed and page latency."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from core import Settings
from plugins.shopify.bulk_speed import NEVER, BulkSpeed, SpeedMemory, learned_threshold
from plugins.shopify.pacing import ThrottleStatus
from plugins.shopify.simulator import ShopSimulator

from .fakes import FakeTime
from .test_bulk import (
    BULK_SPEED,
    canceled_units,
    fetch,
    make_source,
    operations,
    orders_of,
    seeded,
    settings,  # noqa: F401 - the fixtures of test_bulk
    sim,  # noqa: F401
    truth_of,
)

STANDARD = ThrottleStatus(2000.0, 2000.0, 100.0)
PAGE = {"orders_per_page": 100, "points_per_page": 70.0, "chains": 8}  # 0.7 points an order, as measured


def threshold(speed: BulkSpeed, round_trip: float = 0.05, budget: ThrottleStatus = STANDARD) -> int:
    return learned_threshold(speed, round_trip=round_trip, budget=budget, **PAGE)


def test_the_window_where_bulk_overtakes_paging() -> None:
    # Paging: the bucket holds 2,000 / 0.7 = 2,857 orders, then 100 points/s read 143 orders/s.
    # Bulk at 5,000 objects/s and 3.5 objects an order: 1,429 orders/s. They cross near 3,170.
    assert 3_100 < threshold(BulkSpeed(5_000, 3.5)) < 3_250
    # Four times faster bulk queries (Shopify, June 2026) bring it down towards the bucket's size.
    assert 2_857 < threshold(BulkSpeed(20_000, 3.5)) < threshold(BulkSpeed(5_000, 3.5))


def test_bulk_slower_per_order_than_paging_never_wins() -> None:
    plus = ThrottleStatus(20_000.0, 20_000.0, 1_000.0)  # pages read 1,430 orders/s once the bucket is spent
    assert threshold(BulkSpeed(1_000, 3.5), budget=plus) == NEVER


def test_slow_round_trips_make_bulk_pay_sooner() -> None:
    speed = BulkSpeed(5_000, 3.5)
    one_chain = {**PAGE, "chains": 1}
    slow = learned_threshold(speed, round_trip=2.0, budget=STANDARD, **one_chain)  # 50 orders/s paged
    assert 250 < slow < 400 < threshold(speed)  # bulk's own round trips (6 s) against paging's
    assert threshold(BulkSpeed(5_000, 3.5), round_trip=0.05, budget=ThrottleStatus(2000.0, 0.0, 100.0)) < 100


def test_speeds_are_kept_per_shop_across_restarts_as_a_moving_average(tmp_path: Path) -> None:
    path = tmp_path / "speeds.json"
    memory = SpeedMemory(path)
    assert memory.get("https://a.myshopify.com") is None
    assert memory.record("https://a.myshopify.com", objects=999, orders=300, seconds=1.0) is None  # too small to tell
    memory.record("https://a.myshopify.com", objects=10_000, orders=2_500, seconds=2.0)
    memory.record("https://a.myshopify.com", objects=10_000, orders=2_500, seconds=1.0)
    memory.record("https://b.myshopify.com", objects=3_000, orders=1_000, seconds=3.0)
    restarted = SpeedMemory(path)
    assert restarted.get("https://a.myshopify.com") == BulkSpeed(7_500.0, 4.0, 2)  # halfway from 5,000 to 10,000
    assert restarted.get("https://b.myshopify.com") == BulkSpeed(1_000.0, 3.0, 1)


def test_an_unreadable_file_falls_back_to_the_plans_default(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "speeds.json"
    path.write_text('{"https://a.myshopify.com": {"objects_per_second": "fast"}}')
    with caplog.at_level(logging.WARNING):
        assert SpeedMemory(path).get("https://a.myshopify.com") is None
    assert "ignoring the bulk speeds" in caplog.text


async def test_a_shop_measured_in_bulk_gets_its_learned_threshold_after_a_restart(
    sim: ShopSimulator, settings: Settings, fake_time: FakeTime
) -> None:
    """4,000 orders on Standard: under the plan's fixed 5,000, so paged, until a backfill has
    timed this shop's bulk queries (2,000 objects/s here): then bulk wins from about 3,900."""
    seeded(sim, 4_000)
    orders = orders_of(await fetch(make_source(sim, settings, fake_time)))
    assert "BulkRun" not in operations(sim)  # never measured: the plan's default
    assert len(orders) == 4_000

    await fetch(make_source(sim, settings, fake_time, bulk="always"))  # a backfill, timed
    speed = SpeedMemory(settings.data_dir / "shopify-bulk-speed.json").get(sim.base_url)
    assert speed is not None and 0.5 * BULK_SPEED < speed.objects_per_second <= BULK_SPEED

    runs = operations(sim).count("BulkRun")
    orders = orders_of(await fetch(make_source(sim, settings, fake_time)))  # a new factory: a restart
    assert operations(sim).count("BulkRun") == runs + 1  # the learned threshold is under 4,000
    assert len({o.source_id for o in orders}) == 4_000
    assert canceled_units(orders) == truth_of(sim, orders)

    shopify = {**settings.plugins.get("shopify", {}), "bulk_threshold_orders": 5_000}
    fixed = settings.model_copy(update={"plugins": {**settings.plugins, "shopify": shopify}})
    runs = operations(sim).count("BulkRun")
    await fetch(make_source(sim, fixed, fake_time))
    assert operations(sim).count("BulkRun") == runs  # a threshold set by the admin wins
