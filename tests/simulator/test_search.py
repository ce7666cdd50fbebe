"""Shopify search syntax in orders(query:) and ordersCount(query:), and the 60-day visibility rule."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx2
import pytest

from plugins.shopify.simulator import ShopSimulator, SimClock

from .helpers import NOW, ManualTime, client_for, gql

NAMES = "query($q: String) { orders(first: 250, query: $q, sortKey: CREATED_AT) { nodes { name } } }"
COUNT = "query($q: String) { ordersCount(query: $q) { count precision } }"


async def names(client: httpx2.AsyncClient, query: str | None) -> list[str]:
    body = await gql(client, NAMES, {"q": query})
    return [node["name"] for node in body["data"]["orders"]["nodes"]]


@pytest.fixture
def shop(sim: ShopSimulator, clock: SimClock) -> ShopSimulator:
    """#1001..#1005 created a day apart (Jul 30..Aug 3 2026, 12:00Z); #1003 later touched, #1004 canceled, #1005 fulfilled."""
    for days_ago in (4, 3, 2, 1, 0):
        sim.create_order(lines=[("SKU-1", 1)], created_at=NOW - timedelta(days=days_ago))
    orders = sorted(sim.store.orders.values(), key=lambda o: o.number)
    clock.advance(30)
    sim.touch(f"gid://shopify/Order/{orders[2].id}")
    sim.cancel_order(f"gid://shopify/Order/{orders[3].id}")
    sim.fulfil(f"gid://shopify/Order/{orders[4].id}")
    return sim


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (None, ["#1001", "#1002", "#1003", "#1004", "#1005"]),
        ("created_at:>'2026-08-01T12:00:00Z'", ["#1004", "#1005"]),
        ("created_at:>='2026-08-01T12:00:00Z'", ["#1003", "#1004", "#1005"]),
        ('created_at:<"2026-08-01T12:00:00Z"', ["#1001", "#1002"]),
        ("created_at:<=2026-08-01T12:00:00Z", ["#1001", "#1002", "#1003"]),
        ("created_at:2026-08-01", ["#1003"]),  # a date alone is that whole day
        ("created_at:>2026-08-01", ["#1004", "#1005"]),  # after the whole day
        ("created_at:<=2026-07", ["#1001", "#1002"]),  # up to the end of July
        ("created_at:2026", ["#1001", "#1002", "#1003", "#1004", "#1005"]),
        ("updated_at:>='2026-08-03T12:00:30Z'", ["#1003", "#1004", "#1005"]),
        ("updated_at:>='2026-08-03T12:00:30Z' AND updated_at:<='2026-08-03T12:00:30Z'", ["#1003", "#1004", "#1005"]),
        ("updated_at:>='2026-07-31T00:00:00Z' updated_at:<'2026-08-03T12:00:30Z'", ["#1002"]),  # implicit AND
        ("created_at:2026-07-30 OR created_at:2026-08-03", ["#1001", "#1005"]),
        ("(created_at:2026-07-30 OR created_at:2026-08-03) AND status:open", ["#1001"]),
        ("status:any", ["#1001", "#1002", "#1003", "#1004", "#1005"]),
        ("status:open", ["#1001", "#1002", "#1003"]),
        ("status:closed", ["#1004", "#1005"]),
        ("status:cancelled", ["#1004"]),
        ("status:not_closed", ["#1001", "#1002", "#1003"]),
        ("-status:cancelled", ["#1001", "#1002", "#1003", "#1005"]),
        ("NOT status:open", ["#1004", "#1005"]),
        ("name:#1002", ["#1002"]),
        ("1004", ["#1004"]),
        ("fulfillment_status:shipped", ["#1005"]),
        ("financial_status:refunded", ["#1004"]),
        ("updated_at:<now", ["#1001", "#1002"]),  # the clock reads 12:00:30; three orders changed at 12:00:30
    ],
)
async def test_search_filters(
    shop: ShopSimulator, client: httpx2.AsyncClient, query: str | None, expected: list[str]
) -> None:
    assert await names(client, query) == expected


async def test_id_ranges_use_legacy_ids(shop: ShopSimulator, client: httpx2.AsyncClient) -> None:
    ids = sorted(shop.store.orders)
    assert await names(client, f"id:>={ids[3]}") == ["#1004", "#1005"]
    assert await names(client, f"id:<{ids[1]}") == ["#1001"]
    assert await names(client, f"id:{ids[2]}") == ["#1003"]


async def test_orders_count_uses_the_same_filters(shop: ShopSimulator, client: httpx2.AsyncClient) -> None:
    body = await gql(client, COUNT, {"q": "status:open"})
    assert body["data"]["ordersCount"] == {"count": 3, "precision": "EXACT"}
    body = await gql(client, "{ ordersCount(limit: 2) { count precision } }")
    assert body["data"]["ordersCount"] == {"count": 2, "precision": "AT_LEAST"}
    body = await gql(client, "{ ordersCount(limit: null) { count precision } }")
    assert body["data"]["ordersCount"] == {"count": 5, "precision": "EXACT"}


async def test_unknown_fields_are_dropped_with_a_search_warning(
    shop: ShopSimulator, client: httpx2.AsyncClient
) -> None:
    body = await gql(client, NAMES, {"q": "updatd_at:>2026-08-02 status:open"})
    assert [n["name"] for n in body["data"]["orders"]["nodes"]] == ["#1001", "#1002", "#1003"]
    [search] = body["extensions"]["search"]
    assert search["path"] == ["orders"]
    assert search["query"] == "updatd_at:>2026-08-02 status:open"
    assert search["warnings"] == [
        {"field": "updatd_at", "message": "Invalid search field for this query.", "code": "invalid_field"}
    ]


async def test_an_unparseable_time_is_an_error(shop: ShopSimulator, client: httpx2.AsyncClient) -> None:
    from .helpers import post

    body = (await post(client, NAMES, {"q": "updated_at:>yesterdayish"})).json()
    assert body["data"] is None
    assert body["errors"][0]["message"] == "Invalid timestamp for query filter `updated_at`."
    assert body["errors"][0]["path"] == ["orders"]


async def test_orders_older_than_60_days_need_read_all_orders(manual_time: ManualTime) -> None:
    clock = SimClock(NOW, frozen=True)
    limited = ShopSimulator(clock=clock, time_source=manual_time)
    everything = ShopSimulator(clock=clock, time_source=manual_time, scopes=("read_orders", "read_all_orders"))
    for sim in (limited, everything):
        old = sim.create_order(lines=[("SKU-1", 1)], created_at=NOW - timedelta(days=61))
        sim.create_order(lines=[("SKU-1", 1)], created_at=NOW - timedelta(days=59))
        clock.advance(0)
        sim.touch(old)  # recently updated, but created too long ago
    for sim, visible in ((limited, ["#1002"]), (everything, ["#1001", "#1002"])):
        async with client_for(sim) as http:
            assert await names(http, "updated_at:>2026-01-01") == visible
            assert (await gql(http, COUNT, {"q": None}))["data"]["ordersCount"]["count"] == len(visible)
            old_id = min(sim.store.orders)
            order = await gql(
                http, "query($id: ID!) { order(id: $id) { name } }", {"id": f"gid://shopify/Order/{old_id}"}
            )
            assert (order["data"]["order"] is not None) == (len(visible) == 2)


def test_search_parser_handles_odd_input() -> None:
    from plugins.shopify.simulator.search import compile_order_search

    now = int(datetime(2026, 8, 3).timestamp())
    for query in ("", "   ", "AND", "status:open AND", "(status:open", "status:open)", "OR status:open"):
        compiled = compile_order_search(query, now)
        assert callable(compiled.predicate)
    compiled = compile_order_search("updated_at:>=2026-08-01 updated_at:<2026-08-02 status:open", now)
    assert compiled.bounds == {
        "updated_at": (
            int(datetime(2026, 8, 1, tzinfo=NOW.tzinfo).timestamp()),
            int(datetime(2026, 8, 2, tzinfo=NOW.tzinfo).timestamp()),
        )
    }
    # OR branches cannot narrow an index range
    assert compile_order_search("updated_at:>2026-08-01 OR status:open", now).bounds == {}
