"""Shop access tokens go in and never come out: not in data, not in errors, not in the log."""

from __future__ import annotations

import logging

import pytest

from gateway.api import ids
from gateway.api.schema import schema

from .conftest import READ, Api

SECRET = "shpat_never_show_me_4f1c9a77e0"
LITERAL_SECRET = "shpat_literal_secret_b81d22"
ROTATED = "shpat_rotated_secret_93ee01"
NUL_SECRET = "shpat_with_nul_\x00_byte_c0ffee"

ALLOWED_TOKEN_FIELDS = {
    ("Shop", "hasToken"), ("Shop", "tokenEnv"),
    ("Query", "apiTokens"), ("Query", "currentToken"),
    ("Mutation", "createApiToken"), ("Mutation", "revokeApiToken"),
    ("CreateApiTokenPayload", "token"),  # the new API token's plaintext, shown once by design
    ("CreateApiTokenPayload", "apiToken"), ("ApiTokenPayload", "apiToken"),
}


def test_no_output_type_can_return_an_access_token() -> None:
    graphql_schema = schema._schema
    for name, graphql_type in graphql_schema.type_map.items():
        if name.startswith("__") or not hasattr(graphql_type, "fields") or name.endswith("Input"):
            continue
        for field_name in graphql_type.fields:
            if "token" in field_name.lower() or "secret" in field_name.lower():
                assert (name, field_name) in ALLOWED_TOKEN_FIELDS, f"{name}.{field_name} may expose a secret"


async def test_access_tokens_never_appear_in_responses_or_logs(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    add = """mutation($input: AddShopInput!) { addShop(input: $input) {
      shop { id name url apiVersion hasToken tokenEnv jobs { id } } userErrors { field message code } } }"""
    created = await api.data(add, {"input": {"name": "alpha", "url": "https://alpha.myshopify.com",
                                             "accessToken": SECRET}})
    shop_id = created["addShop"]["shop"]["id"]
    await api.data('mutation { addShop(input: {name: "beta", url: "https://beta.myshopify.com", '
                   f'accessToken: "{LITERAL_SECRET}"}}) {{ shop {{ id }} }} }}')
    # refused input that carries a secret: the userErrors must not echo it
    for bad in ({"name": "alpha", "url": "https://again.myshopify.com"},
                {"name": "Not Valid", "url": "https://x.myshopify.com"},
                {"name": "gamma", "url": "https://gamma.myshopify.com", "apiVersion": "bogus"}):
        payload = (await api.data(add, {"input": {**bad, "accessToken": SECRET}}))["addShop"]
        assert payload["userErrors"]
    await api.data("""mutation($id: ID!, $input: UpdateShopInput!) { updateShop(id: $id, input: $input) {
        shop { id } userErrors { message } } }""", {"id": shop_id, "input": {"accessToken": ROTATED}})
    await api.data("""mutation($id: ID!, $input: UpdateShopInput!) { updateShop(id: $id, input: $input) {
        shop { id } userErrors { message } } }""", {"id": ids.encode("Shop", 999), "input": {"accessToken": SECRET}})
    # GraphQL errors around documents that carry a secret
    await api.gql(add, {"input": {"name": 7, "url": "https://x.myshopify.com", "accessToken": SECRET}})
    await api.gql(add, {"input": {"name": "x", "url": "https://x.myshopify.com", "accessToken": SECRET, "bogus": 1}})
    await api.gql(f'mutation {{ addShop(input: {{name: "x", url: "y", accessToken: "{SECRET}" }}) {{ shop {{ id }} ')
    await api.gql(f'mutation {{ addShop(input: {{name: "x", url: "y", accessToken: "{SECRET}", nope: 1 }}) '
                  '{ shop { id } } }')
    await api.gql(add, {"input": {"name": "delta", "url": "https://delta.myshopify.com", "accessToken": SECRET}},
                  token=READ)
    # a token with a control character is refused without being quoted
    nul = await api.data(add, {"input": {"name": "epsilon", "url": "https://e.myshopify.com",
                                         "accessToken": NUL_SECRET}})
    assert nul["addShop"]["userErrors"][0]["field"] == ["input", "accessToken"]
    # everything readable about shops
    await api.data("""{ shops { id name source url apiVersion hasToken tokenEnv createdAt jobs { id } } }""")
    await api.data("query($id: ID!) { node(id: $id) { ... on Shop { id name url hasToken } } }", {"id": shop_id})
    await api.data('{ __type(name: "Shop") { fields { name } } }')

    with api.runtime.storage.transaction() as tx:
        stored = {s.name: tx.shop_credentials(s.id).token for s in tx.list_shops()}
    assert stored["alpha"] == ROTATED and stored["beta"] == LITERAL_SECRET

    texts = api.responses + [caplog.text] + [r.getMessage() for r in caplog.records] + [
        r.exc_text or "" for r in caplog.records]
    for secret in (SECRET, LITERAL_SECRET, ROTATED, NUL_SECRET, "shpat_with_nul_"):
        leaks = [t for t in texts if secret in t]
        assert not leaks, f"{secret!r} leaked: {leaks[0][:500]}"
    assert any('"hasToken":true' in r for r in api.responses)
