"""Weather a shop meets every week: random throttle storms, a temporarily lowered restore rate,
several callers sharing one bucket, and replies that hang until released."""

from __future__ import annotations

import asyncio
import time

import httpx2
import pytest

from plugins.shopify.simulator import FaultConfig, ShopSimulator
from plugins.shopify.simulator.bucket import LeakyBucket

from .helpers import ManualTime, client_for, gql, post

QUERY = "{ shop { name } }"


async def replies(client: httpx2.AsyncClient, count: int) -> list[str]:
    codes = []
    for _ in range(count):
        body = (await post(client, QUERY)).json()
        codes.append(body["errors"][0]["extensions"]["code"] if "errors" in body else "ok")
    return codes


def storms(codes: list[str]) -> list[int]:
    """Lengths of the runs of consecutive THROTTLED replies."""
    lengths, current = [], 0
    for code in codes + ["ok"]:
        if code == "THROTTLED":
            current += 1
        elif current:
            lengths.append(current)
            current = 0
    return lengths


# --- random throttle storms -----------------------------------------------------------------

async def test_a_random_storm_is_a_run_of_consecutive_throttled_replies(
    sim: ShopSimulator, client: httpx2.AsyncClient
) -> None:
    sim.faults = FaultConfig(storm_rate=0.03, storm_length=20, seed=4)
    codes = await replies(client, 600)
    while codes[-1] == "THROTTLED":  # let a storm under way at the end finish
        codes += await replies(client, 1)
    lengths = storms(codes)
    assert lengths, "600 requests at 3 % start at least one storm"
    assert all(length % 20 == 0 for length in lengths)  # back-to-back storms merge, never split
    assert sum(lengths) == 20 * sim.fault_injector.storms_started
    assert sim.stats.faults == {"throttle_storm": sum(lengths)} and sim.stats.throttled == sum(lengths)


async def test_storm_replies_say_the_bucket_is_empty_whatever_it_holds(
    sim: ShopSimulator, client: httpx2.AsyncClient
) -> None:
    sim.faults = FaultConfig(storm_rate=1.0, storm_length=3)
    body = (await post(client, QUERY)).json()
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 0
    assert sim.bucket.available() == 2000.0  # nothing was charged


async def test_random_storms_are_reproducible_from_the_seed(sim: ShopSimulator, client: httpx2.AsyncClient) -> None:
    sim.faults = FaultConfig(storm_rate=0.05, storm_length=5, seed=11)
    first = await replies(client, 300)
    sim.faults = FaultConfig(storm_rate=0.05, storm_length=5, seed=11)
    again = await replies(client, 300)
    sim.faults = FaultConfig(storm_rate=0.05, storm_length=5, seed=12)
    other = await replies(client, 300)
    assert first == again
    assert first != other


def test_storms_leave_the_other_random_faults_as_they_were() -> None:
    from plugins.shopify.simulator.faults import FaultInjector

    stormy = FaultInjector(FaultConfig(rate_5xx=0.2, storm_rate=0.1, storm_length=4, seed=3))
    decisions = [stormy.decide(n) for n in range(1, 300)]
    outside_storms = [f for f in decisions if f is None or f.kind != "throttle_storm"]
    assert len(outside_storms) < len(decisions)
    plain = FaultInjector(FaultConfig(rate_5xx=0.2, seed=3))
    # The requests outside storms draw the same 5xx sequence as a shop without storms.
    assert outside_storms == [plain.decide(n) for n in range(1, len(outside_storms) + 1)]


async def test_the_fixed_storm_range_still_works_next_to_random_storms(
    sim: ShopSimulator, client: httpx2.AsyncClient
) -> None:
    sim.faults = FaultConfig(throttle_storm=(2, 4))
    assert await replies(client, 5) == ["ok", "THROTTLED", "THROTTLED", "ok", "ok"]


@pytest.mark.parametrize("config", [{"storm_rate": -0.1}, {"storm_rate": 1.5}, {"storm_length": 0},
                                    {"throttle_storm": (0, 3)}, {"throttle_storm": (5, 2)}])
def test_bad_storm_settings_are_refused(config: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        FaultConfig(**config)  # type: ignore[arg-type]


# --- a temporarily lowered restore rate -----------------------------------------------------

def test_a_lowered_restore_rate_refills_slower_for_its_duration_only() -> None:
    time_source = ManualTime()
    bucket = LeakyBucket(2000, 100, time_source)
    assert bucket.try_reserve(2000)
    bucket.lower_restore_rate(0.25, seconds=10)
    assert bucket.current_restore_rate == 25.0 and bucket.status().restore_rate == 25.0
    time_source.advance(4)
    assert bucket.available() == pytest.approx(100)  # 4 s x 25
    time_source.advance(10)  # 6 s more at 25, then 4 s at the plan's 100
    assert bucket.available() == pytest.approx(100 + 150 + 400)
    assert bucket.current_restore_rate == 100.0


def test_a_reduction_can_start_later() -> None:
    time_source = ManualTime()
    bucket = LeakyBucket(2000, 100, time_source)
    assert bucket.try_reserve(2000)
    bucket.lower_restore_rate(0.5, seconds=10, starting_in=5)
    assert bucket.current_restore_rate == 100.0
    time_source.advance(10)  # 5 s at 100, 5 s at 50
    assert bucket.available() == pytest.approx(750)
    assert bucket.current_restore_rate == 50.0


async def test_throttle_status_reports_the_lowered_rate(
    sim: ShopSimulator, client: httpx2.AsyncClient, manual_time: ManualTime
) -> None:
    sim.lower_restore_rate(0.25, seconds=60)
    body = await gql(client, QUERY)
    assert body["extensions"]["cost"]["throttleStatus"]["restoreRate"] == 25.0
    manual_time.advance(61)
    body = await gql(client, QUERY)
    assert body["extensions"]["cost"]["throttleStatus"]["restoreRate"] == 100.0


@pytest.mark.parametrize(("factor", "seconds", "starting_in"), [(0, 10, 0), (1.5, 10, 0), (0.5, 0, 0), (0.5, 5, -1)])
def test_bad_reductions_are_refused(factor: float, seconds: float, starting_in: float) -> None:
    bucket = LeakyBucket(2000, 100)
    with pytest.raises(ValueError):
        bucket.lower_restore_rate(factor, seconds, starting_in=starting_in)
    assert bucket.current_restore_rate == 100.0


# --- stalled and slowed replies -------------------------------------------------------------

async def test_a_stalled_shop_holds_replies_until_released(sim: ShopSimulator, client: httpx2.AsyncClient) -> None:
    sim.stall()
    pending = asyncio.ensure_future(post(client, QUERY))
    await asyncio.sleep(0.2)
    assert not pending.done() and sim.replies.held == 1
    assert sim.bucket.available() == 2000.0  # held before it was charged
    sim.release()
    response = await asyncio.wait_for(pending, timeout=5)
    assert response.status_code == 200 and sim.replies.held == 0


async def test_the_reply_delay_can_change_while_serving(sim: ShopSimulator, client: httpx2.AsyncClient) -> None:
    sim.replies.delay = 0.3
    started = time.monotonic()
    await gql(client, QUERY)
    assert time.monotonic() - started >= 0.3
    sim.replies.delay = 0.0
    started = time.monotonic()
    await gql(client, QUERY)
    assert time.monotonic() - started < 0.3


def test_a_stall_holds_requests_served_on_another_thread() -> None:
    from ..servers import serving

    sim = ShopSimulator()
    with serving(sim.asgi_app) as url:
        sim.stall()
        result: list[int] = []

        def call() -> None:
            response = httpx2.post(f"{url}/admin/api/2026-07/graphql.json", json={"query": QUERY},
                                   headers={"X-Shopify-Access-Token": "shpat_sim"}, timeout=10)
            result.append(response.status_code)

        import threading

        caller = threading.Thread(target=call)
        caller.start()
        assert sim.replies.wait_held(1, timeout=5)
        time.sleep(0.2)
        assert result == []
        sim.release()
        caller.join(timeout=10)
        assert result == [200]


# --- one simulated shop, many callers -------------------------------------------------------

async def test_every_client_of_one_simulated_shop_drains_the_same_bucket(manual_time: ManualTime) -> None:
    sim = ShopSimulator(bucket=(100, 1), time_source=manual_time)
    async with client_for(sim) as first, client_for(sim) as second:
        for _ in range(50):
            await gql(first, QUERY)
            await gql(second, QUERY)
        assert sim.bucket.available() == pytest.approx(0)
        assert (await post(first, QUERY)).json()["errors"][0]["extensions"]["code"] == "THROTTLED"
        assert (await post(second, QUERY)).json()["errors"][0]["extensions"]["code"] == "THROTTLED"
