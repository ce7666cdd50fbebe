"""Who may do what: every query needs a live token, every mutation an admin token."""

from __future__ import annotations

import httpx2
import pytest

from core import TokenRole
from core.apitokens import issue_token
from gateway.api import ids
from gateway.api.permissions import IsAdmin, IsAuthenticated
from gateway.api.schema import schema
from plugins.shopify.simulator import ShopSimulator

from .conftest import ADMIN, NO_TOKEN, READ, Api
from .seed import SHOP_SECRET, new_shop

QUERIES = {
    "orders": "{ orders { totalCount } }",
    "order": '{ order(id: "gid://sync-gateway/Order/1") { id } }',
    "orderByShopifyId": '{ orderByShopifyId(shop: "alpha", shopifyId: "1") { id } }',
    "cancellations": "{ cancellations { nodes { id } } }",
    "shops": "{ shops { id } }",
    "jobs": "{ jobs { id } }",
    "job": '{ job(id: "gid://sync-gateway/Job/1") { id } }',
    "jobRuns": '{ jobRuns(jobId: "gid://sync-gateway/Job/1") { nodes { id } } }',
    "jobRun": '{ jobRun(id: "gid://sync-gateway/JobRun/1") { id } }',
    "apiTokens": "{ apiTokens { id } }",
    "currentToken": "{ currentToken { id } }",
    "plugins": "{ plugins { name } }",
    "node": '{ node(id: "gid://sync-gateway/Shop/1") { id } }',
}

ACTS_UPSTREAM_ONLY = {"checkShopConnection"}
"""Mutations whose effect is a request to the shop (with its stored token), not a change in the store."""

MUTATIONS = {
    "updateJobSchedule": 'updateJobSchedule(jobId: "$job", schedule: {cron: "0 3 * * *"}) { job { id } }',
    "pauseJob": 'pauseJob(jobId: "$job") { job { id } }',
    "resumeJob": 'resumeJob(jobId: "$job") { job { id } }',
    "skipNextRun": 'skipNextRun(jobId: "$job") { job { id } }',
    "runJobNow": 'runJobNow(jobId: "$job") { run { id } }',
    "scheduleJobs": 'scheduleJobs(jobIds: ["$job"], schedule: {cron: "0 4 * * *"}) { jobs { id } }',
    "backfillJob": 'backfillJob(jobId: "$job", since: "2026-01-01T00:00:00+00:00") { run { id } }',
    "addShop": 'addShop(input: {name: "intruder", url: "https://i.myshopify.com"}) { shop { id } }',
    "updateShop": 'updateShop(id: "$shop", input: {url: "https://evil.example"}) { shop { id } }',
    "removeShop": 'removeShop(id: "$shop") { deletedId }',
    "checkShopConnection": 'checkShopConnection(id: "$shop") { connection { ok } }',
    "createApiToken": 'createApiToken(name: "backdoor", role: ADMIN) { token }',
    "revokeApiToken": 'revokeApiToken(id: "$token") { apiToken { id } }',
}


def test_every_root_field_has_a_permission_class() -> None:
    names = schema.config.name_converter.get_graphql_name
    for root, required, documented in (("Query", IsAuthenticated, QUERIES), ("Mutation", IsAdmin, MUTATIONS),
                                       ("Subscription", IsAuthenticated, {"jobRunUpdated": ""})):
        fields = schema.get_type_by_name(root).fields
        assert {names(f) for f in fields} == set(documented), f"a {root} field is not covered by this module"
        for field in fields:
            classes = set(field.permission_classes or ())
            assert classes & {IsAuthenticated, IsAdmin}, f"{root}.{names(field)} has no permission class"
            if required is IsAdmin:
                assert IsAdmin in classes, f"mutation {names(field)} must need an admin token"


def snapshot(api: Api):
    with api.runtime.storage.transaction() as tx:
        jobs = tx.list_jobs()
        tokens = [(t.id, t.name, t.role, t.revoked_at) for t in tx.list_api_tokens()]  # not lastUsedAt
        return (tx.list_shops(), jobs, tokens,
                [tx.latest_run(j.id) for j in jobs], [tx.shop_credentials(s.id) for s in tx.list_shops()])


@pytest.mark.parametrize("field", sorted(QUERIES))
async def test_queries_need_a_token(api: Api, field: str) -> None:
    error = await api.error(QUERIES[field], token=NO_TOKEN)
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "Authorization: Bearer" in error["message"]
    assert error["path"] == [field]


@pytest.mark.parametrize(("header", "words"), [
    ("Bearer sgw_not_a_real_token", "unknown or revoked"),
    ("Basic dXNlcjpwYXNz", "must read 'Bearer"),
    ("Bearer", "must read 'Bearer"),
    ("sgw_only_the_token", "must read 'Bearer"),
])
async def test_wrong_tokens_are_unauthenticated(api: Api, header: str, words: str) -> None:
    response = await api.client.post("/graphql", json={"query": "{ shops { id } }"}, headers={"Authorization": header})
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert words in error["message"]


async def test_the_bearer_scheme_is_case_insensitive(api: Api) -> None:
    response = await api.client.post("/graphql", json={"query": "{ shops { id } }"},
                                      headers={"Authorization": f"bearer {api.tokens[READ]}"})
    assert response.json() == {"data": {"shops": []}, "extensions": {"cost": {"requestedQueryCost": 1, "maximumAvailable": 1000}}}


async def test_read_tokens_query(api: Api) -> None:
    new_shop(api.runtime, "alpha")
    for field, document in QUERIES.items():
        body = await api.gql(document, token=READ)
        if field == "apiTokens":
            assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        else:
            assert not body.get("errors"), (field, body)


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
async def test_read_tokens_cannot_mutate_and_nothing_changes(api: Api, mutation: str) -> None:
    shop, job = new_shop(api.runtime, "alpha")
    token, _ = issue_token(api.runtime, name="victim", role=TokenRole.READ)
    document = "mutation { " + MUTATIONS[mutation].replace("$job", ids.encode("Job", job.id)).replace(
        "$shop", ids.encode("Shop", shop.id)).replace("$token", ids.encode("ApiToken", token.id)) + " }"
    sim = ShopSimulator(shop_domain="alpha.myshopify.com", access_token=SHOP_SECRET)
    api.runtime.source_options["*"] = {"transport": httpx2.ASGITransport(app=sim.asgi_app)}
    before = snapshot(api)
    for who in (READ, NO_TOKEN):
        error = await api.error(document, token=who)
        assert error["extensions"]["code"] == ("FORBIDDEN" if who == READ else "UNAUTHENTICATED")
        assert error["path"] == [mutation]
        assert snapshot(api) == before
        assert sim.stats.requests == 0
    body = await api.gql(document, token=ADMIN)
    assert not body.get("errors"), body
    if mutation in ACTS_UPSTREAM_ONLY:  # it acts on the shop, never on the store
        assert snapshot(api) == before and sim.stats.requests == 1
    else:
        assert snapshot(api) != before


async def test_introspection_is_public_but_data_is_not(api: Api) -> None:
    body = await api.gql("{ __schema { queryType { name } } __typename }", token=NO_TOKEN)
    assert body == {"data": {"__schema": {"queryType": {"name": "Query"}}, "__typename": "Query"},
                    "extensions": {"cost": {"requestedQueryCost": 0, "maximumAvailable": 1000}}}


async def test_queries_over_get_and_no_mutations_over_get(api: Api) -> None:
    body = await api.gql("{ shops { id } }", token=READ, method="GET")
    assert body == {"data": {"shops": []}, "extensions": {"cost": {"requestedQueryCost": 1, "maximumAvailable": 1000}}}
    response = await api.client.get("/graphql", params={"query": 'mutation { pauseJob(jobId: "x") { job { id } } }'},
                                     headers={"Authorization": f"Bearer {api.tokens[ADMIN]}"})
    assert response.status_code in (400, 405)
