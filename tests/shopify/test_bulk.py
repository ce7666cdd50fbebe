"""Windows read through a bulk query operation, against the simulator.

In process (``httpx2.ASGITransport``) the simulator's bulk progress and bucket run on the fake
clock the source sleeps on, so polling costs no real time; the memory test serves the simulator
over a real socket, where the result really streams.
"""

from __future__ import annotations

import random
import tracemalloc
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx2
import orjson
import pytest

from core import OrderPage, Settings, ShopCredentials, SourceAuthError, Window
from plugins.shopify.bulk import bulk_query_text, result_url
from plugins.shopify.simulator import ShopSimulator, SimClock
from plugins.shopify.source import (
    BULK_THRESHOLDS,
    ShopifySource,
    ShopifySourceFactory,
    default_bulk_threshold,
)

from ..servers import serving
from .conftest import TOKEN
from .fakes import FakeTime
from .test_simulated_shop import (
    DOMAIN,
    T0,
    WINDOW,
    canceled_units,
    orders_of,
    shop_record,
    snapshot,
    truth,
)

BULK_SPEED = 2_000.0  # objects per second of the simulated bulk operations (on the fake clock)


@pytest.fixture
def sim(fake_time: FakeTime) -> ShopSimulator:
    return ShopSimulator(shop_domain=DOMAIN, access_token=TOKEN, clock=SimClock(T0, frozen=True),
                         time_source=fake_time.clock, bulk_objects_per_second=BULK_SPEED, record_requests=True)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", plugins={"shopify": {"max_attempts": 4, "http_timeout_seconds": 2.0}})


def make_source(sim: ShopSimulator, settings: Settings, fake_time: FakeTime, *, api_version: str = "2026-07",
                **options: Any) -> ShopifySource:
    return ShopifySourceFactory().create(
        shop=shop_record(api_version), credentials=ShopCredentials(token=TOKEN, token_env=None), settings=settings,
        transport=httpx2.ASGITransport(app=sim.asgi_app), clock=fake_time.clock, sleep=fake_time.sleep,
        rng=random.Random(5), now=sim.clock.now, **options,
    )


async def fetch(source: ShopifySource, window: Window = WINDOW, page_size: int = 100) -> list[OrderPage]:
    try:
        return [page async for page in source.fetch_orders(window, page_size=page_size)]
    finally:
        await source.aclose()


def seeded(sim: ShopSimulator, n: int) -> None:
    # full cancels without a refund are left out, as in test_simulated_shop.truth()
    sim.seed(n, seed=21, start=WINDOW.start, end=WINDOW.end - timedelta(seconds=1), full_cancel_rate=0.0)
    sim.seed(30, seed=22, start=WINDOW.end, end=WINDOW.end + timedelta(hours=1))  # outside the window


def truth_of(sim: ShopSimulator, orders: list[Any]) -> dict[str, int]:
    """The ground truth of the lines of ``orders`` (the shop also holds orders outside the window)."""
    lines = {line.source_id for order in orders for line in order.line_items}
    return {line: n for line, n in truth(sim).items() if line in lines}


def without_refund_lines(orders: list[Any]) -> list[Any]:
    """Paged orders as bulk rows carry them: without refund lines."""
    return [o.__class__(**{**{f: getattr(o, f) for f in o.__slots__}, "refund_lines": ()}) for o in orders]


def operations(sim: ShopSimulator) -> list[str | None]:
    assert sim.stats.log is not None
    return [record.operation_name for record in sim.stats.log]


# --- the same orders as paging, the same verdicts as the ground truth ---------------------------------


async def test_a_bulk_window_equals_the_paged_window_and_the_truth(
    sim: ShopSimulator, settings: Settings, fake_time: FakeTime
) -> None:
    seeded(sim, 1200)
    paged = orders_of(await fetch(make_source(sim, settings, fake_time, bulk="never")))
    bulk_pages = await fetch(make_source(sim, settings, fake_time, bulk="always", bulk_page_orders=500))
    bulk = orders_of(bulk_pages)

    assert [len(p.orders) for p in bulk_pages] == [500, 500, 200]
    assert len(bulk) == len(paged) == 1200
    assert canceled_units(bulk) == canceled_units(paged) == truth_of(sim, paged)
    # everything but the refund lines (which bulk rows cannot carry) is the same
    assert snapshot(bulk) == snapshot(without_refund_lines(paged))
    assert operations(sim).count("BulkRun") == 1
    assert next(iter(sim.bulk.operations.values())).root_object_count == 1200
    polls = operations(sim).count("BulkPoll")
    assert polls >= 3  # it took a while (objects / BULK_SPEED seconds on the fake clock) and was polled
    # the count (from API 2026-01: is the window worth several queries?), run, polls, the download
    assert sum(p.stats.requests for p in bulk_pages) == 1 + 1 + polls + 1


async def test_whole_order_cancels_in_bulk_match_the_truth(
    sim: ShopSimulator, settings: Settings, fake_time: FakeTime
) -> None:
    sim.seed(300, seed=4, start=WINDOW.start, end=WINDOW.end - timedelta(seconds=1), full_cancel_rate=0.2)
    orders = orders_of(await fetch(make_source(sim, settings, fake_time, bulk="always")))
    expected = {line: n for line, n in sim.truth().canceled_units.items() if n}
    assert {o.source_id for o in orders if o.cancelled_at} == sim.truth().canceled_orders
    assert canceled_units(orders) == expected


async def test_an_empty_window_in_bulk_yields_one_empty_page(
    sim: ShopSimulator, settings: Settings, fake_time: FakeTime
) -> None:
    pages = await fetch(make_source(sim, settings, fake_time, bulk="always"))
    assert [len(p.orders) for p in pages] == [0]
    assert pages[0].stats.requests >= 2


# --- when to use it ------------------------------------------------------------------------------------


async def test_auto_uses_bulk_only_above_the_threshold(
    sim: ShopSimulator, settings: Settings, fake_time: FakeTime
) -> None:
    seeded(sim, 150)
    small = orders_of(await fetch(make_source(sim, settings, fake_time, bulk_threshold=150)))
    assert "BulkRun" not in operations(sim) and operations(sim)[0] == "OrdersWindowCounted"
    big = orders_of(await fetch(make_source(sim, settings, fake_time, bulk_threshold=149)))
    assert operations(sim).count("BulkRun") == 1
    # the bucket never ran short, so paging finished before the bulk query and canceled it
    assert operations(sim)[-1] == "BulkCancel"
    assert len(big) == len(small) == 150
    assert canceled_units(big) == canceled_units(small) == truth_of(sim, small)


async def test_a_big_window_is_paged_until_its_bulk_query_is_done_and_the_rest_read_from_it(
    settings: Settings, fake_time: FakeTime
) -> None:
    # A small bucket makes paging wait for refills (on the fake clock), long enough for the bulk
    # query to finish while the window is still being paged.
    sim = ShopSimulator(shop_domain=DOMAIN, access_token=TOKEN, clock=SimClock(T0, frozen=True),
                        time_source=fake_time.clock, bulk_objects_per_second=BULK_SPEED, bucket=(500.0, 20.0),
                        record_requests=True)
    seeded(sim, 1200)
    pages = await fetch(make_source(sim, settings, fake_time, bulk_threshold=500, bulk_page_orders=300))
    orders = orders_of(pages)
    log = operations(sim)

    assert log.count("BulkRun") == 1 and "BulkCancel" not in log
    paged = log.count("OrdersWindow") + 1  # and the first page, which counted the window
    assert 2 <= paged < 12  # paging stopped part way (1,200 orders are 12 pages)
    assert log.index("BulkRun") == log.count("OrdersWindowCounted")  # right after the first page (whose
    # first try the small bucket could not hold)
    ids = [o.source_id for o in orders]
    assert set(ids) == {o.source_id for o in orders_of(await fetch(make_source(sim, settings, fake_time,
                                                                               bulk="never")))}
    assert len(ids) - len(set(ids)) < 10  # only orders of the second paging stopped at come twice
    assert canceled_units(orders) == truth_of(sim, orders)
    assert sum(p.stats.requests for p in pages) == len(log) + 1  # every request counted, and the download


def test_the_default_threshold_follows_the_plan() -> None:
    assert default_bulk_threshold(100.0) == BULK_THRESHOLDS[100.0]
    assert default_bulk_threshold(1000.0) == BULK_THRESHOLDS[1000.0]
    assert default_bulk_threshold(500.0) == BULK_THRESHOLDS[200.0]  # between presets: the slower one
    assert default_bulk_threshold(None) == BULK_THRESHOLDS[100.0]
    assert sorted(BULK_THRESHOLDS.values()) == list(BULK_THRESHOLDS.values())  # faster plans page more


async def test_the_threshold_setting_replaces_the_plans_default(
    sim: ShopSimulator, fake_time: FakeTime, tmp_path: Path
) -> None:
    seeded(sim, 40)
    settings = Settings(data_dir=tmp_path / "data", plugins={"shopify": {"bulk_threshold_orders": 10}})
    await fetch(make_source(sim, settings, fake_time))
    assert operations(sim).count("BulkRun") == 1


# --- failures ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["FAILED", "CANCELED", "EXPIRED"])
async def test_a_bulk_operation_that_does_not_complete_is_paged_instead(
    sim: ShopSimulator, settings: Settings, fake_time: FakeTime, status: str
) -> None:
    seeded(sim, 260)
    sim.bulk.end_next(status, error_code="INTERNAL_SERVER_ERROR" if status == "FAILED" else None)
    orders = orders_of(await fetch(make_source(sim, settings, fake_time, bulk="always")))
    assert len(orders) == 260
    assert canceled_units(orders) == truth_of(sim, orders)
    assert operations(sim).count("OrdersWindow") == 3  # the whole window, paged


async def test_partial_data_is_used_and_paging_resumes_after_it(
    sim: ShopSimulator, settings: Settings, fake_time: FakeTime
) -> None:
    """Before API 2026-01 results are grouped: the partial data's complete orders are kept."""
    seeded(sim, 600)
    sim.bulk.end_next("FAILED", error_code="TIMEOUT", partial_rows=900)  # about 300 orders, the last cut
    pages = await fetch(make_source(sim, settings, fake_time, api_version="2025-10", bulk="always",
                                    bulk_page_orders=100))
    orders = orders_of(pages)
    assert len(orders) >= 600  # the orders of the last second read in bulk come again from paging
    paged_requests = operations(sim).count("OrdersWindow")
    assert 0 < paged_requests < 6  # only the rest of the window was paged (600 orders need 6 pages)
    assert {o.source_id for o in orders} == {o.source_id for o in orders_of(
        await fetch(make_source(sim, settings, fake_time, bulk="never")))}
    assert canceled_units(orders) == truth_of(sim, orders)


async def test_ungrouped_partial_data_is_not_trusted_and_the_window_is_paged(
    sim: ShopSimulator, settings: Settings, fake_time: FakeTime
) -> None:
    """From 2026-01 a child row may come after the cut: no order of the partial data is known
    complete, so paging reads the whole window."""
    seeded(sim, 600)
    sim.bulk.end_next("FAILED", error_code="TIMEOUT", partial_rows=900)
    orders = orders_of(await fetch(make_source(sim, settings, fake_time, bulk="always", bulk_page_orders=100)))
    assert len(orders) == 600
    assert operations(sim).count("OrdersWindow") == 6
    assert canceled_units(orders) == truth_of(sim, orders)


@pytest.mark.parametrize(("version", "grouped"), [("2025-10", True), ("2026-07", False)])
async def test_ungrouped_bulk_rows_are_assembled_wherever_a_child_arrives(
    sim: ShopSimulator, settings: Settings, fake_time: FakeTime, version: str, grouped: bool
) -> None:
    seeded(sim, 260)
    orders = orders_of(await fetch(make_source(sim, settings, fake_time, api_version=version, bulk="always",
                                               bulk_page_orders=40)))
    [operation] = sim.bulk.operations.values()
    assert operation.grouped is grouped  # groupObjects as sent
    rows = [orjson.loads(line) for chunk in sim.bulk.jsonl(operation) for line in chunk.splitlines()]
    parents = [row.get("__parentId") for row in rows]
    adjacent = all(parent is None or parent in (rows[n - 1].get("id"), parents[n - 1])
                   for n, parent in enumerate(parents) if n)
    assert adjacent is grouped  # the simulator really wrote children away from their parents
    assert len(orders) == 260
    assert all(order.line_items for order in orders)
    paged = orders_of(await fetch(make_source(sim, settings, fake_time, bulk="never")))
    assert snapshot(orders) == snapshot(without_refund_lines(paged))
    assert canceled_units(orders) == truth_of(sim, orders)


async def test_access_denied_fails_the_run(sim: ShopSimulator, settings: Settings, fake_time: FakeTime) -> None:
    seeded(sim, 20)
    sim.bulk.end_next("FAILED", error_code="ACCESS_DENIED")
    with pytest.raises(SourceAuthError, match="ACCESS_DENIED"):
        await fetch(make_source(sim, settings, fake_time, bulk="always"))


async def test_a_running_bulk_query_is_waited_for(sim: ShopSimulator, settings: Settings, fake_time: FakeTime) -> None:
    seeded(sim, 200)
    other = await _start_other_bulk_query(sim)
    orders = orders_of(await fetch(make_source(sim, settings, fake_time, api_version="2025-10", bulk="always")))
    assert sim.bulk.status(other) == "COMPLETED"
    assert operations(sim).count("BulkRun") >= 2  # refused while the other ran, then accepted
    assert len(sim.bulk.operations) == 2
    assert canceled_units(orders) == truth_of(sim, orders)


async def test_a_bulk_query_that_stays_busy_falls_back_to_paging(
    sim: ShopSimulator, settings: Settings, fake_time: FakeTime
) -> None:
    seeded(sim, 200)
    await _start_other_bulk_query(sim)
    orders = orders_of(await fetch(make_source(sim, settings, fake_time, api_version="2025-10", bulk="always",
                                               bulk_busy_wait=0)))
    assert len(sim.bulk.operations) == 1  # ours was never created
    assert operations(sim).count("OrdersWindow") == 2
    assert canceled_units(orders) == truth_of(sim, orders)


async def _start_other_bulk_query(sim: ShopSimulator) -> Any:
    """Another app process's bulk query over every order (2025-10: one per shop at a time)."""
    text = bulk_query_text(Window(T0 - timedelta(days=30), T0 + timedelta(days=1)))
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=sim.asgi_app)) as http:
        reply = await http.post(sim.graphql_url("2025-10"), headers={"X-Shopify-Access-Token": TOKEN},
                                json={"query": "mutation($q: String!) { bulkOperationRunQuery(query: $q, "
                                               "groupObjects: true) { bulkOperation { id } userErrors { message } } }",
                                      "variables": {"q": text}})
    assert reply.json()["data"]["bulkOperationRunQuery"]["userErrors"] == []
    other = next(iter(sim.bulk.operations.values()))
    assert sim.bulk.status(other) == "RUNNING"
    return other


# --- the result URL ----------------------------------------------------------------------------------


def test_the_result_url_is_moved_onto_a_configured_base_url(sim: ShopSimulator, settings: Settings,
                                                             fake_time: FakeTime) -> None:
    shop = shop_record().__class__(**{**{f: getattr(shop_record(), f) for f in shop_record().__slots__},
                                      "url": "http://127.0.0.1:8123"})
    proxied = ShopifySourceFactory().create(shop=shop, credentials=ShopCredentials(token=TOKEN, token_env=None),
                                            settings=settings).client
    direct = make_source(sim, settings, fake_time).client
    simulated = f"https://{DOMAIN}/bulk/7.jsonl"
    storage = "https://storage.googleapis.com/shopify-tiers-assets-prod-us-east1/bulk-op.jsonl?X-Goog-Signature=abc"
    assert result_url(proxied, simulated) == "http://127.0.0.1:8123/bulk/7.jsonl"
    assert result_url(proxied, storage) == storage  # Shopify's storage host is never rewritten
    assert result_url(direct, simulated) == simulated


# --- constant memory ---------------------------------------------------------------------------------


@pytest.fixture
def served_sim() -> Iterator[tuple[ShopSimulator, str]]:
    sim = ShopSimulator(shop_domain=DOMAIN, access_token=TOKEN, clock=SimClock(T0, frozen=True))
    with serving(sim.asgi_app) as url:
        yield sim, url


async def test_memory_stays_flat_however_big_the_window(served_sim: tuple[ShopSimulator, str], tmp_path: Path) -> None:
    sim, url = served_sim
    shop = shop_record().__class__(**{**{f: getattr(shop_record(), f) for f in shop_record().__slots__}, "url": url})
    settings = Settings(data_dir=tmp_path / "data", plugins={"shopify": {"http_timeout_seconds": 10}})

    async def peak_while_reading(window: Window) -> tuple[int, int]:
        source = ShopifySourceFactory().create(shop=shop, credentials=ShopCredentials(token=TOKEN, token_env=None),
                                               settings=settings, bulk="always", bulk_page_orders=250, now=sim.clock.now)
        seen = 0
        tracemalloc.start()
        try:
            async for page in source.fetch_orders(window):
                seen += len(page.orders)  # consumed and dropped, as the engine stores and drops pages
            return seen, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
            await source.aclose()

    small_window = Window(T0 - timedelta(days=3), T0 - timedelta(days=2))
    big_window = Window(T0 - timedelta(days=2), T0)
    sim.seed(1_000, seed=1, start=small_window.start, end=small_window.end - timedelta(seconds=1))
    sim.seed(8_000, seed=2, start=big_window.start, end=big_window.end - timedelta(seconds=1))
    # warm-up: imports, connection set-up and the simulator's own caches (its timestamp cache
    # lives in this process too and would otherwise grow while the big window renders)
    await peak_while_reading(small_window)
    await peak_while_reading(big_window)
    small, small_peak = await peak_while_reading(small_window)
    big, big_peak = await peak_while_reading(big_window)

    assert (small, big) == (1_000, 8_000)
    # Holding the 7,000 extra orders would take several megabytes (about 2 KB each); the peak
    # may grow only by the simulator's bookkeeping of the larger operation (its order ids).
    assert big_peak - small_peak < 1_500_000, (small_peak, big_peak)


async def test_a_big_window_pages_on_while_another_bulk_query_holds_the_shop(
    sim: ShopSimulator, settings: Settings, fake_time: FakeTime
) -> None:
    seeded(sim, 300)
    await _start_other_bulk_query(sim)
    before = fake_time.now
    orders = orders_of(await fetch(make_source(sim, settings, fake_time, api_version="2025-10", bulk_threshold=100)))
    log = operations(sim)
    assert fake_time.now - before < 1  # no waiting for the other query: paging went on
    assert log.count("BulkRun") == 3  # tried again after every page (of 3), refused every time
    assert len(sim.bulk.operations) == 1
    assert len(orders) == 300 and canceled_units(orders) == truth_of(sim, orders)
