"""``POST /webhooks/<source>``: verify, dedupe, queue a refresh, answer within Shopify's 5 s.

Answers: 202 queued; 200 duplicate (the delivery id was seen) or nothing to do; 401 forged or
malformed (nothing stored); 404 unknown source or shop; 413 a body over 2 MB (refused while it
is read, see :mod:`gateway.api.body_limit`); 503 webhooks not configured. Error
bodies say why in one line and never echo secrets.

A flood must not slow the API's reads, so the route does as little as it can on the event loop:

* a delivery its headers already refuse (the receiver's ``check_headers``: no signature, no
  shop header, no secret configured) is answered before a byte of its body is read;
* the signature check (HMAC over up to 2 MB), the JSON parse and the database write run in a
  worker thread, and at most ``WEBHOOK_THREADS`` of them at once, so webhooks never hold more
  than that many of the thread pool's threads the GraphQL reads also run in.
"""

from __future__ import annotations

import logging

import anyio
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from core import validation
from core.errors import ConfigurationError, WebhookRejected
from core.metrics import GatewayMetrics
from core.queues import QueueBackend
from core.runtime import Runtime
from core.settings import Settings
from core.webhooks import WebhookReceiver, shop_for_domain

from .body_limit import BodyLimit, declared_length

log = logging.getLogger("sync_gateway.webhooks")

MAX_BODY_BYTES = 2 * 1024 * 1024
WEBHOOK_THREADS = 4
"""Deliveries verified and stored at once; anyio's default pool (40) is shared with the reads."""


def webhook_routes(runtime: Runtime, queue: QueueBackend, metrics: GatewayMetrics | None = None) -> list[Route]:
    """The receiver route; ``metrics`` counts each delivery by source and outcome."""

    def counted(source: str, outcome: str, response: JSONResponse) -> JSONResponse:
        if metrics is not None:
            metrics.count_webhook(source if source in runtime.webhook_receivers else "unknown", outcome)
        return response

    threads = anyio.CapacityLimiter(WEBHOOK_THREADS)

    async def receive(request: Request) -> JSONResponse:
        source = request.path_params["source"]
        receiver = runtime.webhook_receivers[source]  # headers_first answered an unknown source
        body = await request.body()  # at most MAX_BODY_BYTES: BodyLimit refused anything larger
        outcome, response = await anyio.to_thread.run_sync(_verify_and_accept, runtime, queue, receiver,
                                                           request.headers, body, limiter=threads)
        return counted(source, outcome, response)

    def headers_first(app: ASGIApp) -> ASGIApp:
        """Answer what the headers settle (unknown source, refused headers) before the body is read."""

        async def checked(scope: Scope, receive: Receive, send: Send) -> None:
            source = scope.get("path_params", {}).get("source", "")
            receiver = runtime.webhook_receivers.get(source)
            refusal: tuple[str, JSONResponse] | None
            if declared_length(scope) > MAX_BODY_BYTES:
                refusal = None  # BodyLimit answers 413 at once, before reading too
            elif receiver is None:
                refusal = "unknown_source", _error(404, f"no webhook receiver for source {source!r}")
            else:
                refusal = _refused_by_headers(receiver, Headers(scope=scope), runtime.settings)
            if refusal is None:
                await app(scope, receive, send)
                return
            outcome, response = refusal
            response.headers["Connection"] = "close"  # its body stays unread
            await counted(source, outcome, response)(scope, receive, send)

        return checked

    def refuse_too_large(max_bytes: int):  # type: ignore[no-untyped-def]
        response = _too_large(max_bytes)

        async def counted_refusal(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
            counted(scope.get("path_params", {}).get("source", ""), "too_large", response)
            await response(scope, receive, send)

        return counted_refusal

    limit = Middleware(BodyLimit, max_bytes=MAX_BODY_BYTES, refusal=refuse_too_large)
    return [Route("/webhooks/{source}", receive, methods=["POST"], middleware=[Middleware(headers_first), limit])]


def _refused_by_headers(receiver: WebhookReceiver, headers: Headers,
                        settings: Settings) -> tuple[str, JSONResponse] | None:
    check = getattr(receiver, "check_headers", None)  # optional: see core.WebhookReceiver
    if check is None:
        return None
    try:
        check(headers=headers, settings=settings)
    except WebhookRejected as rejected:
        return _rejected(receiver.source, rejected)
    except ConfigurationError as missing:
        return "not_configured", _error(503, str(missing))
    return None


def _rejected(source: str, rejected: WebhookRejected) -> tuple[str, JSONResponse]:
    log.warning("rejected a %s webhook: %s", source, rejected)
    return "rejected", _error(401, f"webhook rejected: {rejected}")


def _verify_and_accept(runtime: Runtime, queue: QueueBackend, receiver: WebhookReceiver, headers: Headers,
                       body: bytes) -> tuple[str, JSONResponse]:
    """In a worker thread: check the signature, parse, then store and queue (:func:`_accept`)."""
    try:
        event = validation.webhook_event(receiver.verify(headers=headers, body=body, settings=runtime.settings))
    except WebhookRejected as rejected:
        return _rejected(receiver.source, rejected)
    except ConfigurationError as missing:
        return "not_configured", _error(503, str(missing))
    return _accept(runtime, queue, event)


def _too_large(max_bytes: int) -> JSONResponse:
    return JSONResponse({"error": f"webhook body larger than {max_bytes:,} bytes"}, status_code=413,
                        headers={"Connection": "close"})


def _accept(runtime: Runtime, queue: QueueBackend, event) -> tuple[str, JSONResponse]:  # type: ignore[no-untyped-def]
    """Store the delivery and queue its refresh; returns the outcome (a metrics label) and the answer."""
    with runtime.storage.transaction() as tx:
        shop = shop_for_domain(tx, source=event.source, domain=event.shop_domain)
        if shop is None:
            return "unknown_shop", _error(404, f"no {event.source} shop with domain {event.shop_domain!r}")
        fresh = tx.record_delivery(shop_id=shop.id, delivery_id=event.delivery_id, topic=event.topic,
                                   received_at=runtime.now())
    if not fresh:
        return "duplicate", JSONResponse({"status": "duplicate", "deliveryId": event.delivery_id})
    if not event.order_ids:
        return "ignored", JSONResponse({"status": "ignored", "topic": event.topic})
    job_id = queue.enqueue_refresh(shop.id, list(event.order_ids), delivery_id=event.delivery_id,
                                   coalesce_seconds=runtime.settings.webhook_coalesce_seconds)
    log.info("webhook %s for %s: refresh of %s %s", event.topic, shop.name, event.order_ids,
             f"queued as {job_id}" if job_id else "joins the shop's waiting refresh")
    return "queued", JSONResponse({"status": "queued", "orders": list(event.order_ids)}, status_code=202)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)
