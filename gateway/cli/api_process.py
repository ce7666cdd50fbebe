"""One API process of ``sync-gateway serve --workers N``: uvicorn's supervisor imports this in each
process it starts and calls :func:`make_app` there.

Each process builds its own runtime, queue connection and metrics from the settings (the
environment and config file it inherits), since connections must not cross a process boundary.
It runs no embedded worker and no scheduler: ``--workers`` needs Redis, whose workers run the
jobs, and the supervising process ticks the one scheduler when asked to.
"""

from __future__ import annotations

from starlette.applications import Starlette


def make_app() -> Starlette:
    from core.metrics import GatewayMetrics
    from core.queues import QueueBackend

    from ..api.app import create_app, settle_heap_for_serving
    from . import context

    runtime = context.runtime(upgrade=False)  # the supervisor upgraded the schema before starting us
    queue = QueueBackend.from_settings(runtime.settings)
    app = create_app(runtime, queue, metrics=GatewayMetrics())
    settle_heap_for_serving()
    return app
