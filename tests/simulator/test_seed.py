"""Seeded shops: deterministic, realistic, and consistent with the ground truth they record."""

from __future__ import annotations

import statistics
import time
from datetime import timedelta
from typing import Any

import httpx2

from plugins.shopify.simulator import ShopSimulator, SimClock

from .helpers import NOW, ManualTime, client_for, gql

ALL_ORDERS = """query($after: String) { orders(first: 50, after: $after, sortKey: ID, query: "status:any") {
  pageInfo { hasNextPage endCursor }
  nodes { id createdAt updatedAt cancelledAt edited
    lineItems(first: 10) { nodes { id quantity currentQuantity unfulfilledQuantity nonFulfillableQuantity } }
    refunds(first: 4) { refundLineItems(first: 4) { nodes { quantity restockType lineItem { id } } } }
  } } }"""


def fresh(**kwargs: Any) -> ShopSimulator:
    return ShopSimulator(clock=SimClock(NOW, frozen=True), time_source=ManualTime(), bucket=(1e6, 1e6), **kwargs)


async def every_order(http: httpx2.AsyncClient) -> list[dict[str, Any]]:
    orders: list[dict[str, Any]] = []
    after = None
    while True:
        page = (await gql(http, ALL_ORDERS, {"after": after}))["data"]["orders"]
        orders += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return orders
        after = page["pageInfo"]["endCursor"]


async def test_the_same_seed_gives_the_same_shop() -> None:
    answers = []
    for _ in range(2):
        sim = fresh()
        sim.seed(150, seed=4)
        async with client_for(sim) as http:
            answers.append(await every_order(http))
    assert answers[0] == answers[1]
    other = fresh()
    other.seed(150, seed=5)
    async with client_for(other) as http:
        assert await every_order(http) != answers[0]


async def test_seeded_orders_agree_with_the_ground_truth() -> None:
    sim = fresh()
    gids = sim.seed(400, seed=8, partial_cancel_rate=0.3, full_cancel_rate=0.05, return_rate=0.1, edit_rate=0.1)
    truth = sim.truth()
    assert truth.orders == set(gids)
    async with client_for(sim) as http:
        orders = await every_order(http)
    assert len(orders) == 400
    start, end = (NOW - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ"), NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    canceled_orders = set()
    for order in orders:
        assert start <= order["createdAt"] <= order["updatedAt"] <= end
        if order["cancelledAt"]:
            canceled_orders.add(order["id"])
        for line in order["lineItems"]["nodes"]:
            canceled = truth.canceled_units.get(line["id"], 0)
            returned = truth.returned_units.get(line["id"], 0)
            # Units a canceled order never shipped count as canceled even when the cancel refunded nothing.
            open_at_cancel = line["unfulfilledQuantity"] if order["cancelledAt"] else 0
            # Every removed unit is either a cancellation (before shipping) or a return (after).
            assert line["quantity"] - line["currentQuantity"] + open_at_cancel == canceled + returned
            assert line["nonFulfillableQuantity"] + open_at_cancel == canceled
            assert line["unfulfilledQuantity"] >= 0 and line["currentQuantity"] >= 0
    assert canceled_orders == truth.canceled_orders
    # The mix is realistic: every kind of story happened.
    assert truth.canceled_units and truth.returned_units and truth.canceled_orders
    assert any(order["edited"] for order in orders)
    restock_types = {n["restockType"] for o in orders for r in o["refunds"] for n in r["refundLineItems"]["nodes"]}
    assert restock_types == {"CANCEL", "NO_RESTOCK", "RETURN"}


def test_large_orders_exceed_one_page_of_line_items() -> None:
    sim = fresh()
    sim.seed(60, seed=2, large_order_rate=0.1)
    sizes = [len(order.lines) for order in sim.store.orders.values()]
    assert any(size > 250 for size in sizes) and max(sizes) <= 320
    assert sum(size <= 4 for size in sizes) > 40


def test_seed_window_and_indexes() -> None:
    sim = fresh()
    sim.seed(300, seed=1, start=NOW - timedelta(days=30), end=NOW - timedelta(days=10))
    orders = list(sim.store.orders.values())
    lo, hi = int((NOW - timedelta(days=30)).timestamp()), int((NOW - timedelta(days=10)).timestamp())
    assert all(lo <= o.created_at <= o.updated_at <= hi for o in orders)
    assert sim.store.by_updated.keys == sorted((o.updated_at, o.id) for o in orders)
    assert sim.store.by_created.keys == sorted((o.created_at, o.id) for o in orders)


async def test_a_page_of_100_orders_takes_a_few_milliseconds() -> None:
    sim = fresh()
    started = time.perf_counter()
    sim.seed(5000, seed=3)
    assert time.perf_counter() - started < 5  # ~0.25 s on a laptop-class core
    query = """query($after: String) { orders(first: 100, after: $after, sortKey: UPDATED_AT) {
      pageInfo { hasNextPage endCursor }
      nodes { id updatedAt lineItems(first: 50) { nodes { id sku quantity currentQuantity unfulfilledQuantity nonFulfillableQuantity } }
        refunds(first: 3) { id refundLineItems(first: 20) { nodes { id quantity restockType lineItem { id } } } } } } }"""
    async with client_for(sim) as http:
        await gql(http, query)  # warm the schema and plan caches
        timings, after = [], None
        for _ in range(20):
            started = time.perf_counter()
            page = (await gql(http, query, {"after": after}))["data"]["orders"]
            timings.append(time.perf_counter() - started)
            after = page["pageInfo"]["endCursor"]
    # Typically 3-5 ms; the bound leaves room for slow CI machines.
    assert statistics.median(timings) < 0.05
