"""Bulk query operations: lifecycle, result file, Shopify's query rules and concurrency limits."""

from __future__ import annotations

from typing import Any

import httpx2
import orjson
import pytest

from plugins.shopify.simulator import ShopSimulator

from .helpers import ManualTime, client_for, gql

RUN = """mutation($q: String!, $group: Boolean! = true) { bulkOperationRunQuery(query: $q, groupObjects: $group) {
    bulkOperation { id status } userErrors { field message code } } }"""
POLL = """query($id: ID!) { node(id: $id) { ... on BulkOperation {
    id status errorCode objectCount rootObjectCount fileSize url partialDataUrl createdAt completedAt query } } }"""
ORDERS_AND_LINES = """{ orders(query: "status:any") { edges { node {
    id name updatedAt
    lineItems { edges { node { id sku quantity currentQuantity } } }
} } } }"""


async def run(client: httpx2.AsyncClient, query: str, version: str = "2026-07", *, group: bool = True) -> dict[str, Any]:
    return (await gql(client, RUN, {"q": query, "group": group}, version=version))["data"]["bulkOperationRunQuery"]


async def poll(client: httpx2.AsyncClient, op_id: str) -> dict[str, Any]:
    return (await gql(client, POLL, {"id": op_id}))["data"]["node"]


def slow_sim(manual_time: ManualTime, **kwargs: Any) -> ShopSimulator:
    return ShopSimulator(time_source=manual_time, bulk_objects_per_second=10, **kwargs)


async def test_lifecycle_and_jsonl(sim: ShopSimulator, client: httpx2.AsyncClient) -> None:
    orders = sim.seed(12, seed=5)
    created = await run(client, ORDERS_AND_LINES)
    assert created["userErrors"] == []
    assert created["bulkOperation"]["status"] == "CREATED"
    op_id = created["bulkOperation"]["id"]
    assert op_id.startswith("gid://shopify/BulkOperation/")

    done = await poll(client, op_id)
    lines = sum(len(sim.store.orders[int(o.rsplit("/", 1)[1])].lines) for o in orders)
    assert done["status"] == "COMPLETED"
    assert (done["objectCount"], done["rootObjectCount"]) == (str(12 + lines), "12")
    assert done["url"] == f"https://demo-shop.myshopify.com/bulk/{op_id.rsplit('/', 1)[1]}.jsonl"
    assert done["errorCode"] is None and done["partialDataUrl"] is None and done["completedAt"]

    response = await client.get(done["url"].replace(sim.base_url, ""))
    assert response.status_code == 200
    assert int(done["fileSize"]) == len(response.content)
    rows = [orjson.loads(line) for line in response.content.splitlines()]
    assert len(rows) == int(done["objectCount"])
    parents = [row for row in rows if "__parentId" not in row]
    assert [row["id"] for row in parents] == sorted(
        orders, key=lambda g: sim.store.orders[int(g.rsplit("/", 1)[1])].created_at
    )
    seen: set[str] = set()
    for row in rows:  # flat, parents first: every child points at an order already written
        if "__parentId" in row:
            assert row["__parentId"] in seen
            assert set(row) == {"id", "sku", "quantity", "currentQuantity", "__parentId"}
            assert list(row)[-1] == "__parentId"
        else:
            assert set(row) == {"id", "name", "updatedAt"}
            seen.add(row["id"])


async def test_without_grouping_children_are_written_away_from_their_parents(sim: ShopSimulator,
                                                                             client: httpx2.AsyncClient) -> None:
    """``groupObjects: false``: every row is there once, but no child follows its parent; in
    each block of 50 orders the children come first."""
    sim.seed(120, seed=4)
    created = await run(client, ORDERS_AND_LINES, group=False)
    done = await poll(client, created["bulkOperation"]["id"])
    rows = [orjson.loads(line) for line in (await client.get(done["url"].replace(sim.base_url, ""))).content.splitlines()]
    assert len(rows) == int(done["objectCount"])
    roots = [row["id"] for row in rows if "__parentId" not in row]
    assert len(roots) == len(set(roots)) == 120
    children = [row for row in rows if "__parentId" in row]
    assert children and {row["__parentId"] for row in children} <= set(roots)
    positions = {row["id"]: n for n, row in enumerate(rows) if "__parentId" not in row}
    assert all(n < positions[row["__parentId"]] for n, row in enumerate(rows) if "__parentId" in row)


async def test_completion_takes_time_proportional_to_objects(manual_time: ManualTime) -> None:
    sim = slow_sim(manual_time)
    sim.seed(10, seed=1)
    async with client_for(sim) as http:
        op = (await run(http, ORDERS_AND_LINES))["bulkOperation"]
        total = sim.bulk.get(int(op["id"].rsplit("/", 1)[1])).object_count
        running = await poll(http, op["id"])
        assert running["status"] == "RUNNING" and running["url"] is None and running["fileSize"] is None
        manual_time.advance(total / 10 / 2)
        halfway = await poll(http, op["id"])
        assert halfway["status"] == "RUNNING" and int(halfway["objectCount"]) == total // 2
        assert (await http.get(f"/bulk/{op['id'].rsplit('/', 1)[1]}.jsonl")).status_code == 404
        manual_time.advance(total / 10)
        assert (await poll(http, op["id"]))["status"] == "COMPLETED"


@pytest.mark.parametrize(
    ("version", "limit", "code"), [("2025-10", 1, "OPERATION_IN_PROGRESS"), ("2026-07", 5, "LIMIT_REACHED")]
)
async def test_concurrency_limit_depends_on_the_api_version(
    manual_time: ManualTime, version: str, limit: int, code: str
) -> None:
    sim = slow_sim(manual_time)
    sim.seed(5, seed=1)
    async with client_for(sim) as http:
        for _ in range(limit):
            assert (await run(http, ORDERS_AND_LINES, version))["userErrors"] == []
        refused = await run(http, ORDERS_AND_LINES, version)
        assert refused["bulkOperation"] is None
        [error] = refused["userErrors"]
        assert error["code"] == code
        if version == "2025-10":
            assert error["message"].startswith("A bulk query operation for this app and shop is already in progress")
        manual_time.advance(3600)  # the running ones finish
        assert (await run(http, ORDERS_AND_LINES, version))["userErrors"] == []


async def test_cancel(manual_time: ManualTime) -> None:
    sim = slow_sim(manual_time)
    sim.seed(5, seed=1)
    cancel = "mutation($id: ID!) { bulkOperationCancel(id: $id) { bulkOperation { id status } userErrors { field message } } }"
    async with client_for(sim) as http:
        op = (await run(http, ORDERS_AND_LINES))["bulkOperation"]
        canceling = (await gql(http, cancel, {"id": op["id"]}))["data"]["bulkOperationCancel"]
        assert canceling == {"bulkOperation": {"id": op["id"], "status": "CANCELING"}, "userErrors": []}
        assert (await poll(http, op["id"]))["status"] == "CANCELED"
        again = (await gql(http, cancel, {"id": op["id"]}))["data"]["bulkOperationCancel"]
        assert again["userErrors"][0]["message"] == "A bulk operation cannot be canceled when it is canceled"
        assert (await run(http, ORDERS_AND_LINES))["userErrors"] == []  # a canceled one no longer counts


async def test_polling_paths(sim: ShopSimulator, client: httpx2.AsyncClient) -> None:
    sim.seed(3, seed=1)
    op = (await run(client, ORDERS_AND_LINES))["bulkOperation"]
    by_id = await gql(client, "query($id: ID!) { bulkOperation(id: $id) { id status } }", {"id": op["id"]})
    assert by_id["data"]["bulkOperation"] == {"id": op["id"], "status": "COMPLETED"}
    current = await gql(client, "{ currentBulkOperation { id status objectCount } }", version="2025-10")
    assert current["data"]["currentBulkOperation"]["id"] == op["id"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("{ shop { name } }", "Bulk queries must contain at least one connection."),
        ("{ orders { nodes { id } } }", "Selecting via 'nodes' is not supported"),
        (
            "{ orders { edges { node { id refunds { refundLineItems { edges { node { id } } } } } } } }",
            "Queries that contain a connection field within a list field are not currently supported.",
        ),
        ("{ orders { edges { node { name lineItems { edges { node { id } } } } } } }", "must select the 'id' field"),
        (
            "{ orders { edges { node { id fulfillmentOrders { edges { node { id lineItems { edges { node { id } } } } } } } } } }",
            "nesting depth greater than 2",
        ),
        ('{ node(id: "gid://shopify/Order/1") { id } }', "top level `node` field"),
        ("{ orders { edges { node { id nope } } } }", "Invalid bulk query: Cannot query field 'nope' on type 'Order'."),
        ("{ orders { edges { node { id } } ", "Invalid bulk query: Syntax Error"),
        (
            'mutation { bulkOperationCancel(id: "x") { userErrors { message } } }',
            "Only `query` operations are supported.",
        ),
        (
            "{ products { edges { node { id } } } }",
            "only runs bulk queries over a single top-level `orders` connection",
        ),
    ],
)
async def test_bulk_query_rules(sim: ShopSimulator, client: httpx2.AsyncClient, query: str, message: str) -> None:
    result = await run(client, query)
    assert result["bulkOperation"] is None
    assert any(message in error["message"] for error in result["userErrors"]), result["userErrors"]
    assert all(error["code"] == "INVALID" and error["field"] == ["query"] for error in result["userErrors"])


async def test_the_result_streams_in_chunks(manual_time: ManualTime) -> None:
    sim = ShopSimulator(time_source=manual_time)
    sim.seed(2000, seed=9)
    async with client_for(sim) as http:
        op = (await run(http, ORDERS_AND_LINES))["bulkOperation"]
    record = sim.bulk.get(int(op["id"].rsplit("/", 1)[1]))
    chunks = list(sim.bulk.jsonl(record))
    assert len(chunks) > 5 and max(len(c) for c in chunks) < 80 * 1024  # bounded, not one big string
    assert sum(len(c) for c in chunks) == sim.bulk.file_size(record)
