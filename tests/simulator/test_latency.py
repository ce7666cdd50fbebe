"""Simulated latency: a round trip per call plus server time per object, none unless set."""

from __future__ import annotations

import asyncio
import time

import httpx2
import pytest

from plugins.shopify.simulator import Latency, ShopSimulator
from plugins.shopify.simulator.latency import count_objects

from .helpers import client_for, gql

QUERY = "{ shop { name } }"
ORDERS = "{ orders(first: 50) { nodes { id lineItems(first: 5) { nodes { id } } } } }"


async def timed(client: httpx2.AsyncClient, query: str) -> float:
    started = time.perf_counter()
    await gql(client, query)
    return time.perf_counter() - started


async def test_no_latency_by_default(sim: ShopSimulator, client: httpx2.AsyncClient) -> None:
    assert sim.latency.none
    await gql(client, QUERY)  # schema loaded
    assert await timed(client, QUERY) < 0.15


async def test_every_call_waits_a_round_trip() -> None:
    sim = ShopSimulator(latency=Latency(round_trip=0.3))
    async with client_for(sim) as client:
        await gql(client, QUERY)
        elapsed = await timed(client, QUERY)
    assert 0.3 <= elapsed < 0.6


async def test_server_time_grows_with_the_objects_returned() -> None:
    sim = ShopSimulator(latency=Latency(per_object=0.002))
    sim.seed(50, seed=3)
    async with client_for(sim) as client:
        body = await gql(client, ORDERS)
        objects = count_objects(body["data"])
        assert objects > 100  # 50 orders, their line items, the connection objects
        small, large = await timed(client, QUERY), await timed(client, ORDERS)
    assert small < 0.1
    assert large >= 0.002 * objects


async def test_slow_replies_do_not_block_each_other() -> None:
    """Calls overlap as on Shopify: ten at once take about one round trip, not ten."""
    sim = ShopSimulator(latency=Latency(round_trip=0.3))
    async with client_for(sim) as client:
        await gql(client, QUERY)
        started = time.perf_counter()
        await asyncio.gather(*(gql(client, QUERY) for _ in range(10)))
        elapsed = time.perf_counter() - started
    assert 0.3 <= elapsed < 1.5
    assert sim.stats.requests == 11


async def test_latency_can_change_while_serving(sim: ShopSimulator, client: httpx2.AsyncClient) -> None:
    await gql(client, QUERY)
    sim.latency = Latency(round_trip=0.25)
    assert await timed(client, QUERY) >= 0.25
    sim.latency = Latency()
    assert await timed(client, QUERY) < 0.15


def test_negative_latency_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        Latency(round_trip=-0.1)
