"""The ASGI app: ``/graphql`` (HTTP GET/POST, graphql-transport-ws, GraphiQL in a browser),
``/webhooks/<source>`` (the fast path, see :mod:`gateway.api.webhooks`), ``/healthz`` and
``/readyz`` (:mod:`gateway.api.health`), ``/metrics`` (Prometheus, :mod:`core.metrics`) and the
job manager page at ``/`` (:mod:`gateway.web`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from core.apitokens import TokenCache
from core.metrics import GatewayMetrics
from core.queues import QueueBackend
from core.runtime import Runtime

from .body_limit import BodyLimit
from .context import Context
from .health import liveness, readiness
from .metrics import metrics_endpoint
from .plugin_routes import plugin_routes
from .requests import StrictRequests
from .ws_tokens import TokenCheckingHandler
from .schema import schema_for
from ..startup import settle_heap
from ..web import graphiql_html, web_routes
from .webhooks import webhook_routes


class TextFrameWebSocket(ASGIWebSocketAdapter):
    """graphql-transport-ws messages go out as text frames. Strawberry sends ``encode_json``'s
    bytes as binary frames, which browsers' clients (graphql-ws, GraphiQL) cannot parse."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class GatewayGraphQL(StrictRequests, GraphQL[Context, None]):
    """Strawberry's ASGI view with our context: the caller's token and fresh DataLoaders, and
    malformed requests refused as GraphQL-shaped 400s (:mod:`gateway.api.requests`).

    Each view (so each API process) keeps its own :class:`TokenCache`; tokens revoked through
    this process's ``revokeApiToken`` are evicted from it at once. Websockets re-check their
    token on every ``subscribe`` and while open (:mod:`gateway.api.ws_tokens`, close code 4403).
    """

    graphql_transport_ws_handler_class = TokenCheckingHandler
    websocket_adapter_class = TextFrameWebSocket

    def __init__(self, runtime: Runtime, queue: QueueBackend, *, graphiql: bool,
                 token_cache: TokenCache | None = None, metrics: GatewayMetrics | None = None) -> None:
        super().__init__(
            schema_for(runtime.settings, metrics=metrics, pm=runtime.pm),
            graphql_ide="graphiql" if graphiql else None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            allowed_origins=tuple(runtime.settings.cors_origins),
        )
        self.runtime = runtime
        self.queue = queue
        self.token_cache = token_cache if token_cache is not None else TokenCache()

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        context = Context(runtime=self.runtime, queue=self.queue, request=request, response=response,
                          token_cache=self.token_cache)
        await context.authenticate(request.headers.get("authorization"))
        return context

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Browsers cannot set headers on a websocket: the token may come in ``connection_init``."""
        params = context.connection_params or {}
        header = params.get("Authorization") or params.get("authorization")
        if isinstance(header, str) and header.strip():
            await context.authenticate(header)
        return UNSET

    @property
    def graphql_ide_html(self) -> str:
        return graphiql_html()  # strawberry's loads its assets from a CDN; ours ships them

    def encode_json(self, data: object) -> bytes:  # type: ignore[override]
        return orjson.dumps(data)


def settle_heap_for_serving() -> None:
    """Before a process starts serving: stop the garbage collector re-scanning start-up objects.

    Everything built so far (the schema, SQLAlchemy's metadata, the plugins) lives as long as the
    process, yet every full collection walked it again. ``gc.freeze()`` sets it aside, and the
    youngest generation is collected every 7,000 allocations instead of 700: a page of 50 orders
    allocates thousands of short-lived objects. Measured in-process on that page: 0.50 ms of
    collection per request before, 0.21 ms after. Cycles are still collected; it changes when.
    """
    settle_heap(collect=True, young_threshold=7000)


def create_app(runtime: Runtime, queue: QueueBackend, *, graphiql: bool = True,
               token_cache: TokenCache | None = None, metrics: GatewayMetrics | None = None) -> Starlette:
    """Build the API around a runtime and a queue the caller owns (and closes).

    ``token_cache``: this process's positive token lookups (default: a new
    :class:`core.apitokens.TokenCache`, trusted for ``DEFAULT_CACHE_SECONDS``).
    ``metrics``: this process's registry (default: a new one); the caller passes its own when an
    embedded worker in the same process counts runs into it. The store's state is added to it here.
    """
    if metrics is None:
        metrics = GatewayMetrics()
    metrics.add_store(runtime.storage, clock=runtime.now, queue_depth=queue.queued_count)
    graphql = GatewayGraphQL(runtime, queue, graphiql=graphiql, token_cache=token_cache, metrics=metrics)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        # Nothing global to set up: the runtime and queue belong to whoever built the app.
        yield {}

    routes = [
        Route("/graphql", graphql, methods=["GET", "POST"],
              middleware=[Middleware(BodyLimit, max_bytes=runtime.settings.max_body_bytes)]),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", liveness(runtime), methods=["GET"]),
        Route("/readyz", readiness(runtime, queue), methods=["GET"]),
        Route("/metrics", metrics_endpoint(metrics), methods=["GET"]),
        *webhook_routes(runtime, queue, metrics),
        *web_routes(),
    ]
    return Starlette(
        routes=[*routes, *plugin_routes(runtime, routes)],
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origins=list(runtime.settings.cors_origins),
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type"],
                max_age=600,
            )
        ],
        lifespan=lifespan,
    )
