"""Fixtures for the simulator suite: a shop on a frozen clock, an in-process client, a manual time source."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest

from plugins.shopify.simulator import ShopSimulator, SimClock

from .helpers import NOW, ManualTime, client_for


@pytest.fixture
def manual_time() -> ManualTime:
    return ManualTime()


@pytest.fixture
def clock() -> SimClock:
    return SimClock(NOW, frozen=True)


@pytest.fixture
def sim(clock: SimClock, manual_time: ManualTime) -> ShopSimulator:
    return ShopSimulator(clock=clock, time_source=manual_time)


@pytest.fixture
async def client(sim: ShopSimulator) -> AsyncIterator[httpx2.AsyncClient]:
    async with client_for(sim) as http:
        yield http
