"""Query cost in the manner of Shopify's calculated cost: objects 1, connections 2 + rows x row,
scalars 0. Every reply says what it cost; a document over ``max_query_cost`` is refused before it runs."""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest

from core import TokenRole
from core.apitokens import issue_token
from core.queues import QueueBackend
from gateway.api.app import create_app

from .conftest import Api, build_runtime
from .seed import new_shop, seed

DEEP_PAGE = "{ orders(first: 250) { nodes { items { cancellations { item { order { id } } } } } } }"


async def cost_of(api: Api, document: str, variables: dict | None = None) -> dict:
    return (await api.gql(document, variables))["extensions"]["cost"]


@pytest.mark.parametrize(("document", "cost"), [
    ("{ shops { id name } }", 1),
    ("{ orders(first: 250) { nodes { id } } }", 2 + 250 * 1),
    ("{ orders(first: 250) { edges { cursor node { id } } } }", 2 + 250 * 1),  # an edge is free
    ("{ orders { totalCount nodes { id items { sku } } pageInfo { hasNextPage } } }", 2 + 50 * 2 + 1),
    ("{ orders(first: 10) { nodes { ...Lines } } } fragment Lines on Order { items { sku } a: items { sku } }",
     2 + 10 * (1 + 2)),
    ("{ __schema { types { name } } }", 0),
])
async def test_every_reply_carries_its_requested_cost(api: Api, document: str, cost: int) -> None:
    assert await cost_of(api, document) == {"requestedQueryCost": cost, "maximumAvailable": 1000}


async def test_page_sizes_from_variables_and_defaults_are_priced(api: Api) -> None:
    query = "query($n: Int) { orders(first: $n) { nodes { id } } }"
    assert (await cost_of(api, query, {"n": 7}))["requestedQueryCost"] == 2 + 7
    assert (await cost_of(api, query))["requestedQueryCost"] == 2 + 50  # the argument's default
    with_default = "query($n: Int = 3) { orders(first: $n) { nodes { id } } }"
    assert (await cost_of(api, with_default))["requestedQueryCost"] == 2 + 3


async def test_a_document_over_the_limit_is_refused_before_it_runs(api: Api) -> None:
    shop, _ = new_shop(api.runtime, "alpha")
    seed(api.runtime, shop, 3)
    body = await api.gql(DEEP_PAGE)
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert "Query cost is 1252, which exceeds the single query max cost limit (1000)" in error["message"]
    assert body["extensions"]["cost"] == {"requestedQueryCost": 1252, "maximumAvailable": 1000}
    # the same shape with a smaller page is served
    smaller = await api.gql(DEEP_PAGE.replace("first: 250", "first: 100"))
    assert "errors" not in smaller and len(smaller["data"]["orders"]["nodes"]) == 3
    assert smaller["extensions"]["cost"]["requestedQueryCost"] == 2 + 100 * 5


async def test_a_page_over_the_maximum_is_priced_at_the_maximum_and_refused_by_its_field(api: Api) -> None:
    error = await api.error("{ orders(first: 100000) { nodes { id } } }")
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and "at most 250" in error["message"]


async def test_mutations_are_priced_too(api: Api) -> None:
    body = await api.gql('mutation { revokeApiToken(id: "gid://sync-gateway/ApiToken/999") { userErrors { message } } }')
    assert body["extensions"]["cost"] == {"requestedQueryCost": 2, "maximumAvailable": 1000}


async def test_the_limit_follows_the_settings(tmp_path: Path, database_url: str) -> None:
    runtime = build_runtime(tmp_path, database_url, settings={"max_query_cost": 50})
    queue = QueueBackend.from_settings(runtime.settings)
    token = issue_token(runtime, name="read", role=TokenRole.READ)[1]
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=create_app(runtime, queue)),
                                  base_url="http://test") as client:
        headers = {"Authorization": f"Bearer {token}"}
        refused = (await client.post("/graphql", json={"query": "{ orders { nodes { id } } }"}, headers=headers)).json()
        assert refused["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
        assert refused["extensions"]["cost"] == {"requestedQueryCost": 52, "maximumAvailable": 50}
        served = (await client.post("/graphql", json={"query": "{ orders(first: 48) { nodes { id } } }"},
                                    headers=headers)).json()
        assert served["data"] == {"orders": {"nodes": []}}
    queue.stop()
    runtime.close()
