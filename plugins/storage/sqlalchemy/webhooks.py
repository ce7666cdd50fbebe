"""Webhook deliveries seen, so a delivery the platform retries is processed once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError

from .base import TxBase, aware
from .tables import shops, webhook_deliveries


class WebhooksMixin(TxBase):
    def record_delivery(self, *, shop_id: int, delivery_id: str, topic: str, received_at: datetime) -> bool:
        aware(received_at, "received_at")
        self._require(shops, shop_id, "shop")
        if self._is_mysql:
            # MySQL has no ON CONFLICT DO NOTHING (INSERT IGNORE would also ignore a missing
            # shop): a concurrent duplicate waits on the unique index, then fails in its savepoint.
            try:
                with self._session.begin_nested():
                    self._session.execute(webhook_deliveries.insert().values(
                        shop_id=shop_id, delivery_id=delivery_id, topic=topic, received_at=received_at))
            except IntegrityError:
                return False
            return True
        stmt = (
            self._insert(webhook_deliveries)
            .values(shop_id=shop_id, delivery_id=delivery_id, topic=topic, received_at=received_at)
            .on_conflict_do_nothing(index_elements=[webhook_deliveries.c.shop_id, webhook_deliveries.c.delivery_id])
            .returning(webhook_deliveries.c.id)
        )
        # A concurrent duplicate waits on the unique index and then inserts nothing: exactly one
        # wins. RETURNING rather than rowcount, which psycopg reports as -1 for this statement.
        return self._session.execute(stmt).first() is not None
