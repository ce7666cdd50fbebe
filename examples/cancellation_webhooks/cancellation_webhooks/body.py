"""What one delivery says, and how it is signed: the two things a receiver depends on.

``delivery_body`` is the one place that maps the gateway's records to the JSON sent, so a richer
hook payload (business keys) changes this function only.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any

from core import Cancellation, Shop, StoredItem, StoredOrder

SIGNATURE_HEADER = "X-Cancellation-Signature"
TIMESTAMP_HEADER = "X-Cancellation-Timestamp"
DELIVERY_HEADER = "X-Cancellation-Delivery"


def delivery_body(cancellation: Cancellation, *, shop: Shop | None, order: StoredOrder | None,
                  item: StoredItem | None) -> dict[str, Any]:
    """The JSON body for one cancellation history row (``deliveryId`` is added by the outbox)."""
    return {
        "cancellationId": cancellation.id,
        "shop": shop.name if shop else None,
        "orderId": order.source_id if order else None,
        "orderName": order.name if order else None,
        "lineItemId": item.source_id if item else None,
        "sku": item.sku if item else None,
        "title": item.title if item else None,
        "quantity": cancellation.quantity,
        "canceledAt": cancellation.canceled_at.isoformat(),
        "recordedAt": cancellation.recorded_at.isoformat(),
        "reason": cancellation.reason,
        "evidence": cancellation.evidence,
    }


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256 over ``<timestamp>.<body>`` (the timestamp is signed so an
    old delivery cannot be replayed as new)."""
    digest = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: bytes, headers: Mapping[str, str], body: bytes, *, tolerance_seconds: int = 300,
           now: float | None = None) -> bool:
    """What a receiver runs: the signature matches and the timestamp is recent (``headers``
    with lower-case names, as most servers give them)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        timestamp = int(lowered[TIMESTAMP_HEADER.lower()])
        given = lowered[SIGNATURE_HEADER.lower()]
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance_seconds:
        return False
    return hmac.compare_digest(given, sign(secret, timestamp, body))
