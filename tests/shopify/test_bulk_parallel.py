"""A backfill's window split across concurrent bulk queries (API 2026-01 and later), against the simulator.

The simulator runs up to five bulk queries at once from 2026-01 (refusing a sixth with
``LIMIT_REACHED``) and one before; its bulk progress runs on the fake clock the source sleeps on.
"""

from __future__ import annotations

from typing import Any

import pytest

from core import Settings
from plugins.shopify.bulk_parallel import concurrent_bulk_limit
from plugins.shopify.simulator import ShopSimulator

from .fakes import FakeTime
from .test_bulk import (
    _start_other_bulk_query,
    canceled_units,
    fetch,
    make_source,
    operations,
    orders_of,
    seeded,
    settings,  # noqa: F401 - the fixtures of test_bulk
    sim,  # noqa: F401
    snapshot,
    truth_of,
    without_refund_lines,
)

@pytest.mark.parametrize(("version", "limit"), [("2025-07", 1), ("2025-10", 1), ("2026-01", 5), ("2026-07", 5),
                                                ("unstable", 5)])
def test_the_concurrent_bulk_limit_follows_the_api_version(version: str, limit: int) -> None:
    assert concurrent_bulk_limit(version) == limit


def overlap(sim: ShopSimulator) -> int:
    """The most of the shop's bulk operations that were running at the same moment."""
    ops = list(sim.bulk.operations.values())
    return max(sum(1 for other in ops if other.started <= op.started < other.started + other.duration) for op in ops)


def backfill(sim: ShopSimulator, settings: Settings, fake_time: FakeTime, **options: Any) -> Any:
    return make_source(sim, settings, fake_time, bulk="always", bulk_min_part_orders=100, bulk_page_orders=200,
                       **options)


async def test_a_backfill_on_2026_runs_five_bulk_queries_at_once_and_stores_the_truth(
    sim: ShopSimulator, settings: Settings, fake_time: FakeTime
) -> None:
    seeded(sim, 1500)
    orders = orders_of(await fetch(backfill(sim, settings, fake_time)))
    parts = [op.root_object_count for op in sim.bulk.operations.values()]
    assert len(parts) == 5 and overlap(sim) == 5
    assert sum(parts) == 1500 and min(parts) >= 150  # parts balanced by ordersCount, not by time alone
    assert len(orders) == len({o.source_id for o in orders}) == 1500  # parts are disjoint
    paged = orders_of(await fetch(make_source(sim, settings, fake_time, bulk="never")))
    assert snapshot(orders) == snapshot(without_refund_lines(paged))
    assert canceled_units(orders) == truth_of(sim, orders)


async def test_before_2026_a_backfill_keeps_one_bulk_query(
    sim: ShopSimulator, settings: Settings, fake_time: FakeTime
) -> None:
    seeded(sim, 1500)
    orders = orders_of(await fetch(backfill(sim, settings, fake_time, api_version="2025-10")))
    assert [op.root_object_count for op in sim.bulk.operations.values()] == [1500]
    assert "OrdersCount" not in operations(sim)  # nothing to split
    assert canceled_units(orders) == truth_of(sim, orders)


async def test_the_setting_caps_the_queries_and_one_means_one(
    sim: ShopSimulator, settings: Settings, fake_time: FakeTime
) -> None:
    seeded(sim, 1500)
    await fetch(backfill(sim, settings, fake_time, bulk_queries=1))
    assert len(sim.bulk.operations) == 1
    await fetch(backfill(sim, settings, fake_time, bulk_queries=3))
    assert len(sim.bulk.operations) == 1 + 3


async def test_a_small_window_is_not_split(sim: ShopSimulator, settings: Settings, fake_time: FakeTime) -> None:
    seeded(sim, 250)  # two parts of at least 100 orders, not five
    orders = orders_of(await fetch(backfill(sim, settings, fake_time)))
    assert len(sim.bulk.operations) == 2 and len(orders) == 250


async def test_a_slot_held_by_another_query_is_waited_for_and_nothing_is_refused_twice(
    sim: ShopSimulator, settings: Settings, fake_time: FakeTime
) -> None:
    seeded(sim, 1500)
    other = await _start_other_bulk_query(sim)  # over every order: it runs longer than ours
    orders = orders_of(await fetch(backfill(sim, settings, fake_time)))
    ours = [op for op in sim.bulk.operations.values() if op is not other]
    assert len(ours) == 5 and overlap(sim) == 5  # never six at once
    assert operations(sim).count("BulkRun") == 6  # four started, one refused, started once a slot freed
    assert len(orders) == 1500 and canceled_units(orders) == truth_of(sim, orders)


async def test_a_part_whose_query_fails_is_paged_and_the_others_are_kept(
    sim: ShopSimulator, settings: Settings, fake_time: FakeTime
) -> None:
    seeded(sim, 1500)
    sim.bulk.end_next("FAILED", error_code="INTERNAL_SERVER_ERROR")  # the first part's query
    orders = orders_of(await fetch(backfill(sim, settings, fake_time)))
    [failed] = [op for op in sim.bulk.operations.values() if op.final_status == "FAILED"]
    paged = operations(sim).count("OrdersWindow")
    assert 0 < paged <= failed.root_object_count // 100 + 1  # only that part, in pages of 100
    assert len({o.source_id for o in orders}) == 1500
    assert canceled_units(orders) == truth_of(sim, orders)
