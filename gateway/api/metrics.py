"""``/metrics`` of the API process, and the schema extension that counts GraphQL operations."""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from strawberry.extensions import SchemaExtension

from core.metrics import GatewayMetrics


def metrics_endpoint(metrics: GatewayMetrics):  # type: ignore[no-untyped-def]
    """The text exposition format of ``metrics``' registry (the store is read per scrape)."""

    async def serve(request: Request) -> Response:
        import anyio

        # the store collector queries the database: off the event loop
        body = await anyio.to_thread.run_sync(generate_latest, metrics.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return serve


class OperationMetrics(SchemaExtension):
    """Counts each operation by type (query, mutation, subscription, or ``unknown`` when it
    did not parse) and outcome: ``ok``, ``error`` (it ran and some field failed) or
    ``invalid`` (refused before execution: syntax, validation, a limit)."""

    metrics: GatewayMetrics  # set on the subclass :func:`operation_metrics` makes

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context
        try:
            operation = context.operation_type.value
        except Exception:  # no document, or no operation in it
            operation = "unknown"
        # strawberry also files execution errors under ``pre_execution_errors``; an error
        # raised while executing has a path, one refused before execution has none
        errors = (context.result.errors if context.result is not None else None) or context.pre_execution_errors
        if not errors:
            outcome = "ok"
        elif any(error.path for error in errors):
            outcome = "error"
        else:
            outcome = "invalid"
        self.metrics.count_graphql(operation, outcome, time.perf_counter() - started)


def operation_metrics(metrics: GatewayMetrics) -> type[OperationMetrics]:
    """The extension class bound to ``metrics`` (strawberry instantiates it per operation)."""
    return type("BoundOperationMetrics", (OperationMetrics,), {"metrics": metrics})
