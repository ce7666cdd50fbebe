"""The Starlette ASGI app of a simulated shop.

Routes:

* ``POST /admin/api/{version}/graphql.json`` - the Admin GraphQL API (``application/json`` body
  ``{"query", "variables", "operationName"}``, or a raw ``application/graphql`` query).
* ``GET /bulk/{id}.jsonl`` - the result file of a completed bulk operation (``?partial=1``: the
  partial data of one made to fail, see ``BulkManager.end_next``) (no token needed,
  like Shopify's signed storage URLs).
* ``GET /healthz``.

HTTP framing as on Shopify: unknown token -> 401, unsupported but well-formed version -> 404
``{"errors":"Not Found"}``, undecodable body -> 400, everything GraphQL-level (validation errors,
``THROTTLED``, ``MAX_COST_EXCEEDED``) -> 200. Every GraphQL reply has ``X-Request-Id`` and
``X-Shopify-API-Version``.

Real Shopify *falls forward* when a retired version is requested (it serves the oldest supported
one). The simulator answers 404 instead: a test should fail loudly when a client asks for a version
the simulated shop does not serve, rather than silently exercise another schema.

Concurrency: request handlers never await while they read or change the store (the only awaits
are reading the body, the ``slow`` fault, a stall or delay (:mod:`.replies`), the simulated
latency (:mod:`.latency`, after the request is executed) and streaming bulk results chunk by chunk), so concurrent
requests on one event loop never see half-applied state; the bucket has its own lock for threads.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from .endpoint import Reply, RequestRecord
from .faults import Fault, SimulatedConnectionDrop

if TYPE_CHECKING:
    from .shop import ShopSimulator

__all__ = ["build_app"]

_VERSION = re.compile(r"^\d{4}-\d{2}$")
_UNAUTHORIZED = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
_BAD_GATEWAY = (
    "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    "<body><h1>502 Bad Gateway</h1><p>The server returned an invalid or incomplete response.</p></body></html>"
)
_RATE_LIMITED = {
    "errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."
}


class _DroppedConnection(Response):
    """Sends the status line, then dies: the client gets no (complete) response."""

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
            }
        )
        raise SimulatedConnectionDrop()


def _fault_response(fault: Fault) -> Response:
    if fault.kind == "429":
        return JSONResponse(_RATE_LIMITED, status_code=429, headers={"Retry-After": "2.0"})
    if fault.kind == "drop":
        return _DroppedConnection()
    if fault.status == 502:
        return Response(_BAD_GATEWAY, status_code=502, media_type="text/html")
    if fault.status == 503:
        return JSONResponse({"errors": "Service Unavailable"}, status_code=503)
    return JSONResponse({"errors": "Internal Server Error"}, status_code=500)


def build_app(shop: ShopSimulator) -> Starlette:
    """The ASGI app serving ``shop``."""

    def log(number: int, version: str, status: int, outcome: str, reply: Reply | None = None) -> None:
        if shop.stats.log is not None:
            shop.stats.log.append(
                RequestRecord(
                    number,
                    version,
                    reply.operation_name if reply else None,
                    status,
                    outcome,
                    reply.requested_cost if reply else None,
                    reply.actual_cost if reply else None,
                )
            )

    async def graphql(request: Request) -> Response:
        stats = shop.stats
        stats.requests += 1
        number = stats.requests
        version = request.path_params["version"]
        headers = {"X-Request-Id": str(uuid.uuid4())}
        await shop.replies.hold()
        fault = shop.fault_injector.decide(number)
        if fault is not None:
            stats.errors_injected += 1
            stats.faults[fault.kind] = stats.faults.get(fault.kind, 0) + 1
            if fault.kind == "slow":
                await asyncio.sleep(fault.seconds)
            elif fault.kind not in ("throttle_storm", "truncated"):
                log(number, version, fault.status or 200, fault.kind)
                response = _fault_response(fault)
                response.headers.update(headers)
                return response

        if not _VERSION.match(version) or version not in shop.api_versions:
            log(number, version, 404, "not_found")
            return JSONResponse({"errors": "Not Found"}, status_code=404, headers=headers)
        headers["X-Shopify-API-Version"] = version
        if request.headers.get("x-shopify-access-token") != shop.access_token:
            log(number, version, 401, "unauthorized")
            return JSONResponse(_UNAUTHORIZED, status_code=401, headers=headers)

        raw = await request.body()
        payload: Any
        if request.headers.get("content-type", "").split(";")[0].strip() == "application/graphql":
            payload = {"query": raw.decode("utf-8", "replace")}
        else:
            try:
                payload = orjson.loads(raw)
            except orjson.JSONDecodeError:
                payload = None
            if not isinstance(payload, dict):
                log(number, version, 400, "invalid")
                return JSONResponse(
                    {"errors": "Bad Request: the body is not a JSON object"}, status_code=400, headers=headers
                )

        reply = shop.endpoint.handle(
            version, payload, throttle_storm=fault is not None and fault.kind == "throttle_storm"
        )
        body = reply.encode()
        if fault is not None and fault.kind == "truncated":
            body = body[: len(body) // 2]
        log(number, version, reply.status, fault.kind if fault is not None else reply.outcome, reply)
        latency = shop.latency
        if not latency.none:
            data = reply.body.get("data") if isinstance(reply.body, dict) else None
            await asyncio.sleep(latency.seconds(data))
        return Response(body, status_code=reply.status, media_type="application/json; charset=utf-8", headers=headers)

    async def bulk_result(request: Request) -> Response:
        try:
            op = shop.bulk.get(int(request.path_params["op_id"]))
        except ValueError:
            op = None
        partial = request.query_params.get("partial") == "1"
        if op is None or not (shop.bulk.has_partial_data(op) if partial else shop.bulk.status(op) == "COMPLETED"):
            return JSONResponse({"errors": "Not Found"}, status_code=404)

        async def chunks() -> AsyncIterator[bytes]:
            if shop.latency.round_trip:
                await asyncio.sleep(shop.latency.round_trip)
            # Chunks are rendered on the event loop (never in a worker thread, which could race
            # with story operations), yielding control between chunks.
            for chunk in shop.bulk.jsonl(op, partial=partial):
                yield chunk
                await asyncio.sleep(0)

        return StreamingResponse(chunks(), media_type="application/jsonl")

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "shop": shop.shop_domain, "orders": len(shop.store.orders)})

    return Starlette(
        routes=[
            Route("/admin/api/{version}/graphql.json", graphql, methods=["POST"]),
            Route("/bulk/{op_id}.jsonl", bulk_result, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )
