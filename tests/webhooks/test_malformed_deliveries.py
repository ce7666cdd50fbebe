"""A signed delivery whose id or topic cannot be stored (over-long, control characters) is
rejected like a malformed one: 401 with one line, nothing stored, never a 500 (PostgreSQL
refused the over-long insert; SQLite took it silently)."""

from __future__ import annotations

from typing import Any

import pytest

from core.validation import Limits

from ..harness import Harness
from .test_shopify_webhooks import client, delivery, listener, shop  # noqa: F401 - fixtures

pytestmark = pytest.mark.usefixtures("listener")


@pytest.mark.parametrize(("headers", "words"), [
    ({"X-Shopify-Webhook-Id": "d" * (Limits.WEBHOOK_DELIVERY_ID + 1)}, "webhook id"),
    ({"X-Shopify-Topic": "orders/" + "u" * Limits.WEBHOOK_TOPIC}, "webhook topic"),
    ({"X-Shopify-Webhook-Id": "d-1\x7f"}, "control characters"),
], ids=["long id", "long topic", "control character"])
async def test_an_unstorable_delivery_id_or_topic_is_rejected(shop: Harness, client: Any,  # noqa: F811
                                                             headers: dict[str, str], words: str) -> None:
    order = shop.sim.create_order(lines=[("TEE", 1)])
    request = delivery(order)
    request["headers"].update(headers)
    reply = await client.post("/webhooks/shopify", **request)
    assert reply.status_code == 401, reply.text
    assert words in reply.json()["error"] and len(reply.text) < 300
    genuine = await client.post("/webhooks/shopify", **delivery(order, delivery_id="genuine"))
    assert genuine.status_code == 202, genuine.text

async def test_the_longest_storable_id_and_topic_are_accepted(shop: Harness, client: Any) -> None:  # noqa: F811
    order = shop.sim.create_order(lines=[("TEE", 1)])
    request = delivery(order, delivery_id="d" * Limits.WEBHOOK_DELIVERY_ID)
    reply = await client.post("/webhooks/shopify", **request)
    assert reply.status_code == 202, reply.text
