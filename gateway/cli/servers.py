"""The long-running commands: ``demo``, ``serve``, ``worker``, ``scheduler`` and ``simulator``."""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from . import context
from .context import console, err
from .simulator import Plan as SimulatedPlan

if TYPE_CHECKING:  # imported where used: a command loads only what it runs
    from core.queues import QueueBackend
    from core.runtime import Runtime


def demo(
    port: Annotated[int, typer.Option(help="GraphQL API port (0 picks a free one).")] = 8000,
    orders: Annotated[int, typer.Option(help="Orders in the simulated shop.")] = 500,
    once: Annotated[bool, typer.Option(help="Import once, print the summary and exit.")] = False,
) -> None:
    """Everything in one process: simulated shop, SQLite, embedded queue, scheduler, GraphQL API."""
    from .demo import run_demo

    run_demo(port=port, n_orders=orders, once=once, console=console)


def serve(
    host: Annotated[Optional[str], typer.Option(help="Bind address (default: settings.host).")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port (default: settings.port).")] = None,
    scheduler: Annotated[bool, typer.Option("--scheduler/--no-scheduler", help="Also run the scheduler.")] = False,
    workers: Annotated[int, typer.Option(min=1, max=64, help=(
        "API processes on the one port (more than 1 needs REDIS_URL; the scheduler, if asked for, "
        "still runs once)."))] = 1,
    access_log: Annotated[bool, typer.Option("--access-log/--no-access-log", help=(
        "Log every HTTP request (uvicorn's access log; off by default: a line per request costs "
        "throughput, and a reverse proxy usually logs them)."))] = False,
) -> None:
    """Serve the GraphQL API (and, without REDIS_URL, an in-process worker)."""
    import uvicorn

    from core.errors import ConfigurationError
    from core.metrics import GatewayMetrics
    from core.queues import QueueBackend
    from core.scheduler import SchedulerThread

    from ..api.app import create_app, settle_heap_for_serving

    runtime = context.runtime()
    queue = QueueBackend.from_settings(runtime.settings)
    bind_host = host or runtime.settings.host
    bind_port = port if port is not None else runtime.settings.port
    log_level = runtime.settings.log_level.lower()
    if workers > 1:
        if queue.embedded:
            runtime.close()
            raise ConfigurationError(
                "--workers needs REDIS_URL: the embedded queue and its worker live inside one process, so "
                "runs started through one API process would wait in that process alone",
                suggestion="set REDIS_URL and start `sync-gateway worker` beside the API, or serve one process",
            )
        serve_processes(runtime, queue, host=bind_host, port=bind_port, workers=workers, scheduler=scheduler,
                        access_log=access_log, log_level=log_level)
        return
    metrics = GatewayMetrics()
    if queue.embedded:
        from core.jobs import bind_runtime

        bind_runtime(runtime)
        queue.start_embedded_worker(after_job=lambda run_id: metrics.count_run_id(runtime.storage, run_id))
        err.print("[yellow]REDIS_URL is not set: runs execute in this process (embedded queue).[/]")
    ticker = SchedulerThread(runtime, queue.enqueue_run) if scheduler or queue.embedded else None
    if ticker:
        ticker.start()
    api = create_app(runtime, queue, metrics=metrics)
    settle_heap_for_serving()
    err.print(f"job manager http://{bind_host}:{bind_port}/ · GraphQL http://{bind_host}:{bind_port}/graphql", highlight=False)
    # uvicorn shuts down gracefully on SIGTERM and then raises the signal again for the handler it
    # found: with the default one the process would die there, before the cleanup below (the
    # embedded worker's run, the pools). This handler turns it into the Ctrl-C path.
    signal.signal(signal.SIGTERM, _stop_as_interrupt)
    try:
        uvicorn.run(api, host=bind_host, port=bind_port, log_level=log_level, access_log=access_log)
    except KeyboardInterrupt:
        pass  # uvicorn re-raises the Ctrl-C (or SIGTERM) it handled; stopping is the normal way out
    finally:
        if ticker:
            ticker.stop()
        queue.stop()
        runtime.close()


def serve_processes(runtime: Runtime, queue: QueueBackend, *, host: str, port: int, workers: int,
                    scheduler: bool, access_log: bool, log_level: str) -> None:
    """``serve --workers N``: uvicorn's supervisor starts N API processes on one socket, each
    building its own runtime (:func:`gateway.cli.api_process.make_app`); this process only
    supervises them and, with ``--scheduler``, ticks the one scheduler (so N processes never
    enqueue a slot N times). Runs execute in ``sync-gateway worker`` processes."""
    import uvicorn

    from core.scheduler import SchedulerThread

    ticker = SchedulerThread(runtime, queue.enqueue_run) if scheduler else None
    if ticker:
        ticker.start()
    err.print(f"{workers} API processes · job manager http://{host}:{port}/ · GraphQL http://{host}:{port}/graphql",
              highlight=False)
    try:
        # The supervisor handles SIGTERM and SIGINT itself: it stops the processes and returns.
        uvicorn.run("gateway.cli.api_process:make_app", factory=True, host=host, port=port, workers=workers,
                    log_level=log_level, access_log=access_log)
    except KeyboardInterrupt:
        pass
    finally:
        if ticker:
            ticker.stop()
        queue.stop()
        runtime.close()


def _stop_as_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def worker(
    name: Annotated[Optional[str], typer.Option(help="Worker name shown by `rq info`.")] = None,
    burst: Annotated[bool, typer.Option(help="Exit when the queue is empty.")] = False,
) -> None:
    """Execute queued runs from Redis (start any number, on any machine)."""
    from core.errors import ConfigurationError
    from core.queues import QueueBackend
    from core.settings import Settings

    settings = Settings()
    context.setup_logging(settings)
    if not settings.redis_url:
        raise ConfigurationError(
            "a worker needs REDIS_URL: the embedded queue lives inside one process",
            suggestion="set REDIS_URL=redis://host:6379/0, or use `sync-gateway serve` / `demo` without Redis",
        )
    # Make sure the schema is current before the first job; each forked work-horse then
    # builds its own runtime (connections must not cross a fork).
    runtime = context.runtime()
    runtime.close()
    queue = QueueBackend.from_settings(settings)
    after_job = None
    if settings.metrics_port is not None:
        from core.metrics import GatewayMetrics

        metrics = GatewayMetrics()
        metrics.serve(settings.metrics_port, settings.host)

        def after_job(run_id: int) -> None:
            # The work-horse has exited: count its run from the stored record, then close the
            # connection again so none is open when the next horse forks.
            try:
                metrics.count_run_id(runtime.storage, run_id)
            finally:
                runtime.storage.dispose()

    queue.work(name=name, burst=burst, logging_level=settings.log_level.upper(), after_job=after_job)


def scheduler() -> None:
    """Enqueue due runs on Redis; any number may run at once, each slot is enqueued once."""
    from core.errors import ConfigurationError
    from core.queues import QueueBackend
    from core.scheduler import SchedulerThread

    runtime = context.runtime()
    queue = QueueBackend.from_settings(runtime.settings)
    if queue.embedded:
        raise ConfigurationError("a separate scheduler needs REDIS_URL",
                                 suggestion="without Redis, `sync-gateway serve` schedules in-process")
    if runtime.settings.metrics_port is not None:
        from core.metrics import GatewayMetrics

        metrics = GatewayMetrics()
        metrics.add_store(runtime.storage, clock=runtime.now, queue_depth=queue.queued_count)
        metrics.serve(runtime.settings.metrics_port, runtime.settings.host)
    console.print(f"scheduler ticking every {runtime.settings.scheduler_tick_seconds:g}s; Ctrl-C to stop")
    try:
        SchedulerThread(runtime, queue.enqueue_run).run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        runtime.close()


def simulator(
    orders: Annotated[int, typer.Option(min=0, max=1_000_000, help="Orders in the simulated shop.")] = 500,
    port: Annotated[int, typer.Option(help="Port (0 picks a free one).")] = 8900,
    host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
    seed: Annotated[int, typer.Option(help="Random seed of the orders' histories (same seed, same shop).")] = 7,
    plan: Annotated[SimulatedPlan, typer.Option(help="Shopify plan: its API budget and restore rate.")] = SimulatedPlan.STANDARD,
    domain: Annotated[str, typer.Option(help="The shop's myshopify domain.")] = "sim-shop.myshopify.com",
    token: Annotated[Optional[str], typer.Option(help="The access token it accepts (default: a new random one).")] = None,
) -> None:
    """Serve the bundled Shopify simulator, seeded with orders and cancellations, until Ctrl-C:
    try the gateway end to end without a real shop."""
    from .simulator import serve_simulator

    serve_simulator(host=host, port=port, orders=orders, seed=seed, plan=plan, domain=domain, token=token,
                    console=console)
