"""The client's retry and error classification, against Shopify's exact error replies."""

from __future__ import annotations

import logging
import random
import traceback

import httpx2
import pytest

from core import (
    ConfigurationError,
    FetchStats,
    SourceAuthError,
    SourceDataError,
    SourceUnavailable,
)
from plugins.shopify import queries
from plugins.shopify.client import (
    QueryTooExpensive,
    RetryPolicy,
    ShopifyClient,
    shop_base_url,
)
from plugins.shopify.pacing import CostPacer

from . import fakes
from .conftest import TOKEN
from .fakes import FakeTime, ScriptedShopify

SHOP_DATA = {"shop": {"name": "Demo", "myshopifyDomain": "demo-shop.myshopify.com"}, "currentAppInstallation": {"accessScopes": [{"handle": "read_orders"}]}}


def make_client(server: ScriptedShopify, fake_time: FakeTime, *, attempts: int = 4, version: str = "2026-07",
                max_throttle_wait: float = 900.0) -> ShopifyClient:
    return ShopifyClient(
        shop="demo (demo-shop.myshopify.com)",
        shop_url="demo-shop.myshopify.com",
        api_version=version,
        token=TOKEN,
        timeout=2.0,
        policy=RetryPolicy(max_attempts=attempts, backoff_base=0.5, backoff_cap=4.0, max_wait=30.0,
                           max_throttle_wait=max_throttle_wait),
        pacer=CostPacer(clock=fake_time.clock, sleep=fake_time.sleep),
        transport=server.transport,
        sleep=fake_time.sleep,
        rng=random.Random(7),
    )


async def run(client: ShopifyClient, stats: FetchStats | None = None):
    try:
        return await client.execute(
            queries.CONNECTION_CHECK, None, stats=stats or FetchStats(), requested=3, what="checking the connection"
        )
    finally:
        await client.aclose()


def assert_no_token(exc: BaseException) -> None:
    text = "".join(traceback.format_exception(exc)) + repr(exc)
    assert TOKEN not in text


@pytest.mark.parametrize(
    ("shop_url", "base"),
    [
        ("demo.myshopify.com", "https://demo.myshopify.com"),
        ("demo", "https://demo.myshopify.com"),
        ("https://demo.myshopify.com/admin/", "https://demo.myshopify.com"),
        ("http://127.0.0.1:8081", "http://127.0.0.1:8081"),
    ],
)
def test_shop_url_becomes_a_base_url(shop_url: str, base: str) -> None:
    assert shop_base_url(shop_url) == base


@pytest.mark.parametrize("shop_url", ["ftp://demo", "demo.myshopify.com/orders", ""])
def test_a_shop_url_that_is_no_shop_is_a_configuration_error(shop_url: str) -> None:
    with pytest.raises(ConfigurationError):
        shop_base_url(shop_url)


async def test_request_carries_token_header_and_reads_cost(fake_time: FakeTime) -> None:
    server = ScriptedShopify([fakes.ok(SHOP_DATA, requested=3, actual=3, available=1997)])
    stats = FetchStats()
    reply = await run(make_client(server, fake_time), stats)
    assert reply.data["shop"]["name"] == "Demo"
    request = server.requests[0]
    assert request.url == "https://demo-shop.myshopify.com/admin/api/2026-07/graphql.json"
    assert request.headers["x-shopify-access-token"] == TOKEN
    assert "query ConnectionCheck" in server.bodies()[0]["query"]
    assert (stats.requests, stats.requested_cost, stats.actual_cost, stats.retries) == (1, 3.0, 3.0, 0)


async def test_throttled_waits_for_the_refill_then_succeeds(fake_time: FakeTime) -> None:
    # requested 972, 40 available, 100/s: Shopify says wait (972 - 40) / 100 = 9.32 s (+1 point of slack).
    server = ScriptedShopify([fakes.throttled(requested=972, available=40), fakes.ok(SHOP_DATA)])
    stats = FetchStats()
    await run(make_client(server, fake_time), stats)
    assert fake_time.sleeps == [pytest.approx(9.33)]
    assert (stats.requests, stats.throttled, stats.retries) == (2, 1, 1)


async def test_a_throttle_storm_spends_no_attempt(fake_time: FakeTime) -> None:
    # Twenty THROTTLED replies in a row against a budget of four attempts: throttling is
    # weather, not a fault, so the request waits each refill out and succeeds.
    storm = [fakes.throttled(requested=500, available=0) for _ in range(20)]
    server = ScriptedShopify([*storm, fakes.ok(SHOP_DATA)])
    stats = FetchStats()
    client = make_client(server, fake_time, attempts=4)
    reply = await run(client, stats)
    assert reply.data["shop"]["name"] == "Demo"
    assert (stats.requests, stats.throttled, stats.retries) == (21, 20, 20)
    # each wait is what throttleStatus said: 500 (+1) points at 100/s
    assert fake_time.sleeps == [pytest.approx(5.01)] * 20
    assert client.throttled_wait == pytest.approx(100.2)


async def test_throttling_fails_only_past_the_total_wait_naming_shop_wait_and_plan(fake_time: FakeTime) -> None:
    server = ScriptedShopify([fakes.throttled(requested=500, available=0, maximum=1000, rate=50) for _ in range(50)])
    stats = FetchStats()
    with pytest.raises(SourceUnavailable) as caught:
        await run(make_client(server, fake_time, attempts=2, max_throttle_wait=60.0), stats)
    message = str(caught.value)
    assert "demo-shop.myshopify.com" in message and "kept throttling" in message
    assert "past the limit of 60s" in message
    assert "1000 points, restoring 50 per second" in message
    assert sum(fake_time.sleeps) <= 60.0
    assert len(server.requests) == 6  # 10 s a refill: the seventh wait would pass a minute
    # What the failed request cost travels with the error, for the run's history.
    assert caught.value.stats is stats
    assert (stats.requests, stats.throttled) == (6, 6)
    assert_no_token(caught.value)


async def test_a_throttle_that_reports_room_backs_off_growing(fake_time: FakeTime) -> None:
    # A temporarily lowered limit: THROTTLED although the bucket says it holds the points.
    server = ScriptedShopify([fakes.throttled(requested=500, available=1500) for _ in range(3)] + [fakes.ok(SHOP_DATA)])
    await run(make_client(server, fake_time), FetchStats())
    assert len(fake_time.sleeps) == 3
    assert 0.25 <= fake_time.sleeps[0] <= 0.5 and 0.5 <= fake_time.sleeps[1] <= 1.0 and 1.0 <= fake_time.sleeps[2] <= 2.0


async def test_throttled_query_bigger_than_the_bucket_must_shrink(fake_time: FakeTime) -> None:
    server = ScriptedShopify([fakes.throttled(requested=972, available=40, maximum=500, rate=25)])
    with pytest.raises(QueryTooExpensive) as caught:
        await run(make_client(server, fake_time))
    assert (caught.value.cost, caught.value.limit) == (972, 500)


async def test_max_cost_exceeded_is_not_retried_but_handed_back(fake_time: FakeTime) -> None:
    server = ScriptedShopify([fakes.max_cost_exceeded(1452)])
    with pytest.raises(QueryTooExpensive) as caught:
        await run(make_client(server, fake_time))
    assert (caught.value.cost, caught.value.limit) == (1452, 1000)
    assert len(server.requests) == 1


async def test_429_honours_retry_after(fake_time: FakeTime) -> None:
    server = ScriptedShopify([fakes.too_many_requests("2.0"), fakes.ok(SHOP_DATA)])
    stats = FetchStats()
    await run(make_client(server, fake_time), stats)
    assert fake_time.sleeps == [2.0]
    assert (stats.throttled, stats.retries) == (1, 1)


@pytest.mark.parametrize(
    "failure",
    [
        fakes.server_error(502),
        fakes.server_error(503),
        httpx2.Response(500, json={"errors": "Internal Server Error"}),
        fakes.too_many_requests(None),
        fakes.truncated({"shop": {"name": "Demo"}}),
        httpx2.Response(200, content=b"", headers={"content-type": "application/json"}),
        httpx2.ReadTimeout("timed out"),
        httpx2.RemoteProtocolError("peer closed connection without sending complete message body"),
        httpx2.ConnectError("[Errno 111] Connection refused"),
        httpx2.Response(200, json={"errors": [{"message": "Internal error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]}),
    ],
    ids=["502", "503", "500-json", "429-no-header", "truncated", "empty", "timeout", "drop", "refused", "internal"],
)
async def test_transient_failures_are_retried_with_backoff(failure: fakes.Reply, fake_time: FakeTime) -> None:
    server = ScriptedShopify([failure, failure, fakes.ok(SHOP_DATA)])
    stats = FetchStats()
    reply = await run(make_client(server, fake_time), stats)
    assert reply.data["shop"]["name"] == "Demo"
    assert (stats.requests, stats.retries) == (3, 2)
    # full jitter: each wait lies below the doubling ceiling
    assert len(fake_time.sleeps) == 2
    assert 0 <= fake_time.sleeps[0] <= 0.5 and 0 <= fake_time.sleeps[1] <= 1.0


async def test_persistent_failure_gives_up_naming_shop_cause_and_attempts(fake_time: FakeTime) -> None:
    server = ScriptedShopify([fakes.server_error(503)] * 4)
    with pytest.raises(SourceUnavailable) as caught:
        await run(make_client(server, fake_time, attempts=4))
    message = str(caught.value)
    assert "demo-shop.myshopify.com" in message and "HTTP 503" in message and "4 attempts" in message
    assert "checking the connection" in message
    assert len(server.requests) == 4
    assert (caught.value.stats.requests, caught.value.stats.retries) == (4, 3)
    assert_no_token(caught.value)


async def test_unauthorized_fails_at_once_naming_shop_and_scope(fake_time: FakeTime) -> None:
    server = ScriptedShopify([fakes.unauthorized()])
    with pytest.raises(SourceAuthError) as caught:
        await run(make_client(server, fake_time))
    message = str(caught.value)
    assert "demo-shop.myshopify.com" in message and "access token" in message and "read_orders" in message
    assert len(server.requests) == 1
    assert_no_token(caught.value)


async def test_forbidden_is_an_auth_error(fake_time: FakeTime) -> None:
    server = ScriptedShopify([httpx2.Response(403, json={"errors": "Forbidden"})])
    with pytest.raises(SourceAuthError):
        await run(make_client(server, fake_time))


async def test_access_denied_error_code_is_an_auth_error(fake_time: FakeTime) -> None:
    server = ScriptedShopify([fakes.access_denied()])
    with pytest.raises(SourceAuthError, match="read_orders"):
        await run(make_client(server, fake_time))


async def test_unknown_api_version_is_a_configuration_error(fake_time: FakeTime) -> None:
    server = ScriptedShopify([fakes.not_found()])
    with pytest.raises(ConfigurationError, match="2019-04") as caught:
        await run(make_client(server, fake_time, version="2019-04"))
    assert len(server.requests) == 1
    assert_no_token(caught.value)


async def test_invalid_query_for_the_version_is_a_configuration_error(fake_time: FakeTime) -> None:
    reply = httpx2.Response(
        200,
        json={
            "errors": [
                {
                    "message": "Field 'currentQuantity' doesn't exist on type 'LineItem'",
                    "locations": [{"line": 5, "column": 5}],
                    "path": ["query", "order", "lineItems", "nodes", "currentQuantity"],
                    "extensions": {"code": "undefinedField", "typeName": "LineItem", "fieldName": "currentQuantity"},
                }
            ]
        },
    )
    with pytest.raises(ConfigurationError, match="2026-07"):
        await run(make_client(ScriptedShopify([reply]), fake_time))


async def test_other_graphql_errors_are_data_errors(fake_time: FakeTime) -> None:
    reply = httpx2.Response(200, json={"errors": [{"message": "Something odd"}], "data": {"shop": None}})
    with pytest.raises(SourceDataError, match="Something odd"):
        await run(make_client(ScriptedShopify([reply]), fake_time))


async def test_token_never_reaches_logs_or_messages(fake_time: FakeTime, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    # a server that echoes the token back in its error body must not make us print it
    echo = httpx2.Response(400, text=f"bad request for token {TOKEN}")
    server = ScriptedShopify([fakes.server_error(502), echo])
    with pytest.raises(SourceUnavailable) as caught:
        await run(make_client(server, fake_time))
    assert "***" in str(caught.value)
    assert_no_token(caught.value)
    assert caplog.records, "the retry was logged"
    for record in caplog.records:
        assert TOKEN not in record.getMessage()
    assert TOKEN not in repr(make_client(server, fake_time))
