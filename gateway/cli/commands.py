"""The ``sync-gateway`` command line.

Commands import only what they use: ``run`` never loads the GraphQL server, so a foreground
import starts fast.
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console

if TYPE_CHECKING:
    from core.runtime import Runtime
    from core.settings import Settings

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="GraphQL sync gateway: keeps an order store in step with Shopify.")
shops_app = typer.Typer(no_args_is_help=True, help="Add, list and remove shops.")
tokens_app = typer.Typer(no_args_is_help=True, help="API tokens for the GraphQL API.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
run_app = typer.Typer(no_args_is_help=True, help="Run a job once now, in the foreground.")
jobs_app = typer.Typer(no_args_is_help=True, help="List jobs and change their schedules.")
secret_key_app = typer.Typer(no_args_is_help=True, help="The key that encrypts stored shop access tokens.")
app.add_typer(shops_app, name="shops")
app.add_typer(tokens_app, name="tokens")
app.add_typer(db_app, name="db")
app.add_typer(run_app, name="run")
app.add_typer(jobs_app, name="jobs")
app.add_typer(secret_key_app, name="secret-key")

console = Console()
err = Console(stderr=True)


def main() -> None:
    """Run the command line; a failure becomes one line and an exit code per cause
    (:mod:`gateway.cli.failures`); ``--debug`` anywhere, or LOG_LEVEL=DEBUG, adds the traceback.

    The executable enters through :func:`gateway.startup.main`, which calls this."""
    from .failures import describe

    debug = "--debug" in sys.argv[1:]
    if debug:
        sys.argv = [arg for arg in sys.argv if arg != "--debug"]
    debug = debug or _env_log_level() == "DEBUG"
    try:
        app()  # usage errors exit 2 inside (click's standalone mode); the rest reaches us
    except Exception as exc:
        failure = describe(exc)
        if debug:
            err.print_exception(show_locals=False)
        err.print(f"[bold red]error:[/] {failure.line}", highlight=False, markup=True, soft_wrap=True)
        sys.exit(int(failure.code))


def _env_log_level() -> str:
    return (os.environ.get("SYNC_GATEWAY_LOG_LEVEL") or "").upper()


def _setup_logging(settings: Settings) -> None:
    from .logs import setup_logging

    setup_logging(settings.log_level, settings.log_format, console=err)


def _runtime(upgrade: bool = True) -> Runtime:
    from core.runtime import Runtime
    from core.settings import Settings

    from ..startup import settle_heap

    settings = Settings()
    _setup_logging(settings)
    runtime = Runtime.build(settings, upgrade=upgrade)
    settle_heap()
    return runtime


# --- servers ---------------------------------------------------------------------------------


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="GraphQL API port (0 picks a free one).")] = 8000,
    orders: Annotated[int, typer.Option(help="Orders in the simulated shop.")] = 500,
    once: Annotated[bool, typer.Option(help="Import once, print the summary and exit.")] = False,
) -> None:
    """Everything in one process: simulated shop, SQLite, embedded queue, scheduler, GraphQL API."""
    from .demo import run_demo

    run_demo(port=port, n_orders=orders, once=once, console=console)


@app.command()
def serve(
    host: Annotated[Optional[str], typer.Option(help="Bind address (default: settings.host).")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port (default: settings.port).")] = None,
    scheduler: Annotated[bool, typer.Option("--scheduler/--no-scheduler", help="Also run the scheduler.")] = False,
) -> None:
    """Serve the GraphQL API (and, without REDIS_URL, an in-process worker)."""
    import uvicorn

    from core.queues import QueueBackend
    from core.scheduler import SchedulerThread

    from ..api.app import create_app, settle_heap_for_serving

    from core.metrics import GatewayMetrics

    runtime = _runtime()
    queue = QueueBackend.from_settings(runtime.settings)
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
    try:
        uvicorn.run(api, host=host or runtime.settings.host,
                    port=port if port is not None else runtime.settings.port,
                    log_level=runtime.settings.log_level.lower())
    except KeyboardInterrupt:
        pass  # uvicorn re-raises the Ctrl-C it handled; stopping is the normal way out
    finally:
        if ticker:
            ticker.stop()
        queue.stop()
        runtime.close()


@app.command()
def worker(
    name: Annotated[Optional[str], typer.Option(help="Worker name shown by `rq info`.")] = None,
    burst: Annotated[bool, typer.Option(help="Exit when the queue is empty.")] = False,
) -> None:
    """Execute queued runs from Redis (start any number, on any machine)."""
    from core.errors import ConfigurationError
    from core.queues import QueueBackend
    from core.settings import Settings

    settings = Settings()
    _setup_logging(settings)
    if not settings.redis_url:
        raise ConfigurationError(
            "a worker needs REDIS_URL: the embedded queue lives inside one process",
            suggestion="set REDIS_URL=redis://host:6379/0, or use `sync-gateway serve` / `demo` without Redis",
        )
    # Make sure the schema is current before the first job; each forked work-horse then
    # builds its own runtime (connections must not cross a fork).
    runtime = _runtime()
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


@app.command("scheduler")
def scheduler_command() -> None:
    """Enqueue due runs on Redis; any number may run at once, each slot is enqueued once."""
    from core.errors import ConfigurationError
    from core.queues import QueueBackend
    from core.scheduler import SchedulerThread

    runtime = _runtime()
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


# --- shops -----------------------------------------------------------------------------------


@shops_app.command("add")
def shops_add(
    name: Annotated[str, typer.Argument(help="Short name, e.g. 'acme'.")],
    url: Annotated[str, typer.Option(help="myshopify domain (acme.myshopify.com) or full base URL.")],
    token: Annotated[Optional[str], typer.Option(help="Admin API access token (stored encrypted: needs SYNC_GATEWAY_SECRET_KEY; prefer --token-env).")] = None,
    token_env: Annotated[Optional[str], typer.Option(help="Name of the environment variable holding the token.")] = None,
    api_version: Annotated[Optional[str], typer.Option(help="Admin API version (default: settings).")] = None,
    no_check: Annotated[bool, typer.Option("--no-check", help="Accept a --token-env variable that is not set "
                                                              "here (it is set where the worker runs).")] = False,
) -> None:
    """Add a shop and its hourly canceled-items job."""
    from core.errors import ValidationError
    from core.jobcontrol import add_shop
    from core.models import NewShop
    from core.validation import api_version_warning, release_calendar_day

    if (token is None) == (token_env is None):
        raise ValidationError("give exactly one of --token or --token-env", field="token")
    runtime = _runtime()
    try:
        shop, jobs = add_shop(runtime, NewShop(name=name, url=url, token=token, token_env=token_env,
                                               api_version=api_version or runtime.settings.shopify_api_version),
                              check_env=not no_check)
        warning = api_version_warning(shop.api_version, today=release_calendar_day(runtime.now()))
    finally:
        runtime.close()
    console.print(f"added shop [bold]{shop.name}[/] ({shop.url}, API {shop.api_version})", highlight=False)
    if warning:
        err.print(f"[yellow]warning:[/] {warning}", highlight=False)
    for job in jobs:
        console.print(f"  job {job.id} {job.kind}: next run {job.next_run_at:%Y-%m-%d %H:%M:%S %Z}")


@shops_app.command("list")
def shops_list() -> None:
    """List shops."""
    from rich.table import Table

    runtime = _runtime()
    with runtime.storage.transaction() as tx:
        shops = tx.list_shops()
    runtime.close()
    table = Table("name", "source", "url", "api version", "token")
    for shop in shops:
        table.add_row(shop.name, shop.source, shop.url, shop.api_version,
                      "stored" if shop.has_token else f"${shop.token_env}" if shop.token_env else "-")
    console.print(table)


@shops_app.command("remove")
def shops_remove(name: str, yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False) -> None:
    """Remove a shop with its jobs, runs, orders and history."""
    from core.jobcontrol import find_shop, remove_shop

    runtime = _runtime()
    try:
        with runtime.storage.read() as tx:
            shop = find_shop(tx, name)
        if not yes:
            typer.confirm(f"remove shop {name} and everything stored for it?", abort=True)
        remove_shop(runtime, shop.id)
    finally:
        runtime.close()
    console.print(f"removed shop {name}")


@shops_app.command("check")
def shops_check(
    name: Annotated[str, typer.Argument(help="The shop's name.")],
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the shop.")] = 20.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Ask the shop who it is and what its token may read: plan and scopes, or why it failed.

    Exits 0 when the gateway can read the shop's orders, 1 when it cannot."""
    from core.connections import check_shop_connection

    from .output import print_json

    runtime = _runtime()
    try:
        check = check_shop_connection(runtime, name, timeout=timeout)
    finally:
        runtime.close()
    if as_json:
        print_json(check)
    elif check.ok:
        console.print(f"[green]✓[/] shop {check.shop}: {check.message}", highlight=False)
    else:
        console.print(f"[red]✗[/] shop {check.shop}: {check.problem.value if check.problem else 'FAILED'}: "
                      f"{check.message}", highlight=False)
    if not as_json and (check.scopes or check.plan):
        budget = (f" (API budget {check.api_points:,.0f} points, {check.api_restore_rate:,.0f} per second)"
                  if check.api_points is not None and check.api_restore_rate is not None else "")
        console.print(f"  plan: {check.plan or 'unknown'}{budget}", highlight=False)
        console.print(f"  scopes: {', '.join(check.scopes) or 'none'}", highlight=False)
        if check.missing_scopes:
            console.print(f"  missing: {', '.join(check.missing_scopes)}", highlight=False)
        if check.optional_missing_scopes:
            console.print(f"  would read more with: {', '.join(check.optional_missing_scopes)}", highlight=False)
    raise typer.Exit(0 if check.ok else 1)


# --- jobs ------------------------------------------------------------------------------------


@jobs_app.command("list")
def jobs_list() -> None:
    """List jobs with schedule, next run and last run."""
    from rich.table import Table

    from core.schedules import describe

    runtime = _runtime()
    table = Table("id", "shop", "kind", "schedule", "paused", "next run", "last run")
    with runtime.storage.transaction() as tx:
        for job in tx.list_jobs():
            last = tx.latest_run(job.id)
            table.add_row(str(job.id), job.shop, job.kind, describe(job.schedule), "yes" if job.paused else "",
                          f"{job.next_run_at:%Y-%m-%d %H:%M:%S}" if job.next_run_at else "-",
                          f"{last.status.value} #{last.id}" if last else "-")
    runtime.close()
    console.print(table)


@jobs_app.command("schedule")
def jobs_schedule(
    job_id: int,
    cron: Annotated[Optional[str], typer.Option(help="Cron expression, e.g. '0 * * * *'.")] = None,
    every: Annotated[Optional[int], typer.Option(help="Interval in seconds.")] = None,
    timezone: Annotated[Optional[str], typer.Option(help="IANA timezone for cron.")] = None,
) -> None:
    """Change a job's schedule (applies at the scheduler's next tick)."""
    from core.jobcontrol import update_schedule
    from core.schedules import describe

    runtime = _runtime()
    try:
        job = update_schedule(runtime, job_id, cron=cron, every_seconds=every, timezone=timezone)
    finally:
        runtime.close()
    console.print(f"job {job.id}: {describe(job.schedule)}; next run {job.next_run_at:%Y-%m-%d %H:%M:%S %Z}")


# --- run once --------------------------------------------------------------------------------


@run_app.command("canceled-items")
def run_canceled_items(
    shop: Annotated[str, typer.Option(help="Shop name.")],
    window_from: Annotated[Optional[datetime], typer.Option("--from", help="Window start (ISO, UTC if no offset).")] = None,
    window_thru: Annotated[Optional[datetime], typer.Option("--thru", help="Window end (ISO, UTC if no offset).")] = None,
) -> None:
    """Import one window now, in the foreground, with a progress bar."""
    from .foreground import run_foreground

    runtime = _runtime()
    try:
        ok = run_foreground(runtime, shop_name=shop, kind="canceled-items", window_from=window_from,
                            window_thru=window_thru, console=console)
    finally:
        runtime.close()
    raise typer.Exit(0 if ok else 1)


@app.command()
def backfill(
    shop: Annotated[str, typer.Option(help="Shop name.")],
    since: Annotated[datetime, typer.Option(help="Window start (ISO, UTC if no offset).")],
    until: Annotated[Optional[datetime], typer.Option(help="Window end (default: now minus the settle buffer).")] = None,
) -> None:
    """Import a long past window now (a bulk query where the source has one), with a progress bar."""
    from .foreground import run_backfill

    runtime = _runtime()
    try:
        ok = run_backfill(runtime, shop_name=shop, since=since, until=until, console=console)
    finally:
        runtime.close()
    raise typer.Exit(0 if ok else 1)


# --- tokens, db, plugins -----------------------------------------------------------------------


@tokens_app.command("create")
def tokens_create(
    role: Annotated[str, typer.Option(help="admin (query and mutate) or read (query only).")],
    name: Annotated[str, typer.Option(help="Who uses it.")] = "cli",
) -> None:
    """Create an API token and print it (it is shown only once)."""
    from core.apitokens import issue_token

    runtime = _runtime()
    try:
        record, plaintext = issue_token(runtime, name=name, role=role)
    finally:
        runtime.close()
    err.print(f"created {record.role.value} token {record.id} ({record.name}); it is shown only once:")
    print(plaintext)


@tokens_app.command("list")
def tokens_list() -> None:
    """List API tokens (never their values)."""
    runtime = _runtime()
    with runtime.storage.transaction() as tx:
        tokens = tx.list_api_tokens()
    runtime.close()
    for t in tokens:
        state = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "active"
        console.print(f"{t.id}\t{t.role.value}\t{t.name}\t{state}")


@tokens_app.command("revoke")
def tokens_revoke(token_id: int) -> None:
    """Revoke an API token (a running API server may accept it for a few more seconds)."""
    from core.apitokens import DEFAULT_CACHE_SECONDS, revoke_token

    runtime = _runtime()
    try:
        revoke_token(runtime, token_id)
    finally:
        runtime.close()
    console.print(f"revoked token {token_id}; API servers stop accepting it within {DEFAULT_CACHE_SECONDS:g} s")


@secret_key_app.command("generate")
def secret_key_generate() -> None:
    """Print a new random key for SYNC_GATEWAY_SECRET_KEY (touches no database)."""
    from core.token_cipher import generate_key

    err.print("a new key for SYNC_GATEWAY_SECRET_KEY (keep it safe: stored tokens cannot be read without it; "
              "to rotate, list it first, the old key after it, and run `sync-gateway secret-key rotate`):",
              highlight=False)
    print(generate_key())


@secret_key_app.command("rotate")
def secret_key_rotate() -> None:
    """Encrypt every stored shop token again with the first key of SYNC_GATEWAY_SECRET_KEY."""
    from core.errors import ConfigurationError
    from core.token_cipher import TokenCipher

    runtime = _runtime()
    try:
        if not TokenCipher.from_settings(runtime.settings).has_key:
            raise ConfigurationError("SYNC_GATEWAY_SECRET_KEY is not set", suggestion="list the new key first "
                                     "and the old ones after it, comma-separated, then rotate")
        with runtime.storage.transaction() as tx:
            count = tx.rotate_shop_tokens()
    finally:
        runtime.close()
    console.print(f"re-encrypted {count} stored access token{'' if count == 1 else 's'} with the first key; "
                  "the keys after it can now be removed from SYNC_GATEWAY_SECRET_KEY", highlight=False)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to the newest version."""
    runtime = _runtime(upgrade=True)
    runtime.close()
    console.print(f"database is up to date ({_redacted(runtime.settings.database)})")


@app.command()
def plugins() -> None:
    """List loaded plugins and the hooks they implement."""
    from core.plugins import describe_plugins, make_plugin_manager
    from core.settings import Settings

    settings = Settings()
    for info in describe_plugins(make_plugin_manager(allow=settings.load_plugins)):
        console.print(f"[bold]{info.name}[/] {info.version or ''} ({info.module}): {', '.join(info.hooks)}")


def _redacted(url: str) -> str:
    from core.settings import _redact_url

    return _redact_url(url) or ""


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
