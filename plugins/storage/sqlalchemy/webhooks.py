"""Webhook deliveries seen, so a delivery the platform retries is processed once."""

from __future__ import annotations

from datetime import datetime

from .base import TxBase, aware
from .tables import shops, webhook_deliveries


class WebhooksMixin(TxBase):
    def record_delivery(self, *, shop_id: int, delivery_id: str, topic: str, received_at: datetime) -> bool:
        aware(received_at, "received_at")
        self._require(shops, shop_id, "shop")
        stmt = (
            self._insert(webhook_deliveries)
            .values(shop_id=shop_id, delivery_id=delivery_id, topic=topic, received_at=received_at)
            .on_conflict_do_nothing(index_elements=[webhook_deliveries.c.shop_id, webhook_deliveries.c.delivery_id])
            .returning(webhook_deliveries.c.id)
        )
        # A concurrent duplicate waits on the unique index and then inserts nothing: exactly one
        # wins. RETURNING rather than rowcount, which psycopg reports as -1 for this statement.
        return self._session.execute(stmt).first() is not None
