"""Shopify webhooks, the fast path: a signed delivery gets its order re-read and stored at once;
a forged, replayed or unknown one changes nothing. Real app over HTTP, real storage, embedded
queue and worker, the simulated shop."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx2
import orjson
import pytest

from core import CanceledLine, Cancellation, JobRun, Shop, hookimpl
from core.jobs import bind_runtime, unbind_runtime
from core.queues import QueueBackend
from gateway.api.app import create_app

from ..harness import SHOP_DOMAIN, Harness, fast_settings

SECRET = "app-client-secret-for-tests"


class Listener:
    def __init__(self) -> None:
        self.cancellations: list[tuple[JobRun | None, list[Cancellation]]] = []
        self.lines: list[CanceledLine] = []

    @hookimpl
    def on_items_canceled(self, shop: Shop, run: JobRun | None, cancellations: Sequence[Cancellation],
                          lines: Sequence[CanceledLine]) -> None:
        self.cancellations.append((run, list(cancellations)))
        self.lines += lines


@pytest.fixture
def listener() -> Listener:
    return Listener()


@pytest.fixture
def shop(tmp_path: Path, database_url: str, listener: Listener) -> Iterator[Harness]:
    h = Harness.build(fast_settings(tmp_path, database_url, shopify={"webhook_secret": SECRET}), plugins=(listener,))
    yield h
    h.close()


@pytest.fixture
async def client(shop: Harness) -> Any:
    queue = QueueBackend.from_settings(shop.runtime.settings)
    bind_runtime(shop.runtime)
    queue.start_embedded_worker(poll_seconds=0.05)
    app = create_app(shop.runtime, queue)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://gateway") as http:
        http.queue = queue  # type: ignore[attr-defined]
        yield http
    queue.stop()
    unbind_runtime(shop.runtime)


def signed(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def delivery(order_gid: str, *, topic: str = "orders/updated", delivery_id: str = "d-1",
             domain: str = SHOP_DOMAIN, secret: str = SECRET, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    numeric = int(order_gid.rsplit("/", 1)[-1])
    body = orjson.dumps(payload if payload is not None else {"id": numeric, "admin_graphql_api_id": order_gid,
                                                                "line_items": []})
    return {"content": body, "headers": {
        "X-Shopify-Hmac-Sha256": signed(body, secret), "X-Shopify-Topic": topic, "X-Shopify-Shop-Domain": domain,
        "X-Shopify-Webhook-Id": delivery_id, "X-Shopify-API-Version": "2026-07", "Content-Type": "application/json"}}


def eventually(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


async def test_a_signed_delivery_stores_the_orders_current_cancellations(shop: Harness, client: Any,
                                                                         listener: Listener) -> None:
    order = shop.sim.create_order(lines=[("TEE", 3)])
    (tee,) = shop.sim.line_item_ids(order)
    shop.sim.cancel_units(order, tee, 2)
    # Shopify may deliver a stale payload: the gateway re-reads the order rather than trust it
    reply = await client.post("/webhooks/shopify", **delivery(order, payload={"id": int(order.rsplit("/", 1)[-1])}))

    assert reply.status_code == 202, reply.text
    assert reply.json() == {"status": "queued", "orders": [order]}
    eventually(lambda: shop.stored_canceled() == {tee: 2})
    ((run, rows),) = listener.cancellations
    assert run is None and sum(r.quantity for r in rows) == 2
    # the same business keys as a run's pages carry: the webhook path stores a page the same way
    assert [(line.shop, line.order_gid, line.line_gid, line.sku, line.units, line.canceled_total)
            for line in listener.lines] == [("demo", order, tee, "TEE", 2, 2)]
    assert shop.watermark() is None  # the fast path never moves the scheduled window


async def test_a_replayed_delivery_is_answered_but_not_applied_twice(shop: Harness, client: Any) -> None:
    order = shop.sim.create_order(lines=[("TEE", 3)])
    (tee,) = shop.sim.line_item_ids(order)
    shop.sim.cancel_units(order, tee, 1)
    first = await client.post("/webhooks/shopify", **delivery(order, delivery_id="same"))
    assert first.status_code == 202
    eventually(lambda: shop.stored_canceled() == {tee: 1})
    again = await client.post("/webhooks/shopify", **delivery(order, delivery_id="same"))
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert shop.history_rows() == 1


async def test_a_forged_delivery_is_rejected_and_changes_nothing(shop: Harness, client: Any) -> None:
    order = shop.sim.create_order(lines=[("TEE", 3)])
    (tee,) = shop.sim.line_item_ids(order)
    shop.sim.cancel_units(order, tee, 1)

    forged = await client.post("/webhooks/shopify", **delivery(order, delivery_id="x", secret="guess"))
    assert forged.status_code == 401
    assert forged.json() == {"error": "webhook rejected: the X-Shopify-Hmac-Sha256 signature does not match the body"}
    assert SECRET not in forged.text

    tampered = delivery(order, delivery_id="x")
    tampered["content"] = tampered["content"].replace(b"[]", b"[1]")  # body changed after signing
    assert (await client.post("/webhooks/shopify", **tampered)).status_code == 401

    unsigned = delivery(order, delivery_id="x")
    del unsigned["headers"]["X-Shopify-Hmac-Sha256"]
    reply = await client.post("/webhooks/shopify", **unsigned)
    assert reply.status_code == 401 and "X-Shopify-Hmac-Sha256" in reply.json()["error"]

    time.sleep(0.3)
    assert shop.stored_canceled() == {}
    # the rejected delivery id was not remembered: the genuine delivery still goes through
    assert (await client.post("/webhooks/shopify", **delivery(order, delivery_id="x"))).status_code == 202


async def test_refund_webhooks_name_their_order_by_order_id(shop: Harness, client: Any) -> None:
    order = shop.sim.create_order(lines=[("MUG", 2)])
    (mug,) = shop.sim.line_item_ids(order)
    shop.sim.cancel_units(order, mug, 2, restock_type="NO_RESTOCK")
    numeric = int(order.rsplit("/", 1)[-1])
    reply = await client.post("/webhooks/shopify", **delivery(order, topic="refunds/create", delivery_id="r-1",
                                                              payload={"id": 1, "order_id": numeric}))
    assert reply.status_code == 202
    eventually(lambda: shop.stored_canceled() == {mug: 2})


async def test_unknown_shops_sources_and_bodies_get_clear_errors(shop: Harness, client: Any) -> None:
    order = shop.sim.create_order(lines=[("TEE", 1)])
    unknown = await client.post("/webhooks/shopify", **delivery(order, domain="other.myshopify.com"))
    assert unknown.status_code == 404 and "other.myshopify.com" in unknown.json()["error"]

    nowhere = await client.post("/webhooks/magento", **delivery(order))
    assert nowhere.status_code == 404

    body = b"not json"
    garbage = await client.post("/webhooks/shopify", content=body, headers={
        "X-Shopify-Hmac-Sha256": signed(body), "X-Shopify-Topic": "orders/updated",
        "X-Shopify-Shop-Domain": SHOP_DOMAIN, "X-Shopify-Webhook-Id": "g"})
    assert garbage.status_code == 401 and garbage.json()["error"] == "webhook rejected: the body is not JSON"

    float_id = await client.post("/webhooks/shopify", **delivery(order, delivery_id="f", payload={"id": 8.2e17}))
    assert float_id.status_code == 401  # ids exceed 2**53: a float id cannot be trusted


async def test_without_a_secret_webhooks_are_refused_as_not_configured(tmp_path: Path, sqlite_url: str) -> None:
    h = Harness.build(fast_settings(tmp_path, sqlite_url))
    queue = QueueBackend.from_settings(h.runtime.settings)
    app = create_app(h.runtime, queue)
    try:
        order = h.sim.create_order(lines=[("TEE", 1)])
        async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://gateway") as http:
            reply = await http.post("/webhooks/shopify", **delivery(order))
        assert reply.status_code == 503
        assert "SYNC_GATEWAY_SHOPIFY__WEBHOOK_SECRET" in reply.json()["error"]
    finally:
        h.close()
