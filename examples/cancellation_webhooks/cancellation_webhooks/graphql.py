"""The plugin's GraphQL fields: read the dead letters, replay them (admin token only).

No ``from __future__ import annotations``: strawberry resolves the annotations of the classes
built inside :func:`extension`, and postponed ones would name locals it cannot see.
"""

from datetime import datetime
from typing import Optional

import strawberry
from sqlalchemy.engine import Engine

from core import GraphQLExtension, GraphQLPermissions, Settings, ValidationError

from . import outbox
from .outbox import Status
from .settings import outbox_url


def _engine(settings: Settings) -> Engine:
    return outbox.open_outbox(outbox_url(settings))


def extension(permissions: GraphQLPermissions) -> GraphQLExtension:
    @strawberry.type(description="One cancellation webhook delivery of the outbox.")
    class CancellationWebhookDelivery:
        id: int
        cancellation_id: int
        status: str
        attempts: int
        next_attempt_at: datetime
        last_error: Optional[str]

    def view(row: outbox.Delivery) -> CancellationWebhookDelivery:
        return CancellationWebhookDelivery(id=row.id, cancellation_id=row.cancellation_id, status=row.status.value,
                                           attempts=row.attempts, next_attempt_at=row.next_attempt_at,
                                           last_error=row.last_error)

    @strawberry.type
    class WebhookQuery:
        @strawberry.field(permission_classes=[permissions.read],
                          description="Deliveries that failed every attempt, oldest first.")
        def cancellation_webhook_dead_letters(self, info: strawberry.Info,
                                              first: int = 100) -> list[CancellationWebhookDelivery]:
            engine = _engine(info.context.runtime.settings)
            try:
                return [view(row) for row in outbox.listing(engine, status=Status.DEAD, limit=min(first, 1000))]
            finally:
                engine.dispose()

    @strawberry.type
    class WebhookMutation:
        @strawberry.mutation(permission_classes=[permissions.admin],
                             description="Send dead letters again (those of `ids`, or all with `all: true`); "
                                         "returns how many were dead and are pending again.")
        def replay_cancellation_webhooks(self, info: strawberry.Info, ids: Optional[list[int]] = None,
                                         all: bool = False) -> int:
            if bool(ids) == all:
                raise ValidationError("name ids or all: true (not both)", field="ids")
            engine = _engine(info.context.runtime.settings)
            try:
                return outbox.replay(engine, None if all else ids)
            finally:
                engine.dispose()

    return GraphQLExtension(query=WebhookQuery, mutation=WebhookMutation, types=[CancellationWebhookDelivery])
