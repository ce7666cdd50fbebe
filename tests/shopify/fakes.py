"""Test doubles of the outside world: time, and a Shopify endpoint replying from a script.

The replies are shaped exactly like Shopify's (research/shopify-api.md §C.20-C.22 and the
recorded bodies cited there), so the client's classification is tested against the real thing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2
import orjson


class FakeTime:
    """A monotonic clock that only moves when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def cost(requested: float, actual: float | None, available: float, maximum: float = 2000.0, rate: float = 100.0) -> dict:
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": {"maximumAvailable": maximum, "currentlyAvailable": available, "restoreRate": rate},
        }
    }


def ok(data: dict[str, Any], requested: float = 10, actual: float = 5, available: float = 1990) -> httpx2.Response:
    return httpx2.Response(200, json={"data": data, "extensions": cost(requested, actual, available)})


def throttled(requested: float = 972, available: float = 40, maximum: float = 2000.0, rate: float = 100.0) -> httpx2.Response:
    return httpx2.Response(
        200,
        json={
            "errors": [
                {
                    "message": "Throttled",
                    "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
                }
            ],
            "extensions": cost(requested, None, available, maximum, rate),
        },
    )


def max_cost_exceeded(cost_: int = 1452) -> httpx2.Response:
    return httpx2.Response(
        200,
        json={
            "errors": [
                {
                    "message": f"Query cost is {cost_}, which exceeds the single query max cost limit (1000).\n\n"
                    "See https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\n"
                    "cost of a query is calculated.\n",
                    "extensions": {
                        "code": "MAX_COST_EXCEEDED",
                        "cost": cost_,
                        "maxCost": 1000,
                        "documentation": "https://shopify.dev/api/usage/rate-limits",
                    },
                }
            ]
        },
    )


def access_denied() -> httpx2.Response:
    return httpx2.Response(
        200,
        json={
            "errors": [
                {
                    "message": "Access denied for orders field. Required access: `read_orders` access scope.",
                    "locations": [{"line": 2, "column": 3}],
                    "path": ["orders"],
                    "extensions": {
                        "code": "ACCESS_DENIED",
                        "documentation": "https://shopify.dev/api/usage/access-scopes",
                        "requiredAccess": "`read_orders` access scope.",
                    },
                }
            ],
            "data": None,
            "extensions": cost(1, 1, 1999),
        },
    )


def unauthorized() -> httpx2.Response:
    return httpx2.Response(
        401, json={"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
    )


def too_many_requests(retry_after: str | None = "2.0") -> httpx2.Response:
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    return httpx2.Response(
        429,
        headers=headers,
        json={"errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."},
    )


def server_error(status: int = 502) -> httpx2.Response:
    return httpx2.Response(status, text="<html><body><h1>502 Bad Gateway</h1></body></html>", headers={"content-type": "text/html"})


def truncated(data: dict[str, Any]) -> httpx2.Response:
    body = orjson.dumps({"data": data, "extensions": cost(10, 5, 1990)})
    return httpx2.Response(200, content=body[: len(body) // 2], headers={"content-type": "application/json"})


def not_found() -> httpx2.Response:
    return httpx2.Response(404, text="Not Found", headers={"content-type": "text/plain"})


Reply = httpx2.Response | BaseException | Callable[[httpx2.Request], httpx2.Response]


@dataclass
class ScriptedShopify:
    """An Admin GraphQL endpoint that answers each request with the next reply of ``script``."""

    script: list[Reply]
    requests: list[httpx2.Request] = field(default_factory=list)

    def handler(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        if not self.script:
            raise AssertionError(f"unexpected request #{len(self.requests)}: {request.content[:200]!r}")
        reply = self.script.pop(0)
        if isinstance(reply, BaseException):
            raise reply
        if callable(reply):
            return reply(request)
        return reply

    @property
    def transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(self.handler)

    def bodies(self) -> list[dict[str, Any]]:
        return [orjson.loads(r.content) for r in self.requests]
