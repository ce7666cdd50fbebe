"""A window's rest read in overlapping time slices (``plugins/shopify/slices.py``), against the simulator."""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest

from core import OrderPage, Settings, Shop, ShopCredentials, SourceOrder, Window
from plugins.shopify.pacing import ThrottleStatus
from plugins.shopify.simulator import ShopSimulator, SimClock
from plugins.shopify.slices import PageCost, slices_in_flight, time_slices
from plugins.shopify.source import ShopifySource, ShopifySourceFactory

from .conftest import TOKEN
from .fakes import FakeTime

T0 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
DOMAIN = "demo-shop.myshopify.com"
WINDOW = Window(T0 - timedelta(hours=1), T0)
PAGE = PageCost(orders=100, points=70.0, requested=150.0)


# --- the plan -----------------------------------------------------------------------------------


def test_slices_are_contiguous_half_open_and_cut_at_whole_seconds() -> None:
    start = datetime(2026, 11, 2, 11, 0, 7, tzinfo=UTC)
    end = datetime(2026, 11, 2, 12, 0, 0, 250_000, tzinfo=UTC)
    slices = time_slices(start, end, 7)
    assert len(slices) == 7
    assert slices[0].start == start and slices[-1].end == end
    for before, after in zip(slices, slices[1:], strict=False):
        assert before.end == after.start  # no gap, no overlap: [a, b) then [b, c)
        assert after.start.microsecond == 0
    assert time_slices(start, start + timedelta(seconds=3), 10) == [
        Window(start + timedelta(seconds=n), start + timedelta(seconds=n + 1)) for n in range(3)
    ]  # never an empty slice, never more slices than seconds


def test_a_bucket_that_holds_the_rest_pages_it_all_at_once() -> None:
    full = ThrottleStatus(2000.0, 2000.0, 100.0)
    # 10 pages spend 700 points; 8 chains hold 1,200 more: all fits, 0.25 s of round trips.
    # A 9th would make the bucket wait 0.5 s for refill.
    assert slices_in_flight(pages_left=10, round_trip=0.2, cost=PAGE, budget=full, limit=32) == 8
    assert slices_in_flight(pages_left=10, round_trip=0.2, cost=PAGE, budget=full, limit=4) == 4  # the setting


def test_no_more_chains_than_the_bucket_can_hold_reservations_for() -> None:
    full = ThrottleStatus(2000.0, 2000.0, 100.0)
    cheap = PageCost(orders=100, points=10.0, requested=150.0)
    # 50 pages spend 500 points; n chains hold 150 n more: (2000 - 500) // 150 = 10 chains fit,
    # an 11th would wait 1.5 s for refill to save 0.09 s of round trips.
    assert slices_in_flight(pages_left=50, round_trip=0.2, cost=cheap, budget=full, limit=32) == 10
    # 50 pages of 70 points need 16.5 s of refill with one chain's hold: one chain (10 s of
    # round trips) is enough at 0.2 s; at 1 s, three (16.7 s of round trips, 19.5 s of refill)
    assert slices_in_flight(pages_left=50, round_trip=0.2, cost=PAGE, budget=full, limit=32) == 1
    assert slices_in_flight(pages_left=50, round_trip=1.0, cost=PAGE, budget=full, limit=32) == 3


def test_an_empty_bucket_wants_only_the_chains_that_hide_the_latency() -> None:
    # 100 pages of 70 points at 100 points/s take 70 s whatever happens: one chain reads a page
    # in 0.2 s, so 100 pages in 20 s; it is the bucket, not the latency, that bounds the read.
    empty = ThrottleStatus(2000.0, 0.0, 100.0)
    assert slices_in_flight(pages_left=100, round_trip=0.2, cost=PAGE, budget=empty, limit=32) == 1
    # at 2 s per round trip, one chain would need 200 s: three hide it within the bucket's 70 s
    assert slices_in_flight(pages_left=100, round_trip=2.0, cost=PAGE, budget=empty, limit=32) == 3


def test_one_chain_without_a_budget_a_round_trip_or_more_than_a_page() -> None:
    full = ThrottleStatus(2000.0, 2000.0, 100.0)
    assert slices_in_flight(pages_left=10, round_trip=None, cost=PAGE, budget=full, limit=8) == 1
    assert slices_in_flight(pages_left=10, round_trip=0.2, cost=PAGE, budget=None, limit=8) == 1
    assert slices_in_flight(pages_left=1, round_trip=0.2, cost=PAGE, budget=full, limit=8) == 1
    assert slices_in_flight(pages_left=10, round_trip=0.2, cost=PAGE, budget=full, limit=1) == 1


# --- against the simulated shop --------------------------------------------------------------------


@pytest.fixture
def sim(fake_time: FakeTime) -> ShopSimulator:
    return ShopSimulator(shop_domain=DOMAIN, access_token=TOKEN, clock=SimClock(T0, frozen=True),
                         time_source=fake_time.clock)


def make_source(sim: ShopSimulator, tmp_path: Path, fake_time: FakeTime, **options: Any) -> ShopifySource:
    shop = Shop(id=1, name="demo", source="shopify", url=DOMAIN, api_version="2026-07", has_token=True,
                token_env=None, created_at=T0)
    return ShopifySourceFactory().create(
        shop=shop, credentials=ShopCredentials(token=TOKEN, token_env=None),
        settings=Settings(data_dir=tmp_path / "data", plugins={"shopify": {"max_attempts": 3, "http_timeout_seconds": 5.0}}),
        transport=httpx2.ASGITransport(app=sim.asgi_app), clock=fake_time.clock, sleep=fake_time.sleep,
        rng=random.Random(2), now=sim.clock.now, **options)


async def fetch(source: ShopifySource, window: Window = WINDOW, page_size: int = 100) -> list[OrderPage]:
    try:
        return [page async for page in source.fetch_orders(window, page_size=page_size)]
    finally:
        await source.aclose()


def orders_of(pages: list[OrderPage]) -> list[SourceOrder]:
    return [order for page in pages for order in page.orders]


def crowded_seconds(sim: ShopSimulator, seconds: int, per_second: int) -> set[str]:
    """``per_second`` orders updated in each of the window's last ``seconds`` seconds: every whole
    second a slice edge can fall on holds that many orders with the same ``updatedAt``."""
    ids = set()
    first = WINDOW.end - timedelta(seconds=seconds)
    for second in range(seconds):
        for n in range(per_second):
            ids.add(sim.create_order(lines=[(f"SKU-{n % 3}", 2)], created_at=first + timedelta(seconds=second)))
    return ids


async def test_ties_at_every_slice_edge_are_neither_lost_nor_doubled(
    sim: ShopSimulator, tmp_path: Path, fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sync_gateway.shopify")
    inside = crowded_seconds(sim, seconds=40, per_second=13)  # 520 orders; page 1 ends inside a second
    sim.create_order(lines=[("BEFORE", 1)], created_at=WINDOW.start - timedelta(seconds=1))
    sim.create_order(lines=[("AT-END", 1)], created_at=WINDOW.end)  # half-open: not in the window

    pages = await fetch(make_source(sim, tmp_path, fake_time, slices_in_flight=8))

    ids = [order.source_id for order in orders_of(pages)]
    assert len(ids) == len(set(ids)) == 520
    assert set(ids) == inside
    sliced = [r.getMessage() for r in caplog.records if "slices" in r.getMessage()]
    assert len(sliced) == 1 and "(about 420 orders) in 5 slices, 4 at once" in sliced[0], sliced
    assert len(pages[0].orders) == 100 and len(pages) == 1 + 5  # the first page, then one per slice


async def test_the_orders_and_their_states_match_one_chain(sim: ShopSimulator, tmp_path: Path,
                                                         fake_time: FakeTime) -> None:
    sim.seed(900, seed=21, start=WINDOW.start, end=WINDOW.end - timedelta(seconds=1), large_order_rate=0.05)
    chain = await fetch(make_source(sim, tmp_path, fake_time, slices_in_flight=1))
    sliced = await fetch(make_source(sim, tmp_path, fake_time, slices_in_flight=8))

    def states(pages: list[OrderPage]) -> dict[str, SourceOrder]:
        found = {order.source_id: order for order in orders_of(pages)}
        assert len(found) == len(orders_of(pages))  # nothing twice
        return found

    assert len(chain) == 9
    assert states(sliced) == states(chain)  # every order, complete (nested pages too), once
    assert len(states(chain)) == 900


async def test_one_chain_when_the_rest_fits_a_page(sim: ShopSimulator, tmp_path: Path, fake_time: FakeTime,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="sync_gateway.shopify")
    crowded_seconds(sim, seconds=10, per_second=15)  # 150 orders: page 1, then one more page
    pages = await fetch(make_source(sim, tmp_path, fake_time, slices_in_flight=8))
    assert [len(page.orders) for page in pages] == [100, 50]
    assert not [r for r in caplog.records if "slices" in r.getMessage()]
