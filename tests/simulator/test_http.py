"""HTTP framing and error shapes, as Shopify's Admin GraphQL endpoint answers them."""

from __future__ import annotations

import asyncio

import httpx2
import pytest

from plugins.shopify.simulator import ShopSimulator

from .helpers import TOKEN, ManualTime, client_for, gql, post

SHOP = "{ shop { name myshopifyDomain plan { displayName shopifyPlus } } }"


async def test_missing_or_wrong_token_is_401(client: httpx2.AsyncClient) -> None:
    for token in (None, "shpat_wrong"):
        response = await post(client, SHOP, token=token)
        assert response.status_code == 401
        assert response.json() == {
            "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
        }


@pytest.mark.parametrize("version", ["2024-01", "2026-10", "unstable", "latest"])
async def test_unsupported_version_is_404(client: httpx2.AsyncClient, version: str) -> None:
    # Real Shopify falls forward to the oldest supported version; the simulator refuses instead.
    response = await post(client, SHOP, version=version)
    assert response.status_code == 404
    assert response.json() == {"errors": "Not Found"}


async def test_api_versions_can_be_restricted(manual_time: ManualTime) -> None:
    sim = ShopSimulator(api_versions=("2025-10",), time_source=manual_time)
    async with client_for(sim) as http:
        assert (await post(http, SHOP, version="2026-07")).status_code == 404
        assert (await post(http, SHOP, version="2025-10")).status_code == 200


async def test_headers(client: httpx2.AsyncClient) -> None:
    response = await post(client, SHOP, version="2025-10")
    assert response.headers["X-Shopify-API-Version"] == "2025-10"
    assert len(response.headers["X-Request-Id"]) >= 32
    assert response.headers["content-type"].startswith("application/json")


async def test_each_version_validates_against_its_own_schema(sim: ShopSimulator, client: httpx2.AsyncClient) -> None:
    query = 'query { bulkOperation(id: "gid://shopify/BulkOperation/1") { id } }'
    assert (await gql(client, query, version="2026-07"))["data"] == {"bulkOperation": None}
    response = await post(client, query, version="2025-10")
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["message"] == "Field 'bulkOperation' doesn't exist on type 'QueryRoot'"
    assert error["extensions"] == {"code": "undefinedField", "typeName": "QueryRoot", "fieldName": "bulkOperation"}


async def test_validation_errors_are_200_with_locations_and_cost_nothing(
    sim: ShopSimulator, client: httpx2.AsyncClient
) -> None:
    response = await post(client, "{\n  orders(first: 1) { nodes { id nope } }\n}")
    assert response.status_code == 200
    body = response.json()
    assert "data" not in body and "extensions" not in body
    [error] = body["errors"]
    assert error == {
        "message": "Field 'nope' doesn't exist on type 'Order'",
        "locations": [{"line": 2, "column": 33}],
        "extensions": {"code": "undefinedField", "typeName": "Order", "fieldName": "nope"},
    }
    assert sim.bucket.available() == 2000.0


async def test_syntax_errors_and_bad_variables(client: httpx2.AsyncClient) -> None:
    [error] = (await post(client, "{ orders(first: 1) {")).json()["errors"]
    assert error["extensions"]["code"] == "parseError" and error["locations"]
    query = "query($n: Int!) { orders(first: $n) { nodes { id } } }"
    [error] = (await post(client, query, {"n": "ten"})).json()["errors"]
    assert error["extensions"]["code"] == "INVALID_VARIABLE"


async def test_malformed_json_is_400(client: httpx2.AsyncClient) -> None:
    response = await client.post(
        "/admin/api/2026-07/graphql.json",
        content=b'{"query": ',
        headers={"X-Shopify-Access-Token": TOKEN, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    response = await client.post(
        "/admin/api/2026-07/graphql.json", json={"variables": {}}, headers={"X-Shopify-Access-Token": TOKEN}
    )
    assert response.status_code == 400


async def test_raw_graphql_bodies_are_accepted(client: httpx2.AsyncClient) -> None:
    response = await client.post(
        "/admin/api/2026-07/graphql.json",
        content=SHOP.encode(),
        headers={"X-Shopify-Access-Token": TOKEN, "Content-Type": "application/graphql"},
    )
    assert response.json()["data"]["shop"]["myshopifyDomain"] == "demo-shop.myshopify.com"


async def test_shop_and_installation(client: httpx2.AsyncClient) -> None:
    body = await gql(client, SHOP + " ")
    assert body["data"] == {
        "shop": {
            "name": "Demo Shop",
            "myshopifyDomain": "demo-shop.myshopify.com",
            "plan": {"displayName": "Basic", "shopifyPlus": False},
        }
    }
    scopes = await gql(client, "{ currentAppInstallation { accessScopes { handle } } }")
    assert scopes["data"]["currentAppInstallation"]["accessScopes"] == [{"handle": "read_orders"}]


async def test_unsimulated_fields_are_null_or_a_clear_error(sim: ShopSimulator, client: httpx2.AsyncClient) -> None:
    order = sim.create_order(lines=[("SKU-1", 1)])
    nullable = await gql(client, "query($id: ID!) { order(id: $id) { id email note customer { id } } }", {"id": order})
    assert nullable["data"]["order"] == {"id": order, "email": None, "note": None, "customer": None}
    before = sim.bucket.available()
    response = await post(
        client, "query($id: ID!) { order(id: $id) { id billingAddressMatchesShippingAddress } }", {"id": order}
    )
    [error] = response.json()["errors"]
    assert error["message"].startswith("Field 'Order.billingAddressMatchesShippingAddress' is not simulated")
    assert error["extensions"]["code"] == "NOT_SIMULATED"
    assert sim.bucket.available() == before


async def test_throttled_shape_nothing_charged_and_refill(manual_time: ManualTime) -> None:
    sim = ShopSimulator(bucket=(20, 2), time_source=manual_time)
    query = "{ orders(first: 250) { nodes { id } } }"  # requested 13, actual 2 on an empty shop
    async with client_for(sim) as http:
        first = await gql(http, query)
        assert first["extensions"]["cost"]["throttleStatus"] == {
            "maximumAvailable": 20.0,
            "currentlyAvailable": 18,
            "restoreRate": 2.0,
        }
        second = await gql(http, query)
        assert second["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 16
        await gql(http, query)
        await gql(http, query)  # 12 left < 13 requested
        response = await post(http, query)
        assert response.status_code == 200
        assert response.json() == {
            "errors": [
                {
                    "message": "Throttled",
                    "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
                }
            ],
            "extensions": {
                "cost": {
                    "requestedQueryCost": 13,
                    "actualQueryCost": None,
                    "throttleStatus": {"maximumAvailable": 20.0, "currentlyAvailable": 12, "restoreRate": 2.0},
                }
            },
        }
        assert sim.stats.throttled == 1
        # Waiting (requested - available) / restoreRate seconds is enough, as the research notes say.
        manual_time.advance((13 - 12) / 2)
        refilled = await gql(http, query)
        assert refilled["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 11
        manual_time.advance(3600)
        full = await gql(http, query)
        assert full["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 18  # capped at maximumAvailable


async def test_concurrent_requests_never_overspend_the_bucket(manual_time: ManualTime) -> None:
    sim = ShopSimulator(bucket=(100, 1), time_source=manual_time)
    sim.seed(20, seed=3)
    query = "{ orders(first: 250) { nodes { id } } }"  # requested 13, actual 2 + k(20) = 10
    async with client_for(sim) as http:
        responses = await asyncio.gather(*(post(http, query) for _ in range(30)))
    bodies = [r.json() for r in responses]
    served = [b for b in bodies if "data" in b]
    throttled = [b for b in bodies if b.get("errors", [{}])[0].get("message") == "Throttled"]
    assert len(served) + len(throttled) == 30
    assert len(served) == 9  # 100 -> 90 -> ... -> 10 < 13
    assert sim.bucket.available() == pytest.approx(10)
    assert sim.stats.requests == 30 and sim.stats.throttled == 21


async def test_healthz(client: httpx2.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json()["status"] == "ok"


async def test_request_log(manual_time: ManualTime) -> None:
    sim = ShopSimulator(time_source=manual_time, record_requests=True)
    async with client_for(sim) as http:
        await gql(http, "query Shop { shop { name } }")
        await post(http, SHOP, token="nope")
    assert sim.stats.log is not None
    assert [(r.number, r.operation_name, r.status, r.outcome, r.requested_cost) for r in sim.stats.log] == [
        (1, "Shop", 200, "ok", 1),
        (2, None, 401, "unauthorized", None),
    ]
