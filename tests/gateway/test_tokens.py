"""API tokens: issued with the plaintext shown once, usable at once, revoked at once."""

from __future__ import annotations

from core.apitokens import hash_token
from gateway.api import ids

from .conftest import ADMIN, READ, Api

CREATE = """mutation($name: String!, $role: TokenRole!) { createApiToken(name: $name, role: $role) {
  token apiToken { id name role createdAt lastUsedAt revokedAt } userErrors { field message code } } }"""
REVOKE = """mutation($id: ID!) { revokeApiToken(id: $id) {
  apiToken { id name revokedAt } userErrors { field message code } } }"""


async def test_a_new_token_is_shown_once_and_works(api: Api) -> None:
    payload = (await api.data(CREATE, {"name": "dashboard", "role": "READ"}))["createApiToken"]
    assert payload["userErrors"] == []
    plaintext = payload["token"]
    assert plaintext.startswith("sgw_") and len(plaintext) > 40
    record = payload["apiToken"]
    assert (record["name"], record["role"], record["lastUsedAt"], record["revokedAt"]) == ("dashboard", "READ", None, None)

    used = await api.gql("{ currentToken { id name role lastUsedAt } }", token=None, raw_token=plaintext)
    assert used["data"]["currentToken"]["id"] == record["id"]
    assert used["data"]["currentToken"]["role"] == "READ"

    listed = (await api.data("{ apiTokens { id name role lastUsedAt } }"))["apiTokens"]
    assert {t["name"] for t in listed} == {"admin tests", "read tests", "dashboard"}
    assert next(t for t in listed if t["name"] == "dashboard")["lastUsedAt"] is not None
    # the plaintext appears in the create payload only: never in a listing, never stored
    assert plaintext not in str(listed)
    with api.runtime.storage.transaction() as tx:
        assert tx.find_api_token(hash_token(plaintext)) is not None
    node = (await api.data("query($id: ID!) { node(id: $id) { ... on ApiToken { name } } }", {"id": record["id"]}))
    assert node["node"] == {"name": "dashboard"}


async def test_a_revoked_token_is_rejected(api: Api) -> None:
    created = (await api.data(CREATE, {"name": "temporary", "role": "ADMIN"}))["createApiToken"]
    plaintext, gid = created["token"], created["apiToken"]["id"]
    assert (await api.gql("{ shops { id } }", token=None, raw_token=plaintext))["data"] == {"shops": []}
    revoked = (await api.data(REVOKE, {"id": gid}))["revokeApiToken"]
    assert revoked["userErrors"] == [] and revoked["apiToken"]["revokedAt"] is not None
    error = await api.error("{ shops { id } }", token=None, raw_token=plaintext)
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "revoked" in error["message"]


async def test_token_input_errors(api: Api) -> None:
    blank = (await api.data(CREATE, {"name": "   ", "role": "READ"}))["createApiToken"]
    assert blank["token"] is None and blank["apiToken"] is None
    assert blank["userErrors"] == [{"field": ["name"], "message": blank["userErrors"][0]["message"], "code": "INVALID"}]
    unknown = (await api.data(REVOKE, {"id": ids.encode("ApiToken", 9999)}))["revokeApiToken"]
    assert unknown["userErrors"][0]["code"] == "NOT_FOUND" and unknown["userErrors"][0]["field"] == ["id"]
    wrong = (await api.data(REVOKE, {"id": ids.encode("Shop", 1)}))["revokeApiToken"]
    assert wrong["userErrors"][0]["code"] == "INVALID"
    with api.runtime.storage.transaction() as tx:
        assert len(tx.list_api_tokens()) == 2


async def test_tokens_are_listed_for_admins_only(api: Api) -> None:
    error = await api.error("{ apiTokens { id } }", token=READ)
    assert error["extensions"]["code"] == "FORBIDDEN"
    tokens = (await api.data("{ apiTokens { id } }", token=ADMIN))["apiTokens"]
    node = await api.gql("query($id: ID!) { node(id: $id) { id } }", {"id": tokens[0]["id"]}, token=READ)
    assert node["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    mine = (await api.data("{ currentToken { name role } }", token=READ))["currentToken"]
    assert mine == {"name": "read tests", "role": "READ"}


async def test_a_token_revoked_elsewhere_stops_working_within_the_cache_bound(api: Api) -> None:
    """Another process (the CLI, a second API worker) revokes the token: this process trusts its
    cached lookup for at most the cache's ttl, then asks the store again."""
    import httpx2

    from core import TokenRole
    from core.apitokens import TokenCache, issue_token, revoke_token
    from gateway.api.app import create_app

    record, plaintext = issue_token(api.runtime, name="kiosk", role=TokenRole.READ)
    monotonic = [0.0]
    app = create_app(api.runtime, api.queue, token_cache=TokenCache(5.0, clock=lambda: monotonic[0]))

    async def shops() -> dict:
        async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://test") as client:
            response = await client.post("/graphql", json={"query": "{ shops { id } }"},
                                         headers={"Authorization": f"Bearer {plaintext}"})
        return response.json()

    assert (await shops())["data"] == {"shops": []}
    revoke_token(api.runtime, record.id)  # no cache given: as the CLI does, from another process
    monotonic[0] += 4.9
    assert (await shops())["data"] == {"shops": []}  # within the bound
    monotonic[0] += 0.1
    body = await shops()
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_a_lookup_that_raced_a_revocation_is_not_cached() -> None:
    from core import ApiToken, TokenRole
    from core.apitokens import TokenCache

    cache = TokenCache(60.0)
    token = ApiToken(id=7, name="x", role=TokenRole.READ, created_at=None, revoked_at=None,  # type: ignore[arg-type]
                     last_used_at=None)
    generation = cache.generation  # a lookup starts, reads the live token...
    cache.forget(7)  # ...the token is revoked and evicted meanwhile...
    cache.put("hash", token, generation)  # ...the lookup must not bring it back
    assert cache.get("hash") is None
    cache.put("hash", token, cache.generation)
    assert cache.get("hash") is token
    cache.forget(7)
    assert cache.get("hash") is None
