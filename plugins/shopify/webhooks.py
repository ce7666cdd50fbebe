"""Shopify webhooks: verify the HMAC on the raw body, name the orders to re-read.

Shopify signs each delivery with the app's client secret: ``X-Shopify-Hmac-Sha256`` is
base64(HMAC-SHA256(secret, raw body)). Deliveries are at-least-once and may arrive late or out
of order, so the payload is only used to find the order; the gateway re-reads it from the API.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime

import orjson

from core import ConfigurationError, Settings, WebhookEvent, WebhookRejected

from .settings import shopify_settings

ORDER_TOPICS = frozenset({"orders/updated", "orders/cancelled", "orders/edited", "orders/partially_fulfilled",
                          "orders/fulfilled", "orders/create"})
REFUND_TOPICS = frozenset({"refunds/create"})


class ShopifyWebhookReceiver:
    """Verifies ``POST /webhooks/shopify`` deliveries."""

    source = "shopify"
    topics = ORDER_TOPICS | REFUND_TOPICS

    def check_headers(self, *, headers: Mapping[str, str], settings: Settings) -> None:
        """What the headers alone can refuse: no secret configured, or a header missing. The
        gateway calls this before it reads the body, so unsigned floods cost no body reading."""
        if shopify_settings(settings).webhook_secret is None:
            raise ConfigurationError(
                "Shopify webhooks are not configured",
                suggestion="set [plugins.shopify] webhook_secret (or SYNC_GATEWAY_SHOPIFY__WEBHOOK_SECRET) to the app's client secret",
            )
        for name in ("X-Shopify-Hmac-Sha256", "X-Shopify-Topic", "X-Shopify-Shop-Domain"):
            _header(headers, name)
        if not (headers.get("X-Shopify-Webhook-Id") or headers.get("X-Shopify-Event-Id")):
            raise WebhookRejected("missing header X-Shopify-Webhook-Id")

    def verify(self, *, headers: Mapping[str, str], body: bytes, settings: Settings) -> WebhookEvent:
        self.check_headers(headers=headers, settings=settings)
        secret = shopify_settings(settings).webhook_secret
        assert secret is not None  # check_headers refused a receiver without one
        signature = _header(headers, "X-Shopify-Hmac-Sha256")
        expected = base64.b64encode(hmac.new(secret.get_secret_value().encode(), body, hashlib.sha256).digest())
        if not hmac.compare_digest(expected, signature.encode()):
            raise WebhookRejected("the X-Shopify-Hmac-Sha256 signature does not match the body")
        topic = _header(headers, "X-Shopify-Topic").lower()
        domain = _header(headers, "X-Shopify-Shop-Domain").lower()
        delivery = headers.get("X-Shopify-Webhook-Id") or headers.get("X-Shopify-Event-Id")
        assert delivery  # check_headers refused a delivery without one
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise WebhookRejected("the body is not JSON") from None
        if not isinstance(payload, dict):
            raise WebhookRejected("the body is not a JSON object")
        return WebhookEvent(source=self.source, shop_domain=domain, topic=topic, delivery_id=delivery,
                            order_ids=_order_ids(topic, payload), triggered_at=_triggered_at(headers))


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if not value:
        raise WebhookRejected(f"missing header {name}")
    return value


def _order_ids(topic: str, payload: dict[str, object]) -> tuple[str, ...]:
    """The order GIDs a delivery concerns; none for topics that do not touch orders."""
    if topic in ORDER_TOPICS:
        gid = payload.get("admin_graphql_api_id")
        if isinstance(gid, str) and gid.startswith("gid://shopify/Order/"):
            return (gid,)
        raw = payload.get("id")
    elif topic in REFUND_TOPICS:
        raw = payload.get("order_id")
    else:
        return ()
    # ids exceed 2**53: accept ints and digit strings only, never floats
    if isinstance(raw, bool) or not isinstance(raw, (int, str)) or not str(raw).isdigit():
        raise WebhookRejected(f"a {topic} delivery without a usable order id")
    return (f"gid://shopify/Order/{raw}",)


def _triggered_at(headers: Mapping[str, str]) -> datetime | None:
    value = headers.get("X-Shopify-Triggered-At")
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
