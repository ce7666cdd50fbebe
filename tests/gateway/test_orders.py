"""Orders, items and cancellations: every field, every filter, paging in every sort order."""

from __future__ import annotations

from datetime import timedelta

import pytest

from .conftest import Api
from .seed import T0, new_shop, seed

ORDER_FIELDS = """
  id shop shopifyId name status createdAt updatedAt cancelledAt cancelReason syncedAt canceledQuantity
  items { id shopifyId sku title quantity fulfilledQuantity canceledQuantity status
          cancellations { id quantity canceledAt recordedAt runId reason evidence shop item { id } order { id } }
          order { id } }
"""

ORDERS = """
query Orders($first: Int, $after: String, $filter: OrderFilter, $sortKey: OrderSortKey, $reverse: Boolean) {
  orders(first: $first, after: $after, filter: $filter, sortKey: $sortKey, reverse: $reverse) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id name updatedAt createdAt } }
    nodes { id name updatedAt createdAt status }
  }
}
"""


@pytest.fixture
async def shops(api: Api):
    alpha, _ = new_shop(api.runtime, "alpha")
    beta, _ = new_shop(api.runtime, "beta")
    seed(api.runtime, alpha, 12)   # kinds cycle open, partial, canceled
    seed(api.runtime, beta, 5)
    return alpha, beta


async def walk(api: Api, *, first: int, **arguments) -> list[dict]:
    """Every node of a listing, page by page; checks the page info on the way."""
    seen: list[dict] = []
    after = None
    pages = 0
    while True:
        data = await api.data(ORDERS, {"first": first, "after": after, **arguments})
        connection = data["orders"]
        info = connection["pageInfo"]
        assert [e["node"] for e in connection["edges"]] == [
            {k: n[k] for k in ("id", "name", "updatedAt", "createdAt")} for n in connection["nodes"]]
        assert info["hasPreviousPage"] is (after is not None)
        if connection["edges"]:
            assert info["startCursor"] == connection["edges"][0]["cursor"]
            assert info["endCursor"] == connection["edges"][-1]["cursor"]
        seen.extend(connection["nodes"])
        pages += 1
        assert pages < 100
        if not info["hasNextPage"]:
            return seen
        after = info["endCursor"]


async def gid_of(api: Api, shop: str, n: int) -> str:
    data = await api.data("query($s: String!, $id: ID!) { orderByShopifyId(shop: $s, shopifyId: $id) { id } }",
                          {"s": shop, "id": f"gid://shopify/Order/{shop}{n}"})
    return data["orderByShopifyId"]["id"]


async def test_an_order_with_its_items_and_cancellations(api: Api, shops) -> None:
    gid = await gid_of(api, "alpha", 1)
    data = await api.data(f"query($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}", {"id": gid})
    order = data["order"]
    # order #1 of alpha is "partial": one unit of its first line refunded before fulfilment
    assert order["id"] == gid and gid.startswith("gid://sync-gateway/Order/")
    assert order["shop"] == "alpha"
    assert order["shopifyId"] == "gid://shopify/Order/alpha1"
    assert order["name"] == "#ALPHA1001"
    assert order["status"] == "OPEN"
    assert order["cancelledAt"] is None and order["cancelReason"] is None
    assert order["canceledQuantity"] == 1
    first, second = order["items"]
    assert first["status"] == "PARTIALLY_CANCELED"
    assert (first["quantity"], first["canceledQuantity"], first["fulfilledQuantity"]) == (3, 1, 0)
    assert first["sku"] == "SKU-alpha-1-0" and first["title"] == "Widget 0"
    assert first["order"] == {"id": order["id"]}
    [cancellation] = first["cancellations"]
    assert cancellation["quantity"] == 1
    assert cancellation["reason"] == "refund: cancel"
    assert cancellation["runId"] is None
    assert cancellation["shop"] == "alpha"
    assert cancellation["item"] == {"id": first["id"]}
    assert cancellation["order"] == {"id": order["id"]}
    assert cancellation["evidence"]["refundLines"][0]["restockType"] == "CANCEL"
    assert second["status"] == "OPEN" and second["cancellations"] == []

    canceled = (await api.data("query($id: ID!) { order(id: $id) { status cancelledAt cancelReason "
                               "canceledQuantity items { status } } }", {"id": await gid_of(api, "alpha", 2)}))["order"]
    assert canceled["status"] == "CANCELED"
    assert canceled["cancelReason"] == "CUSTOMER" and canceled["cancelledAt"] is not None
    assert canceled["canceledQuantity"] == 6
    assert {i["status"] for i in canceled["items"]} == {"CANCELED"}


async def test_single_lookups_return_null_for_unknown_ids(api: Api, shops) -> None:
    data = await api.data("""{
      order(id: "gid://sync-gateway/Order/999999") { id }
      byShopify: orderByShopifyId(shop: "alpha", shopifyId: "gid://shopify/Order/nope") { id }
      noShop: orderByShopifyId(shop: "nowhere", shopifyId: "gid://shopify/Order/alpha1") { id }
      node(id: "gid://sync-gateway/OrderItem/999999") { id }
    }""")
    assert data == {"order": None, "byShopify": None, "noShop": None, "node": None}


async def test_order_by_shopify_id(api: Api, shops) -> None:
    data = await api.data("""{
      a: orderByShopifyId(shop: "alpha", shopifyId: "gid://shopify/Order/alpha4") { name shop }
      b: orderByShopifyId(shop: "beta", shopifyId: "gid://shopify/Order/beta4") { name shop }
      wrongShop: orderByShopifyId(shop: "beta", shopifyId: "gid://shopify/Order/alpha4") { name }
    }""")
    assert data == {"a": {"name": "#ALPHA1004", "shop": "alpha"}, "b": {"name": "#BETA1004", "shop": "beta"},
                    "wrongShop": None}


async def test_order_by_shopify_id_accepts_the_bare_number(api: Api) -> None:
    shop, _ = new_shop(api.runtime, "numeric")
    from .seed import apply, source_order

    apply(api.runtime, shop, [source_order(42, shop="7")])  # source id gid://shopify/Order/42
    data = await api.data('{ orderByShopifyId(shop: "numeric", shopifyId: "42") { shopifyId } }')
    assert data["orderByShopifyId"] == {"shopifyId": "gid://shopify/Order/42"}


async def test_node_resolves_every_order_type(api: Api, shops) -> None:
    order_id = await gid_of(api, "alpha", 1)
    order = (await api.data("query($id: ID!) { order(id: $id) { items { id cancellations { id } } } }",
                            {"id": order_id}))["order"]
    item_id = order["items"][0]["id"]
    cancellation_id = order["items"][0]["cancellations"][0]["id"]
    data = await api.data("""query($o: ID!, $i: ID!, $c: ID!) {
      o: node(id: $o) { __typename id ... on Order { name } }
      i: node(id: $i) { __typename id ... on OrderItem { sku } }
      c: node(id: $c) { __typename id ... on ItemCancellation { quantity } }
    }""", {"o": order_id, "i": item_id, "c": cancellation_id})
    assert data["o"] == {"__typename": "Order", "id": order_id, "name": "#ALPHA1001"}
    assert data["i"] == {"__typename": "OrderItem", "id": item_id, "sku": "SKU-alpha-1-0"}
    assert data["c"] == {"__typename": "ItemCancellation", "id": cancellation_id, "quantity": 1}


@pytest.mark.parametrize("sort_key", ["UPDATED_AT", "CREATED_AT", "ID", "NAME"])
@pytest.mark.parametrize("reverse", [False, True])
async def test_paging_returns_every_order_exactly_once_in_order(api: Api, shops, sort_key: str, reverse: bool) -> None:
    everything = await walk(api, first=250, sortKey=sort_key, reverse=reverse)
    assert len(everything) == 17
    paged = await walk(api, first=4, sortKey=sort_key, reverse=reverse)
    assert [n["id"] for n in paged] == [n["id"] for n in everything]
    assert len({n["id"] for n in paged}) == 17

    def key(node: dict):
        value = {"UPDATED_AT": node["updatedAt"], "CREATED_AT": node["createdAt"], "NAME": node["name"],
                 "ID": 0}[sort_key]
        return (value, int(node["id"].rsplit("/", 1)[1]))

    assert paged == sorted(paged, key=key, reverse=reverse)


async def test_default_sort_is_updated_at_ascending(api: Api, shops) -> None:
    default = await walk(api, first=250)
    explicit = await walk(api, first=250, sortKey="UPDATED_AT", reverse=False)
    assert default == explicit
    assert [n["updatedAt"] for n in default] == sorted(n["updatedAt"] for n in default)


async def test_filters(api: Api, shops) -> None:
    async def names(filter: dict) -> set[str]:
        nodes = await walk(api, first=5, filter=filter)
        total = (await api.data(ORDERS, {"first": 1, "filter": filter}))["orders"]["totalCount"]
        assert total == len(nodes)
        return {n["name"] for n in nodes}

    assert len(await names({})) == 17
    assert await names({"shop": "beta"}) == {f"#BETA{1000 + n}" for n in range(5)}
    assert await names({"shop": "no-such-shop"}) == set()
    assert await names({"shop": "alpha", "status": "CANCELED"}) == {f"#ALPHA{1000 + n}" for n in (2, 5, 8, 11)}
    assert await names({"shop": "alpha", "status": "OPEN"}) == {f"#ALPHA{1000 + n}" for n in range(12) if n % 3 != 2}
    assert await names({"shop": "alpha", "hasCanceledItems": True}) == {
        f"#ALPHA{1000 + n}" for n in range(12) if n % 3 != 0}
    assert await names({"shop": "alpha", "hasCanceledItems": False}) == {f"#ALPHA{1000 + n}" for n in range(0, 12, 3)}
    # updated_at of order n is T0 + n minutes + 1 hour + (n % 7) seconds; ranges are half-open
    after = (T0 + timedelta(hours=1, minutes=10)).isoformat()
    assert await names({"shop": "alpha", "updatedAfter": after}) == {"#ALPHA1010", "#ALPHA1011"}
    before = (T0 + timedelta(hours=1, minutes=2)).isoformat()
    assert await names({"shop": "alpha", "updatedBefore": before}) == {"#ALPHA1000", "#ALPHA1001"}
    # canceled at: the refund's time (partial) or the order's cancelledAt (canceled) = its updatedAt
    window = {"canceledAfter": (T0 + timedelta(hours=1, minutes=4)).isoformat(),
              "canceledBefore": (T0 + timedelta(hours=1, minutes=8)).isoformat()}
    assert await names({"shop": "alpha", **window}) == {"#ALPHA1004", "#ALPHA1005", "#ALPHA1007"}
    assert await names({"search": "ALPHA1011"}) == {"#ALPHA1011"}
    assert await names({"search": "SKU-beta-3-1"}) == {"#BETA1003"}
    assert await names({"search": "nothing-like-this"}) == set()


async def test_naive_filter_times_are_utc(api: Api, shops) -> None:
    naive = (T0 + timedelta(hours=1, minutes=10)).replace(tzinfo=None).isoformat()
    nodes = await walk(api, first=50, filter={"shop": "alpha", "updatedAfter": naive})
    assert {n["name"] for n in nodes} == {"#ALPHA1010", "#ALPHA1011"}


async def test_empty_listing(api: Api) -> None:
    data = await api.data(ORDERS, {"first": 10})
    assert data["orders"] == {"totalCount": 0, "edges": [], "nodes": [], "pageInfo": {
        "hasNextPage": False, "hasPreviousPage": False, "startCursor": None, "endCursor": None}}


CANCELLATIONS = """
query($first: Int, $after: String, $shop: String, $since: DateTime, $until: DateTime) {
  cancellations(first: $first, after: $after, shop: $shop, since: $since, until: $until) {
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { id } }
    nodes { id quantity recordedAt shop order { name } item { sku } }
  }
}
"""


async def test_cancellations_feed_pages_oldest_first(api: Api, shops) -> None:
    seen, after = [], None
    while True:
        data = (await api.data(CANCELLATIONS, {"first": 3, "after": after}))["cancellations"]
        seen.extend(data["nodes"])
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
    # alpha: 4 partial (1 row each) + 4 canceled (2 rows each) = 12; beta: 2 partial + 1 canceled (2) = 4
    assert len(seen) == 16
    assert len({n["id"] for n in seen}) == 16
    assert [(n["recordedAt"], int(n["id"].rsplit("/", 1)[1])) for n in seen] == sorted(
        (n["recordedAt"], int(n["id"].rsplit("/", 1)[1])) for n in seen)
    beta = (await api.data(CANCELLATIONS, {"first": 50, "shop": "beta"}))["cancellations"]["nodes"]
    assert len(beta) == 4 and {n["shop"] for n in beta} == {"beta"}
    assert (await api.data(CANCELLATIONS, {"shop": "nowhere"}))["cancellations"]["nodes"] == []


async def test_cancellations_since_and_until_follow_recorded_time(api: Api, shops) -> None:
    everything = (await api.data(CANCELLATIONS, {"first": 50}))["cancellations"]["nodes"]
    recorded = sorted({n["recordedAt"] for n in everything})
    later = (await api.data(CANCELLATIONS, {"first": 50, "since": "2999-01-01T00:00:00+00:00"}))
    assert later["cancellations"]["nodes"] == []
    earlier = await api.data(CANCELLATIONS, {"first": 50, "until": "2000-01-01T00:00:00+00:00"})
    assert earlier["cancellations"]["nodes"] == []
    window = await api.data(CANCELLATIONS, {"first": 50, "since": recorded[0], "until": "2999-01-01T00:00:00Z"})
    assert len(window["cancellations"]["nodes"]) == len(everything)


NEWEST_CANCELLATIONS = """
query($first: Int, $after: String, $shop: String, $since: DateTime, $until: DateTime) {
  cancellations(first: $first, after: $after, shop: $shop, since: $since, until: $until, reverse: true) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id } }
    nodes { id recordedAt shop }
  }
}
"""


async def _every_page(api: Api, document: str, first: int, **variables) -> list[dict]:
    seen, after = [], None
    while True:
        data = (await api.data(document, {"first": first, "after": after, **variables}))["cancellations"]
        info = data["pageInfo"]
        assert info["hasPreviousPage"] is (after is not None)
        assert [e["node"]["id"] for e in data["edges"]] == [n["id"] for n in data["nodes"]]
        if data["edges"]:
            assert info["endCursor"] == data["edges"][-1]["cursor"]
            assert info.get("startCursor", data["edges"][0]["cursor"]) == data["edges"][0]["cursor"]
        seen.extend(data["nodes"])
        if not info["hasNextPage"]:
            return seen
        after = info["endCursor"]


async def test_cancellations_newest_first_page_back_through_the_feed_in_reverse(api: Api, shops) -> None:
    oldest_first = [n["id"] for n in await _every_page(api, CANCELLATIONS, 50)]
    assert len(oldest_first) == 16
    for first in (1, 3, 50):
        assert [n["id"] for n in await _every_page(api, NEWEST_CANCELLATIONS, first)] == oldest_first[::-1]
    beta = await _every_page(api, NEWEST_CANCELLATIONS, 3, shop="beta")
    assert [n["id"] for n in beta] == [n["id"] for n in await _every_page(api, CANCELLATIONS, 3, shop="beta")][::-1]
    assert {n["shop"] for n in beta} == {"beta"}
    assert await _every_page(api, NEWEST_CANCELLATIONS, 3, until="2000-01-01T00:00:00Z") == []
    assert await _every_page(api, NEWEST_CANCELLATIONS, 3, shop="nowhere") == []


async def test_cancellation_cursors_hold_only_in_the_direction_that_made_them(api: Api, shops) -> None:
    forward = (await api.data(CANCELLATIONS, {"first": 2}))["cancellations"]["pageInfo"]["endCursor"]
    backward = (await api.data(NEWEST_CANCELLATIONS, {"first": 2}))["cancellations"]["pageInfo"]["endCursor"]
    for document, cursor in ((NEWEST_CANCELLATIONS, forward), (CANCELLATIONS, backward)):
        error = await api.error(document, {"first": 2, "after": cursor})
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert "another listing or sort order" in error["message"]
