"""Helpers shared by the simulator tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx2

from plugins.shopify.simulator import ShopSimulator

NOW = datetime(2026, 8, 3, 12, 0, 0, tzinfo=UTC)
TOKEN = "shpat_sim"
VERSION = "2026-07"


class ManualTime:
    """A monotonic time source that only moves when told (bucket refill, bulk progress)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def client_for(sim: ShopSimulator, **transport: Any) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(transport=httpx2.ASGITransport(app=sim.asgi_app, **transport), base_url=sim.base_url)


async def post(
    http: httpx2.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    version: str = VERSION,
    token: str | None = TOKEN,
) -> httpx2.Response:
    headers = {"X-Shopify-Access-Token": token} if token is not None else {}
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    return await http.post(f"/admin/api/{version}/graphql.json", json=body, headers=headers)


async def gql(
    http: httpx2.AsyncClient, query: str, variables: dict[str, Any] | None = None, *, version: str = VERSION
) -> dict[str, Any]:
    """POST a query that must succeed; returns the whole body (data + extensions)."""
    response = await post(http, query, variables, version=version)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body
