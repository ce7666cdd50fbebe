"""checkShopConnection over HTTP: an admin asks a (simulated) shop who it is; the answer is the
plan and scopes, or the exact reason it failed, and never the shop's access token."""

from __future__ import annotations

import httpx2

from core.jobcontrol import update_shop
from gateway.api import ids
from plugins.shopify.simulator import ShopSimulator

from .conftest import READ, Api
from .seed import SHOP_SECRET, new_shop

CHECK = """mutation($id: ID!) { checkShopConnection(id: $id) {
  connection { ok problem message shopName domain apiVersion scopes missingScopes optionalMissingScopes
               plan planPremium apiPoints apiRestoreRate checkedAt seconds }
  userErrors { field message code } } }"""


def simulate(api: Api, **options: object) -> ShopSimulator:
    sim = ShopSimulator(shop_domain="alpha.myshopify.com", access_token=SHOP_SECRET, **options)  # type: ignore[arg-type]
    api.runtime.source_options["*"] = {"transport": httpx2.ASGITransport(app=sim.asgi_app)}
    return sim


async def test_an_admin_sees_the_plan_and_scopes(api: Api) -> None:
    simulate(api, plan="plus", scopes=("read_orders", "read_all_orders"))
    shop, _ = new_shop(api.runtime, "alpha")
    payload = (await api.data(CHECK, {"id": ids.encode("Shop", shop.id)}))["checkShopConnection"]
    assert payload["userErrors"] == []
    c = payload["connection"]
    assert c["ok"] is True and c["problem"] is None
    assert (c["domain"], c["plan"], c["planPremium"]) == ("alpha.myshopify.com", "Shopify Plus", True)
    assert (c["apiPoints"], c["apiRestoreRate"]) == (20000.0, 1000.0)
    assert c["scopes"] == ["read_orders", "read_all_orders"] and c["optionalMissingScopes"] == []
    assert c["checkedAt"].endswith("+00:00") and c["seconds"] >= 0


async def test_a_refused_token_is_reported_not_raised_and_never_echoed(api: Api) -> None:
    simulate(api)
    shop, _ = new_shop(api.runtime, "alpha")
    update_shop(api.runtime, shop.id, token="shpat_not_the_right_one_42")
    payload = (await api.data(CHECK, {"id": ids.encode("Shop", shop.id)}))["checkShopConnection"]
    assert payload["userErrors"] == []
    assert payload["connection"]["ok"] is False and payload["connection"]["problem"] == "BAD_TOKEN"
    assert "shpat_" not in api.responses[-1]


async def test_an_unknown_shop_id_is_a_user_error(api: Api) -> None:
    payload = (await api.data(CHECK, {"id": ids.encode("Shop", 999)}))["checkShopConnection"]
    assert payload["connection"] is None
    assert payload["userErrors"] == [{"field": ["id"], "message": "shop 999 does not exist", "code": "NOT_FOUND"}]


async def test_a_read_token_cannot_check(api: Api) -> None:
    sim = simulate(api)
    shop, _ = new_shop(api.runtime, "alpha")
    body = await api.gql(CHECK, {"id": ids.encode("Shop", shop.id)}, token=READ)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert sim.stats.requests == 0
