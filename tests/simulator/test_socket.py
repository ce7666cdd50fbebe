"""Over a real socket (uvicorn), faults look exactly like a misbehaving Shopify to httpx."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx2
import pytest
import uvicorn

from plugins.shopify.simulator import FaultConfig, ShopSimulator

from .helpers import TOKEN

QUERY = {"query": "{ shop { name } }"}
HEADERS = {"X-Shopify-Access-Token": TOKEN}


@pytest.fixture
async def served(sim: ShopSimulator) -> AsyncIterator[httpx2.AsyncClient]:
    server = uvicorn.Server(
        uvicorn.Config(sim.asgi_app, host="127.0.0.1", port=0, log_level="critical", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=2.0) as http:
        yield http
    server.should_exit = True
    await task


async def test_a_query_over_http(served: httpx2.AsyncClient) -> None:
    response = await served.post("/admin/api/2026-07/graphql.json", json=QUERY, headers=HEADERS)
    assert response.status_code == 200
    assert response.json()["data"] == {"shop": {"name": "Demo Shop"}}


async def test_drop_is_a_remote_protocol_error(sim: ShopSimulator, served: httpx2.AsyncClient) -> None:
    sim.faults = FaultConfig(rate_drop=1.0)
    with pytest.raises(httpx2.RemoteProtocolError):
        await served.post("/admin/api/2026-07/graphql.json", json=QUERY, headers=HEADERS)


async def test_slow_is_a_read_timeout(sim: ShopSimulator, served: httpx2.AsyncClient) -> None:
    sim.faults = FaultConfig(rate_slow=1.0, slow_seconds=1.0)
    with pytest.raises(httpx2.ReadTimeout):
        await served.post("/admin/api/2026-07/graphql.json", json=QUERY, headers=HEADERS, timeout=0.2)


async def test_truncated_is_a_decode_error(sim: ShopSimulator, served: httpx2.AsyncClient) -> None:
    sim.faults = FaultConfig(rate_truncated=1.0)
    response = await served.post("/admin/api/2026-07/graphql.json", json=QUERY, headers=HEADERS)
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()
