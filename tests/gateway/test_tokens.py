"""API tokens: issued with the plaintext shown once, usable at once, revoked at once."""

from __future__ import annotations

from core.apitokens import hash_token
from gateway import ids

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
