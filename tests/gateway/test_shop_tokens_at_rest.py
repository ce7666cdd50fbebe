"""Without SYNC_GATEWAY_SECRET_KEY the API stores no access token; a token variable still works."""

from __future__ import annotations

import pytest

from gateway.api import ids

from .conftest import Api
from .test_shops import ADD, UPDATE

SECRET = "shpat_keyless_9d0c1e"


@pytest.fixture
def no_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Requested before ``api``, so the runtime is built without a key."""
    monkeypatch.delenv("SYNC_GATEWAY_SECRET_KEY")


async def test_without_a_key_a_stored_token_is_a_user_error_and_nothing_is_added(no_secret_key: None,
                                                                                api: Api) -> None:
    payload = (await api.data(ADD, {"input": {"name": "alpha", "url": "https://alpha.myshopify.com",
                                              "accessToken": SECRET}}))["addShop"]

    assert payload["shop"] is None
    (error,) = payload["userErrors"]
    assert error["field"] == ["input", "accessToken"]
    assert "SYNC_GATEWAY_SECRET_KEY is not set" in error["message"] and "accessTokenEnv" in error["message"]
    assert SECRET not in error["message"]
    assert (await api.data("{ shops { id } }"))["shops"] == []


async def test_without_a_key_a_token_variable_is_stored_and_a_token_still_refused(
        no_secret_key: None, api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALPHA_TOKEN", SECRET)
    payload = (await api.data(ADD, {"input": {"name": "alpha", "url": "https://alpha.myshopify.com",
                                              "accessTokenEnv": "ALPHA_TOKEN"}}))["addShop"]
    assert payload["userErrors"] == []
    shop = payload["shop"]
    assert shop["hasToken"] is False and shop["tokenEnv"] == "ALPHA_TOKEN"

    changed = (await api.data(UPDATE, {"id": shop["id"], "input": {"accessToken": SECRET}}))["updateShop"]
    assert [e["field"] for e in changed["userErrors"]] == [["input", "accessToken"]]
    with api.runtime.storage.transaction() as tx:
        credentials = tx.shop_credentials(ids.decode_as(shop["id"], "Shop"))
    assert (credentials.token, credentials.token_env) == (None, "ALPHA_TOKEN")


async def test_with_a_key_the_api_stores_the_token_encrypted(api: Api) -> None:
    from sqlalchemy import text

    payload = (await api.data(ADD, {"input": {"name": "alpha", "url": "https://alpha.myshopify.com",
                                              "accessToken": SECRET}}))["addShop"]
    assert payload["userErrors"] == [] and payload["shop"]["hasToken"] is True
    with api.runtime.storage.engine.connect() as conn:  # type: ignore[attr-defined]
        (raw,) = conn.execute(text("SELECT token FROM shops")).scalars()
    assert raw.startswith("fernet:") and SECRET not in raw
