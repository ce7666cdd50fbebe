"""Injected faults: each one is observable the way a real connection to Shopify shows it."""

from __future__ import annotations

import asyncio
import json
import time

import httpx2
import pytest

from plugins.shopify.simulator import FaultConfig, ShopSimulator, SimulatedConnectionDrop

from .helpers import ManualTime, client_for, gql, post

QUERY = "{ shop { name } }"


async def test_faults_are_off_by_default(sim: ShopSimulator, client: httpx2.AsyncClient) -> None:
    for _ in range(20):
        await gql(client, QUERY)
    assert sim.stats.errors_injected == 0


@pytest.mark.parametrize(
    ("status", "body_start"),
    [(500, '{"errors":"Internal Server Error"}'), (502, "<!DOCTYPE html>"), (503, '{"errors":"Service Unavailable"}')],
)
async def test_5xx(sim: ShopSimulator, client: httpx2.AsyncClient, status: int, body_start: str) -> None:
    for seed in range(50):  # find a seed whose first draw picks this status
        sim.faults = FaultConfig(rate_5xx=1.0, seed=seed)
        response = await post(client, QUERY)
        if response.status_code == status:
            assert response.text.startswith(body_start)
            assert sim.bucket.available() == 2000.0  # nothing was executed or charged
            return
    pytest.fail(f"no seed produced {status}")


async def test_429_has_retry_after_and_no_call_limit_header(sim: ShopSimulator, client: httpx2.AsyncClient) -> None:
    sim.faults = FaultConfig(rate_429=1.0)
    response = await post(client, QUERY)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2.0"
    assert "X-Shopify-Shop-Api-Call-Limit" not in response.headers
    assert response.json()["errors"].startswith("Exceeded 2 calls per second")
    assert sim.stats.faults == {"429": 1} and sim.stats.errors_injected == 1


async def test_slow_replies_outlast_a_client_timeout(sim: ShopSimulator, client: httpx2.AsyncClient) -> None:
    sim.faults = FaultConfig(rate_slow=1.0, slow_seconds=0.3)
    # ASGITransport applies no timeouts: in-process callers bound the call themselves.
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(post(client, QUERY), timeout=0.05)
    started = time.monotonic()
    response = await post(client, QUERY)
    assert response.status_code == 200 and time.monotonic() - started >= 0.3


async def test_drop_is_a_transport_error(sim: ShopSimulator, client: httpx2.AsyncClient) -> None:
    sim.faults = FaultConfig(rate_drop=1.0)
    with pytest.raises(httpx2.TransportError) as caught:
        await post(client, QUERY)
    assert isinstance(caught.value, httpx2.RemoteProtocolError)
    assert isinstance(caught.value, SimulatedConnectionDrop)
    assert sim.stats.faults == {"drop": 1}


async def test_truncated_json_is_a_decode_error_after_a_charge(sim: ShopSimulator, client: httpx2.AsyncClient) -> None:
    sim.faults = FaultConfig(rate_truncated=1.0)
    response = await post(client, QUERY)
    assert response.status_code == 200
    assert int(response.headers["content-length"]) == len(response.content)
    with pytest.raises(json.JSONDecodeError):
        response.json()
    assert sim.bucket.available() == 1999.0  # the query ran (cost 1) before the reply was cut


async def test_throttle_storm_for_a_range_of_requests(sim: ShopSimulator, client: httpx2.AsyncClient) -> None:
    sim.faults = FaultConfig(throttle_storm=(2, 4))
    codes = []
    for _ in range(5):
        body = (await post(client, QUERY)).json()
        if "errors" in body:
            assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
            assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 0
            codes.append("THROTTLED")
        else:
            codes.append("ok")
    assert codes == ["ok", "THROTTLED", "THROTTLED", "ok", "ok"]
    assert sim.stats.throttled == 2 and sim.stats.faults == {"throttle_storm": 2}


async def test_fail_after_n_requests(sim: ShopSimulator, client: httpx2.AsyncClient) -> None:
    sim.faults = FaultConfig(fail_after_requests=3)
    statuses = [(await post(client, QUERY)).status_code for _ in range(6)]
    assert statuses == [200, 200, 200, 500, 500, 500]
    assert sim.stats.errors_injected == 3


async def test_random_faults_are_reproducible(manual_time: ManualTime) -> None:
    async def run() -> list[int]:
        sim = ShopSimulator(time_source=manual_time, bucket=(1e6, 1e6))
        sim.faults = FaultConfig(rate_5xx=0.2, rate_429=0.2, seed=42)
        async with client_for(sim) as http:
            return [(await post(http, QUERY)).status_code for _ in range(40)]

    first, second = await run(), await run()
    assert first == second
    assert {200, 429} <= set(first) and set(first) & {500, 502, 503}


async def test_faults_can_be_switched_off_again(sim: ShopSimulator, client: httpx2.AsyncClient) -> None:
    sim.faults = FaultConfig(rate_5xx=1.0)
    assert (await post(client, QUERY)).status_code >= 500
    sim.faults = FaultConfig()
    assert (await post(client, QUERY)).status_code == 200


def test_fault_rates_are_checked() -> None:
    with pytest.raises(ValueError):
        FaultConfig(rate_5xx=0.8, rate_429=0.5)
