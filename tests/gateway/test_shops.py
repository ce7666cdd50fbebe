"""Shops: listing, adding, changing and removing them; the access token goes in, never out."""

from __future__ import annotations

from core import OrderQuery
from gateway.api import ids
from plugins.shopify.settings import shopify_settings

from .conftest import Api
from .seed import SHOP_SECRET, new_shop, seed

SHOP_FIELDS = "id name source url apiVersion hasToken tokenEnv createdAt jobs { id kind schedule { everySeconds } }"

ADD = f"""mutation($input: AddShopInput!) {{ addShop(input: $input) {{
  shop {{ {SHOP_FIELDS} }} userErrors {{ field message code }} }} }}"""

UPDATE = f"""mutation($id: ID!, $input: UpdateShopInput!) {{ updateShop(id: $id, input: $input) {{
  shop {{ {SHOP_FIELDS} }} userErrors {{ field message code }} }} }}"""

REMOVE = "mutation($id: ID!) { removeShop(id: $id) { deletedId userErrors { field message code } } }"


def credentials(api: Api, shop_id: int):
    with api.runtime.storage.transaction() as tx:
        return tx.shop_credentials(shop_id)


async def test_add_shop_creates_its_jobs(api: Api) -> None:
    payload = (await api.data(ADD, {"input": {"name": "gamma", "url": "https://gamma.myshopify.com",
                                              "accessToken": SHOP_SECRET}}))["addShop"]
    assert payload["userErrors"] == []
    shop = payload["shop"]
    assert shop["name"] == "gamma" and shop["source"] == "shopify"
    assert shop["url"] == "https://gamma.myshopify.com"
    assert shop["apiVersion"] == shopify_settings(api.runtime.settings).api_version
    assert shop["hasToken"] is True and shop["tokenEnv"] is None
    assert [j["kind"] for j in shop["jobs"]] == ["canceled-items"]
    assert shop["jobs"][0]["schedule"] == {"everySeconds": api.runtime.settings.default_every_seconds}
    assert credentials(api, ids.decode_as(shop["id"], "Shop")).token == SHOP_SECRET
    listed = (await api.data(f"{{ shops {{ {SHOP_FIELDS} }} }}"))["shops"]
    assert listed == [shop]
    assert (await api.data("query($id: ID!) { node(id: $id) { ... on Shop { name } } }", {"id": shop["id"]}))[
        "node"] == {"name": "gamma"}


async def test_add_shop_with_a_token_from_the_environment(api: Api) -> None:
    payload = (await api.data(ADD, {"input": {"name": "delta", "url": "https://delta.myshopify.com",
                                              "accessTokenEnv": "DELTA_TOKEN", "apiVersion": "2025-10"}}))["addShop"]
    assert payload["shop"]["hasToken"] is False
    assert payload["shop"]["tokenEnv"] == "DELTA_TOKEN"
    assert payload["shop"]["apiVersion"] == "2025-10"


async def test_bad_shops_are_refused_and_nothing_is_created(api: Api) -> None:
    new_shop(api.runtime, "alpha")
    cases = [
        ({"name": "Bad Name!", "url": "https://x.myshopify.com"}, ["input", "name"]),
        ({"name": "alpha", "url": "https://again.myshopify.com"}, ["input", "name"]),
        ({"name": "nourl", "url": ""}, ["input", "url"]),
        ({"name": "nosource", "url": "https://y.myshopify.com", "source": "magento"}, ["input", "source"]),
        ({"name": "badversion", "url": "https://z.myshopify.com", "apiVersion": "July"}, ["input", "apiVersion"]),
    ]
    for given, field in cases:
        payload = (await api.data(ADD, {"input": {"accessToken": SHOP_SECRET, **given}}))["addShop"]
        assert payload["shop"] is None, given
        assert [e["field"] for e in payload["userErrors"]] == [field], payload
        assert payload["userErrors"][0]["code"] == "INVALID"
    with api.runtime.storage.transaction() as tx:
        assert [s.name for s in tx.list_shops()] == ["alpha"]
        assert len(tx.list_jobs()) == 1


async def test_update_shop(api: Api) -> None:
    shop, _ = new_shop(api.runtime, "alpha")
    gid = ids.encode("Shop", shop.id)
    payload = (await api.data(UPDATE, {"id": gid, "input": {"url": "https://alpha-new.myshopify.com",
                                                            "apiVersion": "2025-10"}}))["updateShop"]
    assert payload["userErrors"] == []
    assert payload["shop"]["url"] == "https://alpha-new.myshopify.com"
    assert payload["shop"]["apiVersion"] == "2025-10"
    assert payload["shop"]["hasToken"] is True
    assert credentials(api, shop.id).token == SHOP_SECRET  # left out: unchanged

    rotated = (await api.data(UPDATE, {"id": gid, "input": {"accessToken": "shpat_rotated_secret_999"}}))["updateShop"]
    assert rotated["shop"]["hasToken"] is True
    assert credentials(api, shop.id).token == "shpat_rotated_secret_999"

    cleared = (await api.data(UPDATE, {"id": gid, "input": {"accessToken": None, "accessTokenEnv": "ALPHA_TOKEN"}}))
    assert cleared["updateShop"]["shop"]["hasToken"] is False
    assert cleared["updateShop"]["shop"]["tokenEnv"] == "ALPHA_TOKEN"
    assert credentials(api, shop.id).token is None

    unchanged = (await api.data(UPDATE, {"id": gid, "input": {}}))["updateShop"]
    assert unchanged["shop"]["url"] == "https://alpha-new.myshopify.com"


async def test_update_shop_refuses_bad_input(api: Api) -> None:
    shop, _ = new_shop(api.runtime, "alpha")
    gid = ids.encode("Shop", shop.id)
    cases = [
        (gid, {"url": ""}, ["input", "url"], "INVALID"),
        (gid, {"apiVersion": "latest"}, ["input", "apiVersion"], "INVALID"),
        (gid, {"apiVersion": None}, ["input", "apiVersion"], "INVALID"),
        ("gid://sync-gateway/Shop/9999", {"url": "https://x.myshopify.com"}, ["id"], "NOT_FOUND"),
        ("gid://sync-gateway/Job/1", {"url": "https://x.myshopify.com"}, ["id"], "INVALID"),
    ]
    for target, given, field, code in cases:
        payload = (await api.data(UPDATE, {"id": target, "input": given}))["updateShop"]
        assert payload["shop"] is None
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(field, code)], (given, payload)
    with api.runtime.storage.transaction() as tx:
        assert tx.get_shop(shop.id) == shop


async def test_remove_shop_deletes_it_with_its_orders(api: Api) -> None:
    alpha, _ = new_shop(api.runtime, "alpha")
    beta, _ = new_shop(api.runtime, "beta")
    seed(api.runtime, alpha, 6)
    seed(api.runtime, beta, 2)
    payload = (await api.data(REMOVE, {"id": ids.encode("Shop", alpha.id)}))["removeShop"]
    assert payload == {"deletedId": ids.encode("Shop", alpha.id), "userErrors": []}
    assert [s["name"] for s in (await api.data("{ shops { name } }"))["shops"]] == ["beta"]
    assert (await api.data("{ orders { totalCount } }"))["orders"]["totalCount"] == 2
    again = (await api.data(REMOVE, {"id": ids.encode("Shop", alpha.id)}))["removeShop"]
    assert again["deletedId"] is None
    assert again["userErrors"][0]["code"] == "NOT_FOUND" and again["userErrors"][0]["field"] == ["id"]
    wrong = (await api.data(REMOVE, {"id": ids.encode("Order", 1)}))["removeShop"]
    assert wrong["userErrors"][0]["code"] == "INVALID"
    with api.runtime.storage.transaction() as tx:
        assert tx.count_orders(OrderQuery()) == 2


def test_the_shop_controls_the_cli_shares_validate_in_core(api: Api) -> None:
    """core.jobcontrol, called by the CLI as by the mutations: a token PostgreSQL could not store
    (NUL) or an HTTP header could not carry is refused there, unquoted, and nothing is written."""
    import pytest

    from core import NewShop, NotFoundError, ValidationError, jobcontrol

    for bad in ("shpat_nul_\x00_c0ffee", "shpat two words", "shpat_line\nbreak"):
        with pytest.raises(ValidationError) as caught:
            jobcontrol.add_shop(api.runtime, NewShop(name="cli", url="https://cli.myshopify.com", token=bad))
        assert caught.value.field == "token" and bad not in str(caught.value)
    shop, jobs = jobcontrol.add_shop(api.runtime, NewShop(name=" cli ", url=" https://cli.myshopify.com ",
                                                          token=" shpat_ok ", token_env="  "))
    assert (shop.name, shop.url, shop.has_token, shop.token_env, len(jobs)) == (
        "cli", "https://cli.myshopify.com", True, None, 1)
    assert credentials(api, shop.id).token == "shpat_ok"
    with pytest.raises(ValidationError) as caught:
        jobcontrol.update_shop(api.runtime, shop.id, token="shpat_\x00")
    assert caught.value.field == "token"
    with pytest.raises(ValidationError) as caught:
        jobcontrol.update_shop(api.runtime, shop.id, api_version="latest")
    assert caught.value.field == "api_version"
    with pytest.raises(ValidationError) as caught:
        jobcontrol.update_shop(api.runtime, shop.id, name="renamed")
    assert caught.value.field == "name"
    assert credentials(api, shop.id).token == "shpat_ok"
    assert jobcontrol.update_shop(api.runtime, shop.id, token=None, token_env="CLI_TOKEN").token_env == "CLI_TOKEN"
    with pytest.raises(NotFoundError):
        jobcontrol.update_shop(api.runtime, 9999, url="https://x.myshopify.com")
    jobcontrol.remove_shop(api.runtime, shop.id)
    with pytest.raises(NotFoundError):
        jobcontrol.remove_shop(api.runtime, shop.id)
    with api.runtime.storage.read() as tx:
        assert tx.list_shops() == []
