"""Calculated query cost: the measured Shopify numbers, the model behind them, and the charge."""

from __future__ import annotations

import httpx2
import pytest

from plugins.shopify.simulator import ShopSimulator, page_multiplier

from .helpers import ManualTime, client_for, gql, post

ORDERS_IDS = "{ orders(first: 250) { nodes { id } } }"
ORDERS_WITH_LINE_IDS = "{ orders(first: 250) { nodes { id lineItems(first: 250) { nodes { id } } } } }"


def cost_of(body: dict) -> tuple[int, int]:
    cost = body["extensions"]["cost"]
    return cost["requestedQueryCost"], cost["actualQueryCost"]


@pytest.mark.parametrize(("n", "k"), [(0, 0), (1, 1), (2, 2), (5, 5), (6, 6), (10, 7), (50, 9), (100, 10), (250, 11)])
def test_page_multiplier(n: int, k: int) -> None:
    assert page_multiplier(n) == k


async def test_measured_cost_of_250_order_ids_is_13(sim: ShopSimulator, client: httpx2.AsyncClient) -> None:
    sim.seed(300)
    body = await gql(client, ORDERS_IDS)
    assert cost_of(body) == (13, 13)  # 2 + k(250) x 1, all 250 rows returned


async def test_measured_cost_with_nested_line_item_ids_is_156(sim: ShopSimulator, client: httpx2.AsyncClient) -> None:
    body = await gql(client, ORDERS_WITH_LINE_IDS)
    assert cost_of(body)[0] == 156  # 2 + 11 x (1 + 2 + 11 x 1)


async def test_requested_cost_is_the_same_for_nodes_and_edges(sim: ShopSimulator, client: httpx2.AsyncClient) -> None:
    both = "{ orders(first: 250) { edges { cursor node { id } } nodes { id } pageInfo { hasNextPage } } }"
    edges = "{ orders(first: 250) { edges { node { id } } } }"
    assert cost_of(await gql(client, both))[0] == cost_of(await gql(client, edges))[0] == 13


async def test_actual_cost_follows_what_was_returned(sim: ShopSimulator, client: httpx2.AsyncClient) -> None:
    first = sim.create_order(lines=[("SKU-1", 1), ("SKU-2", 1)])
    sim.create_order(lines=[("SKU-3", 1), ("SKU-4", 1), ("SKU-5", 1), ("SKU-6", 1)])
    assert first
    body = await gql(client, ORDERS_WITH_LINE_IDS)
    # 2 orders: 2 + k(2) x mean(1 + 2 + k(2) x 1 = 5, 1 + 2 + k(4) x 1 = 7) = 2 + 2 x 6 = 14
    assert cost_of(body) == (156, 14)


async def test_an_empty_page_costs_two(client: httpx2.AsyncClient) -> None:
    assert cost_of(await gql(client, ORDERS_IDS)) == (13, 2)


async def test_lists_with_first_use_the_multiplier_and_objects_cost_one(
    sim: ShopSimulator, client: httpx2.AsyncClient
) -> None:
    order = sim.create_order(lines=[("SKU-1", 2)])
    [only] = sim.line_item_ids(order)
    sim.cancel_units(order, only, 1)
    query = """query($id: ID!) { order(id: $id) {
        id totalPriceSet { shopMoney { amount } }
        refunds(first: 10) { id refundLineItems(first: 5) { nodes { id lineItem { id } } } }
    } }"""
    body = await gql(client, query, {"id": order})
    # order 1 + money (1 + 1) + refunds k(10) x (1 + 2 + k(5) x (1 + 1)) = 1 + 2 + 7 x 13 = 94
    # actual: one refund with one line: 1 + 2 + k(1) x (1 + 2 + k(1) x 2) = 1 + 2 + 5 = 8
    assert cost_of(body) == (94, 8)


async def test_interfaces_cost_the_dearest_fragment(sim: ShopSimulator, client: httpx2.AsyncClient) -> None:
    order = sim.create_order(lines=[("SKU-1", 2)])
    query = """query($id: ID!) { node(id: $id) {
        id
        ... on Order { lineItems(first: 10) { nodes { id } } }
        ... on LineItem { sku }
    } }"""
    body = await gql(client, query, {"id": order})
    assert cost_of(body) == (1 + 2 + 7, 1 + 2 + 1)


async def test_variables_decide_the_page_size(client: httpx2.AsyncClient) -> None:
    query = "query($n: Int!) { orders(first: $n) { nodes { id } } }"
    assert cost_of(await gql(client, query, {"n": 10}))[0] == 9
    assert cost_of(await gql(client, query, {"n": 100}))[0] == 12


async def test_mutations_cost_ten_whatever_they_select(client: httpx2.AsyncClient) -> None:
    query = """mutation { bulkOperationRunQuery(query: "{ orders { edges { node { id } } } }", groupObjects: false) {
        bulkOperation { id status } userErrors { field message code } } }"""
    assert cost_of(await gql(client, query)) == (10, 10)


async def test_the_bucket_is_charged_the_actual_cost(sim: ShopSimulator, client: httpx2.AsyncClient) -> None:
    sim.create_order(lines=[("SKU-1", 1)])
    body = await gql(client, ORDERS_WITH_LINE_IDS)
    requested, actual = cost_of(body)
    assert (requested, actual) == (156, 6)  # 2 + k(1) x (1 + 2 + k(1) x 1)
    status = body["extensions"]["cost"]["throttleStatus"]
    assert status == {"maximumAvailable": 2000.0, "currentlyAvailable": 2000 - actual, "restoreRate": 100.0}
    assert sim.stats.points_spent == actual and sim.stats.requested_points == requested


async def test_plan_presets_set_the_bucket(manual_time: ManualTime) -> None:
    sim = ShopSimulator(plan="plus", time_source=manual_time)
    async with client_for(sim) as http:
        status = (await gql(http, "{ shop { name plan { shopifyPlus } } }"))["extensions"]["cost"]["throttleStatus"]
    assert (status["maximumAvailable"], status["restoreRate"]) == (20000.0, 1000.0)


async def test_max_cost_exceeded_is_refused_without_charge(sim: ShopSimulator, client: httpx2.AsyncClient) -> None:
    query = """{ orders(first: 250) { nodes { id
        lineItems(first: 250) { nodes { id refundableQuantity } }
        refunds(first: 20) { id refundLineItems(first: 250) { nodes { id } } } } } }"""
    response = await post(client, query)
    assert response.status_code == 200
    body = response.json()
    cost = 2 + 11 * (1 + 13 + 8 * (1 + 13))  # refunds(first: 20): k(20) = 8 refunds, each 1 + a connection
    assert cost == 1388
    assert body == {
        "errors": [
            {
                "message": f"Query cost is {cost}, which exceeds the single query max cost limit (1000).\n\n"
                "See https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\n"
                "cost of a query is calculated.\n\n"
                "To query larger amounts of data with fewer limits, bulk operations should be used instead.\n"
                "See https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n",
                "extensions": {"code": "MAX_COST_EXCEEDED", "cost": cost, "maxCost": 1000},
            }
        ]
    }
    assert sim.bucket.available() == 2000.0
    assert sim.stats.max_cost_exceeded == 1
