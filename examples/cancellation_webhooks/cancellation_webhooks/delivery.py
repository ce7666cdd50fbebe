"""Sending: one signed POST per due outbox row, and the pass that ingests then delivers."""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx2
from sqlalchemy.engine import Engine

from core import Storage

from . import outbox
from .body import DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from .outbox import Attempt, Delivery, Status
from .settings import WebhookSettings, require_delivery_settings

log = logging.getLogger("sync_gateway.cancellation_webhooks")


class Sender:
    """An HTTPS client for the endpoint; the secret stays in here and is never logged."""

    def __init__(self, own: WebhookSettings) -> None:
        self.endpoint, secret = require_delivery_settings(own)
        self._secret = secret.get_secret_value().encode()
        verify: ssl.SSLContext | bool = (ssl.create_default_context(cafile=str(own.ca_bundle))
                                         if own.ca_bundle else True)
        self._client = httpx2.Client(verify=verify, timeout=own.timeout_seconds, follow_redirects=False)

    def send(self, delivery: Delivery) -> Attempt:
        timestamp = int(time.time())
        headers = {"Content-Type": "application/json", DELIVERY_HEADER: str(delivery.id),
                   TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: sign(self._secret, timestamp, delivery.body)}
        try:
            reply = self._client.post(self.endpoint, content=delivery.body, headers=headers)
        except httpx2.HTTPError as exc:  # refused, TLS, timeout: the message names no secret
            return Attempt(error=f"{type(exc).__name__}: {exc}")
        if 200 <= reply.status_code < 300:
            return Attempt(error=None)
        return Attempt(error=f"HTTP {reply.status_code}")

    def close(self) -> None:
        self._client.close()


@dataclass(frozen=True, slots=True)
class PassReport:
    ingested: int
    delivered: int
    retried: int
    dead: int
    full: bool
    """A whole batch was read or tried: more may be waiting, so the next pass should not wait."""


def one_pass(engine: Engine, storage: Storage, sender: Sender, own: WebhookSettings,
             now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> PassReport:
    """Ingest the feed's new rows, then try every due delivery once."""
    ingested = outbox.ingest(engine, storage, batch=own.batch, now=now)
    outcome = {Status.DELIVERED: 0, Status.PENDING: 0, Status.DEAD: 0}
    due = outbox.due(engine, batch=own.batch, now=now())
    for delivery in due:
        status = outbox.record(engine, delivery, sender.send(delivery), now=now(), max_attempts=own.max_attempts,
                               base=own.backoff_seconds, cap=own.backoff_max_seconds)
        outcome[status] += 1
        if status is Status.DEAD:
            log.warning("cancellation webhook delivery %s dead after %s attempts", delivery.id, own.max_attempts)
    return PassReport(ingested=ingested, delivered=outcome[Status.DELIVERED], retried=outcome[Status.PENDING],
                      dead=outcome[Status.DEAD], full=ingested == own.batch or len(due) == own.batch)
