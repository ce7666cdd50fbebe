"""Keyset paging over orders and nested connections, with Shopify's cursors and limits."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx2
import pytest

from plugins.shopify.simulator import ShopSimulator, SimClock

from .helpers import gql, post

PAGE = """
query($first: Int, $after: String, $last: Int, $before: String, $sort: OrderSortKeys, $reverse: Boolean, $q: String) {
  orders(first: $first, after: $after, last: $last, before: $before, sortKey: $sort, reverse: $reverse, query: $q) {
    edges { cursor node { id name updatedAt } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


async def page(client: httpx2.AsyncClient, **variables: Any) -> dict[str, Any]:
    return (await gql(client, PAGE, variables))["data"]["orders"]


def names(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["name"] for edge in connection["edges"]]


async def walk(client: httpx2.AsyncClient, first: int, **variables: Any) -> list[str]:
    seen: list[str] = []
    after = None
    while True:
        connection = await page(client, first=first, after=after, **variables)
        seen += [edge["node"]["id"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            return seen
        after = connection["pageInfo"]["endCursor"]


@pytest.mark.parametrize("sort", ["UPDATED_AT", "CREATED_AT", "PROCESSED_AT", "ID"])
@pytest.mark.parametrize("reverse", [False, True])
async def test_paging_visits_every_order_exactly_once(
    sim: ShopSimulator, client: httpx2.AsyncClient, sort: str, reverse: bool
) -> None:
    orders = sim.seed(137, seed=7)
    seen = await walk(client, 25, sort=sort, reverse=reverse)
    assert sorted(seen) == sorted(orders) and len(seen) == len(set(seen))
    attr = {"UPDATED_AT": "updated_at", "CREATED_AT": "created_at", "PROCESSED_AT": "created_at", "ID": "id"}[sort]
    keys = [(getattr(sim.store.orders[int(g.rsplit("/", 1)[1])], attr), int(g.rsplit("/", 1)[1])) for g in seen]
    assert keys == sorted(keys, reverse=reverse)


async def test_default_sort_is_processed_at(sim: ShopSimulator, client: httpx2.AsyncClient) -> None:
    sim.seed(30, seed=2)
    assert await walk(client, 7) == await walk(client, 7, sort="PROCESSED_AT")


async def test_filtered_paging_by_update_window(sim: ShopSimulator, client: httpx2.AsyncClient) -> None:
    sim.seed(200, seed=11)
    window = "updated_at:>='2026-07-30T00:00:00Z' AND updated_at:<'2026-08-01T00:00:00Z'"
    seen = await walk(client, 30, sort="UPDATED_AT", q=window)
    lo, hi = 1785369600, 1785542400  # 2026-07-30, 2026-08-01
    expected = sorted((o.updated_at, o.id) for o in sim.store.orders.values() if lo <= o.updated_at < hi)
    assert [int(g.rsplit("/", 1)[1]) for g in seen] == [order_id for _, order_id in expected]
    assert 0 < len(seen) < 200


async def test_cursor_is_an_opaque_keyset_of_sort_value_and_id(sim: ShopSimulator, client: httpx2.AsyncClient) -> None:
    order = sim.create_order(lines=[("SKU-1", 1)])
    connection = await page(client, first=1, sort="UPDATED_AT")
    decoded = json.loads(base64.b64decode(connection["edges"][0]["cursor"]))
    assert decoded == {"last_id": int(order.rsplit("/", 1)[1]), "last_value": "2026-08-03T12:00:00Z"}
    assert connection["pageInfo"]["endCursor"] == connection["edges"][0]["cursor"]


async def test_an_order_updated_mid_paging_moves_behind_the_cursor(
    sim: ShopSimulator, clock: SimClock, client: httpx2.AsyncClient
) -> None:
    """Shopify evaluates "after this key" at request time: an order updated while a client pages by
    UPDATED_AT leaves its old place and reappears at the end, so the client sees it twice."""
    orders = [sim.create_order(lines=[("SKU-1", 1)]) for _ in range(6)]
    for order in orders:  # distinct update times, in creation order
        clock.advance(1)
        sim.touch(order)
    first = await page(client, first=3, sort="UPDATED_AT")
    assert [e["node"]["id"] for e in first["edges"]] == orders[:3]
    clock.advance(10)
    sim.cancel_units(orders[1], sim.line_item_ids(orders[1])[0], 1)  # already seen: moves to the end
    sim.touch(orders[4])  # not yet seen: also moves to the end
    rest = await walk_from(client, first["pageInfo"]["endCursor"])
    assert rest == [orders[3], orders[5], orders[1], orders[4]]


async def walk_from(client: httpx2.AsyncClient, after: str) -> list[str]:
    seen: list[str] = []
    while True:
        connection = await page(client, first=2, after=after, sort="UPDATED_AT")
        seen += [edge["node"]["id"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            return seen
        after = connection["pageInfo"]["endCursor"]


async def test_page_info_both_ways(sim: ShopSimulator, client: httpx2.AsyncClient) -> None:
    for _ in range(5):
        sim.create_order(lines=[("SKU-1", 1)])
    first = await page(client, first=2, sort="ID")
    assert names(first) == ["#1001", "#1002"]
    assert (first["pageInfo"]["hasPreviousPage"], first["pageInfo"]["hasNextPage"]) == (False, True)
    middle = await page(client, first=2, after=first["pageInfo"]["endCursor"], sort="ID")
    assert names(middle) == ["#1003", "#1004"]
    assert (middle["pageInfo"]["hasPreviousPage"], middle["pageInfo"]["hasNextPage"]) == (True, True)
    back = await page(client, last=2, before=middle["pageInfo"]["startCursor"], sort="ID")
    assert names(back) == ["#1001", "#1002"]
    assert (back["pageInfo"]["hasPreviousPage"], back["pageInfo"]["hasNextPage"]) == (False, True)
    tail = await page(client, last=2, sort="ID")
    assert names(tail) == ["#1004", "#1005"]
    assert (tail["pageInfo"]["hasPreviousPage"], tail["pageInfo"]["hasNextPage"]) == (True, False)
    newest_first = await page(client, first=2, sort="ID", reverse=True)
    assert names(newest_first) == ["#1005", "#1004"]
    empty = await page(client, first=2, sort="ID", q="status:cancelled")
    assert empty == {
        "edges": [],
        "pageInfo": {"hasNextPage": False, "hasPreviousPage": False, "startCursor": None, "endCursor": None},
    }


async def test_page_size_limits(sim: ShopSimulator, client: httpx2.AsyncClient) -> None:
    too_big = (await post(client, "{ orders(first: 251) { nodes { id } } }")).json()
    assert too_big["data"] is None
    assert (
        too_big["errors"][0]["message"]
        == "Argument 'first' on Field 'orders' has an invalid value (251). Expected a page size from 0 to 250."
    )
    assert too_big["errors"][0]["locations"] == [{"line": 1, "column": 3}]
    missing = (await post(client, "{ orders { nodes { id } } }")).json()
    assert missing["errors"][0]["message"] == "you must provide one of first or last"
    assert missing["extensions"]["cost"]["actualQueryCost"] == 2  # Shopify charges these
    nested = (await post(client, "{ orders(first: 5) { nodes { lineItems(last: 300) { nodes { id } } } } }")).json()
    assert "'last' on Field 'lineItems'" in nested["errors"][0]["message"]


async def test_a_malformed_cursor_is_a_graphql_error(sim: ShopSimulator, client: httpx2.AsyncClient) -> None:
    sim.create_order(lines=[("SKU-1", 1)])
    for cursor in (
        "garbage",
        base64.b64encode(b'{"last_id": 1}').decode(),
        base64.b64encode(b'{"last_id":1,"last_value":"x"}').decode(),
    ):
        body = (await post(client, PAGE, {"first": 5, "after": cursor, "sort": "UPDATED_AT"})).json()
        assert body["data"] is None
        assert body["errors"][0]["message"].startswith("Invalid cursor")
        assert body["errors"][0]["path"] == ["orders"]


async def test_nested_line_items_page_beyond_250(sim: ShopSimulator, client: httpx2.AsyncClient) -> None:
    order = sim.create_order(lines=[(f"BULK-{i}", 1) for i in range(260)])
    query = """query($id: ID!, $after: String) { order(id: $id) {
        lineItems(first: 250, after: $after) { nodes { id sku } pageInfo { hasNextPage endCursor } } } }"""
    first = (await gql(client, query, {"id": order}))["data"]["order"]["lineItems"]
    assert len(first["nodes"]) == 250 and first["pageInfo"]["hasNextPage"] is True
    second = (await gql(client, query, {"id": order, "after": first["pageInfo"]["endCursor"]}))["data"]["order"][
        "lineItems"
    ]
    assert [n["sku"] for n in second["nodes"]] == [f"BULK-{i}" for i in range(250, 260)]
    assert second["pageInfo"]["hasNextPage"] is False
    assert [n["id"] for n in first["nodes"] + second["nodes"]] == sim.line_item_ids(order)


async def test_nested_refund_lines_page_too(sim: ShopSimulator, client: httpx2.AsyncClient) -> None:
    order = sim.create_order(lines=[("SKU-1", 3), ("SKU-2", 3), ("SKU-3", 3)])
    sim.cancel_order(order)
    query = """query($id: ID!, $after: String) { order(id: $id) { refunds(first: 1) {
        refundLineItems(first: 2, after: $after) { edges { cursor node { quantity lineItem { sku } } } pageInfo { hasNextPage endCursor } } } } }"""
    first = (await gql(client, query, {"id": order}))["data"]["order"]["refunds"][0]["refundLineItems"]
    assert [e["node"]["lineItem"]["sku"] for e in first["edges"]] == ["SKU-1", "SKU-2"]
    second = (await gql(client, query, {"id": order, "after": first["pageInfo"]["endCursor"]}))["data"]["order"][
        "refunds"
    ][0]["refundLineItems"]
    assert [e["node"]["lineItem"]["sku"] for e in second["edges"]] == ["SKU-3"]
    assert second["pageInfo"]["hasNextPage"] is False


async def test_unsupported_sort_keys_say_so(client: httpx2.AsyncClient) -> None:
    body = (await post(client, "{ orders(first: 5, sortKey: TOTAL_PRICE) { nodes { id } } }")).json()
    assert "sortKey TOTAL_PRICE" in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["code"] == "NOT_SIMULATED"
