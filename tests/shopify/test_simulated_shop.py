"""The source against the Shopify simulator, in process (``httpx2.ASGITransport``).

The simulator's bucket refills on the same fake clock the source sleeps on, so throttling and
backoff cost no real time; only the "slow" fault needs a real (short) timeout.
"""

from __future__ import annotations

import logging
import random
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest

from core import (
    ConfigurationError,
    OrderPage,
    Settings,
    Shop,
    ShopCredentials,
    SourceAuthError,
    SourceOrder,
    SourceUnavailable,
    Window,
    judge_order,
)
from plugins.shopify.simulator import FaultConfig, ShopSimulator, SimClock
from plugins.shopify.settings import shopify_settings
from plugins.shopify.source import ShopifySource, ShopifySourceFactory

from .conftest import TOKEN
from .fakes import FakeTime

T0 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
DOMAIN = "demo-shop.myshopify.com"
WINDOW = Window(T0 - timedelta(hours=6), T0)


@pytest.fixture
def sim(fake_time: FakeTime) -> ShopSimulator:
    return ShopSimulator(
        shop_domain=DOMAIN,
        access_token=TOKEN,
        clock=SimClock(T0, frozen=True),
        time_source=fake_time.clock,
        record_requests=True,
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", plugins={"shopify": {"max_attempts": 6, "http_timeout_seconds": 0.5}})


def shop_record(api_version: str = "2026-07") -> Shop:
    return Shop(id=1, name="demo", source="shopify", url=DOMAIN, api_version=api_version, has_token=True,
                token_env=None, created_at=T0)


def make_source(sim: ShopSimulator, settings: Settings, fake_time: FakeTime, *, token: str = TOKEN,
                api_version: str = "2026-07", **options: Any) -> ShopifySource:
    return ShopifySourceFactory().create(
        shop=shop_record(api_version),
        credentials=ShopCredentials(token=token, token_env=None),
        settings=settings,
        transport=httpx2.ASGITransport(app=sim.asgi_app),
        clock=fake_time.clock,
        sleep=fake_time.sleep,
        rng=random.Random(3),
        now=sim.clock.now,
        **options,
    )


async def fetch(source: ShopifySource, window: Window = WINDOW, page_size: int = 100) -> list[OrderPage]:
    try:
        return [page async for page in source.fetch_orders(window, page_size=page_size)]
    finally:
        await source.aclose()


def orders_of(pages: list[OrderPage]) -> list[SourceOrder]:
    return [order for page in pages for order in page.orders]


def canceled_units(orders: list[SourceOrder]) -> dict[str, int]:
    return {item.line_source_id: item.canceled_target
            for order in orders for item in judge_order(order).items if item.canceled_target}


def truth(sim: ShopSimulator) -> dict[str, int]:
    """Units removed before fulfilment, per line, as the simulator recorded them.

    For a whole-order cancel *without* a refund the simulator keeps the still-open units apart
    (``open_units_at_cancel``) while core's rule counts them as canceled, so the tests that compare
    with this seed no such cancels (``full_cancel_rate=0``) and tell their own cancel stories.
    """
    return {line: units for line, units in sim.truth().canceled_units.items() if units}


def seeded(sim: ShopSimulator, n: int = 230, **options: Any) -> list[str]:
    return sim.seed(n, seed=11, start=WINDOW.start, end=WINDOW.end - timedelta(seconds=1), **options)


def operations(sim: ShopSimulator) -> list[str | None]:
    assert sim.stats.log is not None
    return [record.operation_name for record in sim.stats.log]


# --- paging ----------------------------------------------------------------------------------------


async def test_every_order_of_the_window_exactly_once(sim: ShopSimulator, settings: Settings, fake_time: FakeTime) -> None:
    inside = seeded(sim, 230, full_cancel_rate=0.0)
    sim.seed(20, seed=12, start=WINDOW.start - timedelta(hours=3), end=WINDOW.start - timedelta(seconds=1))
    sim.seed(20, seed=13, start=WINDOW.end, end=WINDOW.end + timedelta(hours=1))

    # One cursor chain (the overlapped slices have their own tests, tests/shopify/test_slices.py).
    pages = await fetch(make_source(sim, settings, fake_time, slices_in_flight=1), page_size=100)

    ids = [order.source_id for order in orders_of(pages)]
    assert len(ids) == len(set(ids)) == 230
    assert set(ids) == set(inside)
    assert [len(page.orders) for page in pages] == [100, 100, 30]
    assert all(WINDOW.start <= order.updated_at < WINDOW.end for order in orders_of(pages))
    updated = [order.updated_at for order in orders_of(pages)]
    assert updated == sorted(updated)  # sortKey UPDATED_AT
    lines = {line.source_id for order in orders_of(pages) for line in order.line_items}
    assert canceled_units(orders_of(pages)) == {line: n for line, n in truth(sim).items() if line in lines}


async def test_window_bounds_are_half_open(sim: ShopSimulator, settings: Settings, fake_time: FakeTime) -> None:
    at_start = sim.create_order(lines=[("SKU-1", 1)], created_at=WINDOW.start)
    at_end = sim.create_order(lines=[("SKU-1", 1)], created_at=WINDOW.end)
    before = sim.create_order(lines=[("SKU-1", 1)], created_at=WINDOW.start - timedelta(seconds=1))
    last = sim.create_order(lines=[("SKU-1", 1)], created_at=WINDOW.end - timedelta(seconds=1))

    ids = {o.source_id for o in orders_of(await fetch(make_source(sim, settings, fake_time)))}

    assert ids == {at_start, last}
    assert at_end not in ids and before not in ids


async def test_page_size_250_and_stats(sim: ShopSimulator, settings: Settings, fake_time: FakeTime) -> None:
    seeded(sim, 260)
    pages = await fetch(make_source(sim, settings, fake_time), page_size=250)
    assert [len(p.orders) for p in pages] == [250, 10]
    first = pages[0].stats
    assert first.requests >= 1 and first.requested_cost >= 849 and 0 < first.actual_cost < first.requested_cost
    assert sum(p.stats.requests for p in pages) == sim.stats.requests
    assert sim.stats.max_cost_exceeded == 0


# --- nested completion -------------------------------------------------------------------------------


async def test_large_orders_come_back_complete(sim: ShopSimulator, settings: Settings, fake_time: FakeTime) -> None:
    sim.clock.set(WINDOW.start + timedelta(minutes=5))
    many_lines = sim.create_order(lines=[(f"SKU-{i % 9}", 2) for i in range(320)])
    lines = sim.line_item_ids(many_lines)
    sim.fulfil(many_lines, {line: 1 for line in lines[:40]})
    sim.cancel_order(many_lines, reason="INVENTORY", refund=True)  # one refund with ~320 lines

    many_refunds = sim.create_order(lines=[("SKU-1", 20), ("SKU-2", 20)])
    one, two = sim.line_item_ids(many_refunds)
    for _ in range(12):  # twelve refunds: more than the page query's refunds(first:)
        sim.cancel_units(many_refunds, one, 1)
    sim.cancel_units(many_refunds, two, 3, restock_type="NO_RESTOCK")
    seeded(sim, 30, full_cancel_rate=0.0)

    orders = {o.source_id: o for o in orders_of(await fetch(make_source(sim, settings, fake_time)))}

    big = orders[many_lines]
    assert len(big.line_items) == 320
    assert len({line.source_id for line in big.line_items}) == 320
    assert len(big.refund_lines) == 320 and len({r.refund_id for r in big.refund_lines}) == 1
    assert big.cancelled_at is not None
    refunded = orders[many_refunds]
    assert len({r.refund_id for r in refunded.refund_lines}) == 13
    assert canceled_units(list(orders.values())) == truth(sim)
    assert {"OrderLineItems", "RefundLineItems", "OrderRefunds"} <= set(operations(sim))


async def test_seeded_large_orders_match_the_ground_truth(sim: ShopSimulator, settings: Settings, fake_time: FakeTime) -> None:
    seeded(sim, 150, large_order_rate=0.1, full_cancel_rate=0.0)
    orders = orders_of(await fetch(make_source(sim, settings, fake_time)))
    assert len(orders) == 150
    assert canceled_units(orders) == truth(sim)


async def test_whole_order_cancel_without_refund(sim: ShopSimulator, settings: Settings, fake_time: FakeTime) -> None:
    sim.clock.set(WINDOW.start + timedelta(minutes=1))
    order = sim.create_order(lines=[("SKU-1", 3), ("SKU-2", 2)])
    first, second = sim.line_item_ids(order)
    sim.fulfil(order, {first: 1})
    sim.cancel_order(order, reason="FRAUD", refund=False)
    (fetched,) = orders_of(await fetch(make_source(sim, settings, fake_time)))
    assert fetched.cancel_reason == "FRAUD" and fetched.refund_lines == ()
    assert canceled_units([fetched]) == sim.truth().open_units_at_cancel == {first: 2, second: 2}


async def test_fetch_order_returns_it_complete_or_nothing(sim: ShopSimulator, settings: Settings, fake_time: FakeTime) -> None:
    order = sim.create_order(lines=[(f"SKU-{i % 9}", 1) for i in range(270)])
    sim.cancel_order(order, refund=True)
    source = make_source(sim, settings, fake_time)
    page = await source.fetch_order(order)
    gone = await source.fetch_order("gid://shopify/Order/999999999999")
    await source.aclose()
    (fetched,) = page.orders
    assert len(fetched.line_items) == 270 and len(fetched.refund_lines) == 270
    assert gone.orders == ()
    assert page.stats.requests >= 2


# --- throttling and faults ----------------------------------------------------------------------------


async def fault_free_result(settings: Settings, fake_time: FakeTime) -> dict[str, Any]:
    reference = ShopSimulator(shop_domain=DOMAIN, access_token=TOKEN, clock=SimClock(T0, frozen=True),
                              time_source=fake_time.clock)
    seeded(reference, 230, large_order_rate=0.05)
    return snapshot(orders_of(await fetch(make_source(reference, settings, fake_time))))


def snapshot(orders: list[SourceOrder]) -> dict[str, Any]:
    return {order.source_id: order for order in orders}


async def test_tiny_bucket_paces_instead_of_failing(sim: ShopSimulator, settings: Settings, fake_time: FakeTime) -> None:
    expected = await fault_free_result(settings, fake_time)
    tiny = ShopSimulator(shop_domain=DOMAIN, access_token=TOKEN, clock=SimClock(T0, frozen=True),
                         time_source=fake_time.clock, bucket=(400.0, 20.0), record_requests=True)
    seeded(tiny, 230, large_order_rate=0.05)
    source = make_source(tiny, settings, fake_time)
    pages = await fetch(source)

    assert snapshot(orders_of(pages)) == expected
    assert source.client.pacer.waited > 0  # it waited for the refill ...
    assert tiny.stats.throttled == 1  # ... instead of hammering the bucket (one probe found its size)
    log = tiny.stats.log or []
    assert all((r.requested_cost or 0) <= 400 for r in log if r.outcome == "ok")


async def test_throttle_storm_recovers(sim: ShopSimulator, settings: Settings, fake_time: FakeTime) -> None:
    expected = await fault_free_result(settings, fake_time)
    seeded(sim, 230, large_order_rate=0.05)
    sim.faults = FaultConfig(throttle_storm=(2, 6))
    pages = await fetch(make_source(sim, settings, fake_time))
    assert snapshot(orders_of(pages)) == expected
    assert sum(p.stats.throttled for p in pages) == 4
    assert sim.stats.throttled == 4


@pytest.mark.parametrize(
    "faults",
    [
        FaultConfig(rate_5xx=0.3, seed=1),
        FaultConfig(rate_429=0.3, seed=2),
        FaultConfig(rate_truncated=0.3, seed=3),
        FaultConfig(rate_drop=0.3, seed=4),
        FaultConfig(rate_slow=0.2, slow_seconds=5.0, seed=5),
        FaultConfig(rate_5xx=0.1, rate_429=0.1, rate_truncated=0.1, rate_drop=0.1, seed=6),
    ],
    ids=["5xx", "429", "truncated", "drop", "slow", "mixed"],
)
async def test_faults_are_retried_and_change_nothing(faults: FaultConfig, sim: ShopSimulator, settings: Settings,
                                                     fake_time: FakeTime) -> None:
    expected = await fault_free_result(settings, fake_time)
    seeded(sim, 230, large_order_rate=0.05)
    sim.faults = faults
    settings = settings.model_copy(update={"plugins": {"shopify": {"max_attempts": 8, "http_timeout_seconds": 0.2}}})
    pages = await fetch(make_source(sim, settings, fake_time))
    assert snapshot(orders_of(pages)) == expected
    assert sim.stats.errors_injected > 0
    assert sum(p.stats.retries for p in pages) >= sim.stats.errors_injected


async def test_persistent_failure_names_shop_and_window(sim: ShopSimulator, settings: Settings, fake_time: FakeTime,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    seeded(sim, 230)
    sim.faults = FaultConfig(fail_after_requests=1)  # the first page arrives, then Shopify is down
    source = make_source(sim, settings, fake_time, slices_in_flight=1)  # one chain: its page 2 fails
    pages: list[OrderPage] = []
    with pytest.raises(SourceUnavailable) as caught:
        async for page in source.fetch_orders(WINDOW, page_size=100):
            pages.append(page)
    await source.aclose()
    message = str(caught.value)
    assert len(pages) == 1
    assert DOMAIN in message and "2026-11-02T06:00:00Z" in message and "2026-11-02T12:00:00Z" in message
    assert "page 2" in message and f"{shopify_settings(settings).max_attempts} attempts" in message and "HTTP 500" in message
    assert_secret_kept(caught.value, caplog)


# --- refusals -------------------------------------------------------------------------------------------


async def test_wrong_token_is_an_auth_error(sim: ShopSimulator, settings: Settings, fake_time: FakeTime,
                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "shpat_wrong_0000000000"
    with pytest.raises(SourceAuthError) as caught:
        await fetch(make_source(sim, settings, fake_time, token=wrong))
    assert DOMAIN in str(caught.value) and "read_orders" in str(caught.value)
    assert sim.stats.requests == 1
    text = "".join(traceback.format_exception(caught.value))
    assert wrong not in text and all(wrong not in r.getMessage() for r in caplog.records)


async def test_unsupported_api_version_is_a_configuration_error(sim: ShopSimulator, settings: Settings,
                                                                fake_time: FakeTime) -> None:
    with pytest.raises(ConfigurationError, match="2024-01"):
        await fetch(make_source(sim, settings, fake_time, api_version="2024-01"))
    assert sim.stats.requests == 1


async def test_both_schema_versions_are_served(sim: ShopSimulator, settings: Settings, fake_time: FakeTime) -> None:
    seeded(sim, 20)
    old = orders_of(await fetch(make_source(sim, settings, fake_time, api_version="2025-10")))
    new = orders_of(await fetch(make_source(sim, settings, fake_time, api_version="2026-07")))
    assert snapshot(old) == snapshot(new) and len(old) == 20


@pytest.fixture
def history(fake_time: FakeTime) -> Iterator[dict[str, Any]]:
    """Orders older than 60 days, and a window over them."""

    def build(scopes: tuple[str, ...]) -> ShopSimulator:
        sim = ShopSimulator(shop_domain=DOMAIN, access_token=TOKEN, clock=SimClock(T0, frozen=True),
                            time_source=fake_time.clock, scopes=scopes)
        sim.create_order(lines=[("SKU-1", 2)], created_at=T0 - timedelta(days=70))
        return sim

    yield {"build": build, "window": Window(T0 - timedelta(days=71), T0 - timedelta(days=69))}


async def test_history_beyond_60_days_needs_read_all_orders(history: dict[str, Any], settings: Settings,
                                                           fake_time: FakeTime) -> None:
    sim = history["build"](("read_orders",))
    with pytest.raises(SourceAuthError, match="read_all_orders") as caught:
        await fetch(make_source(sim, settings, fake_time), history["window"])
    assert "60 days" in str(caught.value) and DOMAIN in str(caught.value)

    granted = history["build"](("read_orders", "read_all_orders"))
    orders = orders_of(await fetch(make_source(granted, settings, fake_time), history["window"]))
    assert len(orders) == 1


async def test_faults_and_failures_never_reveal_the_token(sim: ShopSimulator, settings: Settings, fake_time: FakeTime,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    seeded(sim, 120)
    sim.faults = FaultConfig(rate_5xx=0.2, rate_429=0.2, rate_truncated=0.2, rate_drop=0.2, seed=9)
    settings = settings.model_copy(update={"plugins": {"shopify": {"max_attempts": 2}}})
    source = make_source(sim, settings, fake_time)
    assert TOKEN not in repr(source)
    with pytest.raises(SourceUnavailable) as caught:
        await fetch(source)
    assert_secret_kept(caught.value, caplog)


def assert_secret_kept(exc: BaseException, caplog: pytest.LogCaptureFixture) -> None:
    assert TOKEN not in "".join(traceback.format_exception(exc)) + repr(exc)
    assert caplog.records
    for record in caplog.records:
        assert TOKEN not in record.getMessage()
        assert TOKEN not in repr(record.args)
