"""The fast compiled executor answers exactly like graphql-core's reference executor."""

from __future__ import annotations

from typing import Any

import pytest

from plugins.shopify.simulator import ShopSimulator, SimClock

from .helpers import NOW, ManualTime, client_for, post

RICH = """
query Rich($first: Int!, $withRefunds: Boolean!, $skipLines: Boolean = false, $ids: [ID!]!) {
  __typename
  orders(first: $first, sortKey: UPDATED_AT, reverse: true, query: "status:any updated_at:>2026-01-01") {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges {
      cursor
      node {
        __typename
        ...OrderFields
        lines: lineItems(first: 3) @skip(if: $skipLines) {
          edges { cursor node { id sku currentQuantity } }
          pageInfo { hasNextPage endCursor }
        }
        refunds(first: 3) @include(if: $withRefunds) {
          id note createdAt
          refundLineItems(first: 4) { nodes { quantity restockType restocked lineItem { id name } priceSet { shopMoney { amount currencyCode } } } }
        }
        fulfillments(first: 2) { name totalQuantity fulfillmentLineItems(first: 5) { nodes { quantity lineItem { sku } } } }
      }
    }
  }
  count: ordersCount(query: "status:open") { count precision }
  nodes(ids: $ids) {
    __typename
    id
    ... on Order { name lineItems(first: 2) { nodes { id } } }
    ... on LineItem { sku unfulfilledQuantity }
  }
  missing: order(id: "gid://shopify/Order/1") { id }
  shop { name currencyCode plan { displayName } }
}

fragment OrderFields on Order {
  id legacyResourceId name createdAt updatedAt processedAt cancelledAt cancelReason closed closedAt edited
  displayFulfillmentStatus displayFinancialStatus currencyCode email
  totalPriceSet { shopMoney { amount } presentmentMoney { currencyCode } }
  currentTotalPriceSet { shopMoney { amount } }
}
"""


async def answer(executor: str, variables: dict[str, Any], query: str = RICH) -> dict[str, Any]:
    sim = ShopSimulator(clock=SimClock(NOW, frozen=True), time_source=ManualTime(), executor=executor)  # type: ignore[arg-type]
    orders = sim.seed(40, seed=21, max_lines=6)
    variables = {
        **variables,
        "ids": [orders[0], sim.line_item_ids(orders[1])[0], "gid://shopify/Order/3", "gid://shopify/Customer/1"],
    }
    async with client_for(sim) as http:
        body = (await post(http, query, variables)).json()
    return body


@pytest.mark.parametrize(
    "variables", [{"first": 12, "withRefunds": True}, {"first": 4, "withRefunds": False, "skipLines": True}]
)
async def test_both_engines_return_identical_responses(variables: dict[str, Any]) -> None:
    compiled, reference = await answer("compiled", variables), await answer("graphql-core", variables)
    assert "errors" not in compiled, compiled
    assert compiled == reference
    assert compiled["data"]["nodes"][2:] == [None, None]
    assert compiled["data"]["missing"] is None


async def test_both_engines_report_field_errors_the_same_way() -> None:
    query = """query($ids: [ID!]!) { nodes(ids: $ids) { id } b: order(id: "nope") { id } a: orders(first: 1, after: "bad") { nodes { id } } }"""
    compiled, reference = await answer("compiled", {}, query), await answer("graphql-core", {}, query)
    assert compiled == reference
    assert compiled["data"] is None  # orders is non-null: the error nulls the whole response
    messages = sorted(error["message"] for error in compiled["errors"])
    assert messages == ["Invalid cursor for current pagination: 'bad'", "Invalid global id 'nope'"]
