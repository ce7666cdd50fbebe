"""The source as the engine sees it, against scripted Shopify replies (no simulator needed)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx2
import orjson
import pytest

from core import (
    ConfigurationError,
    Settings,
    Shop,
    ShopCredentials,
    Source,
    SourceAuthError,
    SourceDataError,
    SourceFactory,
    Window,
)
from core.plugins import make_plugin_manager
from plugins import shopify
from plugins.shopify.source import ShopifySource, ShopifySourceFactory
from plugins.shopify.streams import search_time, window_search

from . import fakes
from .conftest import TOKEN
from .fakes import FakeTime, ScriptedShopify
from .test_parse import RECORDED

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
RECENT = Window(NOW - timedelta(hours=1), NOW)
OLD = Window(NOW - timedelta(days=61), NOW - timedelta(days=60, hours=23))


def make_source(shop: Shop, settings: Settings, server: ScriptedShopify, fake_time: FakeTime, **credentials: Any) -> ShopifySource:
    return ShopifySourceFactory().create(
        shop=shop,
        credentials=ShopCredentials(token=credentials.get("token", TOKEN), token_env=credentials.get("token_env")),
        settings=settings,
        transport=server.transport,
        clock=fake_time.clock,
        sleep=fake_time.sleep,
        rng=random.Random(1),
        now=lambda: NOW,
    )


def orders_reply(nodes: list[dict[str, Any]], *, has_next: bool = False, cursor: str | None = None, **extensions: Any) -> httpx2.Response:
    body = {
        "data": {"orders": {"pageInfo": {"hasNextPage": has_next, "endCursor": cursor}, "nodes": nodes}},
        "extensions": {**fakes.cost(972, 20, 1980), **extensions},
    }
    return httpx2.Response(200, json=body)


def scopes_reply(*scopes: str) -> httpx2.Response:
    return fakes.ok(
        {
            "shop": {"name": "Demo", "myshopifyDomain": "demo-shop.myshopify.com"},
            "currentAppInstallation": {"accessScopes": [{"handle": s} for s in scopes]},
        }
    )


async def collect(source: ShopifySource, window: Window, page_size: int | None = None) -> list[Any]:
    try:
        return [page async for page in source.fetch_orders(window, page_size=page_size)]
    finally:
        await source.aclose()


def test_the_plugin_registers_the_shopify_factory() -> None:
    pm = make_plugin_manager(load_entrypoints=False, extra=[shopify])
    (factories,) = pm.hook.register_sources()
    (factory,) = factories
    assert factory.name == "shopify"
    assert isinstance(factory, SourceFactory)


def test_source_implements_the_core_protocol(shop: Shop, source_settings: Settings, fake_time: FakeTime) -> None:
    source = make_source(shop, source_settings, ScriptedShopify([]), fake_time)
    assert isinstance(source, Source)
    assert TOKEN not in repr(source) and TOKEN not in repr(source.client)


def test_token_from_the_environment(shop: Shop, source_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_SHOP_TOKEN", TOKEN)
    source = ShopifySourceFactory().create(
        shop=shop, credentials=ShopCredentials(token=None, token_env="DEMO_SHOP_TOKEN"), settings=source_settings
    )
    assert source.client._token == TOKEN


def test_missing_token_is_a_configuration_error(shop: Shop, source_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEMO_SHOP_TOKEN", raising=False)
    factory = ShopifySourceFactory()
    with pytest.raises(ConfigurationError, match="DEMO_SHOP_TOKEN"):
        factory.create(shop=shop, credentials=ShopCredentials(token=None, token_env="DEMO_SHOP_TOKEN"), settings=source_settings)
    with pytest.raises(ConfigurationError, match="no Admin API access token"):
        factory.create(shop=shop, credentials=ShopCredentials(token=None, token_env=None), settings=source_settings)


def test_one_budget_per_shop(shop: Shop, source_settings: Settings) -> None:
    factory = ShopifySourceFactory()
    credentials = ShopCredentials(token=TOKEN, token_env=None)
    first = factory.create(shop=shop, credentials=credentials, settings=source_settings)
    second = factory.create(shop=shop, credentials=credentials, settings=source_settings)
    other = factory.create(shop=_other_shop(shop), credentials=credentials, settings=source_settings)
    assert first.client.pacer.ledger is second.client.pacer.ledger
    assert other.client.pacer.ledger is not first.client.pacer.ledger


def _other_shop(shop: Shop) -> Shop:
    return Shop(id=2, name="other", source="shopify", url="other.myshopify.com", api_version="2026-07",
                has_token=True, token_env=None, created_at=shop.created_at)


def test_window_filter_is_half_open_on_whole_seconds() -> None:
    window = Window(datetime(2026, 11, 2, 11, 0, 0, tzinfo=UTC), datetime(2026, 11, 2, 12, 0, 0, 500000, tzinfo=UTC))
    assert window_search(window) == "updated_at:>='2026-11-02T11:00:00Z' AND updated_at:<'2026-11-02T12:00:01Z'"
    # other offsets are converted to UTC; a fractional start rounds up (no earlier whole second qualifies)
    eastern = timezone(timedelta(hours=-4))
    assert search_time(datetime(2026, 11, 2, 7, 0, 0, 1, tzinfo=eastern)) == "2026-11-02T11:00:01Z"


async def test_pages_follow_cursors_with_the_window_filter(shop: Shop, source_settings: Settings, fake_time: FakeTime) -> None:
    second = {**RECORDED, "id": "gid://shopify/Order/820982911946154509", "name": "#1002"}
    server = ScriptedShopify([orders_reply([RECORDED], has_next=True, cursor="c1"), orders_reply([second])])
    pages = await collect(make_source(shop, source_settings, server, fake_time), RECENT)
    assert [[o.name for o in p.orders] for p in pages] == [["#1001"], ["#1002"]]
    first_vars, second_vars = (b["variables"] for b in server.bodies())
    assert first_vars["query"] == window_search(RECENT) and first_vars["after"] is None
    assert second_vars["after"] == "c1"
    assert first_vars["first"] == 100 and first_vars["lineItemsFirst"] == 50
    assert pages[0].stats.requests == 1 and pages[0].stats.requested_cost == 972


async def test_an_order_seen_twice_in_a_window_is_yielded_once(shop: Shop, source_settings: Settings, fake_time: FakeTime) -> None:
    server = ScriptedShopify([orders_reply([RECORDED], has_next=True, cursor="c1"), orders_reply([RECORDED])])
    pages = await collect(make_source(shop, source_settings, server, fake_time), RECENT)
    assert [len(p.orders) for p in pages] == [1, 0]


async def test_max_cost_exceeded_retries_the_same_page_smaller(shop: Shop, source_settings: Settings, fake_time: FakeTime) -> None:
    server = ScriptedShopify([fakes.max_cost_exceeded(2900), orders_reply([RECORDED])])
    pages = await collect(make_source(shop, source_settings, server, fake_time), RECENT, page_size=250)
    assert [o.name for o in pages[0].orders] == ["#1001"]
    big, small = (b["variables"] for b in server.bodies())
    assert small["after"] == big["after"] is None
    assert small["first"] <= big["first"] // 2 or small["lineItemsFirst"] < big["lineItemsFirst"]
    assert (small["first"], small["lineItemsFirst"], small["refundsFirst"], small["refundLinesFirst"]) != (
        big["first"], big["lineItemsFirst"], big["refundsFirst"], big["refundLinesFirst"])


async def test_search_warnings_fail_instead_of_widening_the_window(shop: Shop, source_settings: Settings, fake_time: FakeTime) -> None:
    warning = {"search": [{"path": ["orders"], "query": "…", "warnings": [
        {"field": "updated_at", "message": "Invalid search field for this query.", "code": "invalid_field"}]}]}
    server = ScriptedShopify([orders_reply([RECORDED], **warning)])
    with pytest.raises(SourceDataError, match="Invalid search field"):
        await collect(make_source(shop, source_settings, server, fake_time), RECENT)


async def test_old_window_without_read_all_orders_is_refused(shop: Shop, source_settings: Settings, fake_time: FakeTime) -> None:
    server = ScriptedShopify([scopes_reply("read_orders")])
    with pytest.raises(SourceAuthError, match="read_all_orders") as caught:
        await collect(make_source(shop, source_settings, server, fake_time), OLD)
    assert "60 days" in str(caught.value)
    assert len(server.requests) == 1  # only the scope check


async def test_old_window_with_read_all_orders_is_read(shop: Shop, source_settings: Settings, fake_time: FakeTime) -> None:
    server = ScriptedShopify([scopes_reply("read_orders", "read_all_orders"), orders_reply([])])
    pages = await collect(make_source(shop, source_settings, server, fake_time), OLD)
    assert [p.orders for p in pages] == [()]


async def test_recent_window_needs_no_scope_check(shop: Shop, source_settings: Settings, fake_time: FakeTime) -> None:
    server = ScriptedShopify([orders_reply([])])
    await collect(make_source(shop, source_settings, server, fake_time), RECENT)
    assert "ConnectionCheck" not in server.bodies()[0]["query"].split("{")[0]


async def test_connection_info_reports_shop_and_scopes(shop: Shop, source_settings: Settings, fake_time: FakeTime) -> None:
    server = ScriptedShopify([scopes_reply("read_orders", "write_orders")])
    source = make_source(shop, source_settings, server, fake_time)
    info = await source.connection_info()
    assert await source.connection_info() is info  # asked once per source
    await source.aclose()
    assert (info.shop_name, info.domain, info.api_version) == ("Demo", "demo-shop.myshopify.com", "2026-07")
    assert info.can_read_orders and not info.can_read_all_orders


async def test_fetch_order_by_gid_or_number(shop: Shop, source_settings: Settings, fake_time: FakeTime) -> None:
    server = ScriptedShopify([fakes.ok({"order": RECORDED}), fakes.ok({"order": None})])
    source = make_source(shop, source_settings, server, fake_time)
    page = await source.fetch_order("gid://shopify/Order/820982911946154508")
    gone = await source.fetch_order("820982911946154500")
    await source.aclose()
    assert [o.source_id for o in page.orders] == ["gid://shopify/Order/820982911946154508"]
    assert gone.orders == ()
    assert orjson.loads(server.requests[1].content)["variables"]["id"] == "gid://shopify/Order/820982911946154500"
    with pytest.raises(SourceDataError):
        await source.fetch_order("gid://shopify/Customer/1")


async def test_page_size_outside_shopifys_range(shop: Shop, source_settings: Settings, fake_time: FakeTime) -> None:
    with pytest.raises(ConfigurationError):
        await collect(make_source(shop, source_settings, ScriptedShopify([]), fake_time), RECENT, page_size=251)


async def test_an_order_that_changed_while_paging_is_passed_on_again(shop: Shop, source_settings: Settings,
                                                                     fake_time: FakeTime) -> None:
    newer = {**RECORDED, "updatedAt": "2026-08-03T05:20:00Z"}
    server = ScriptedShopify([orders_reply([RECORDED], has_next=True, cursor="c1"), orders_reply([newer])])
    pages = await collect(make_source(shop, source_settings, server, fake_time), RECENT)
    assert [[o.updated_at.minute for o in p.orders] for p in pages] == [[10], [20]]
