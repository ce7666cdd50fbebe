"""``sync-gateway demo``: the whole product in one process on a fresh machine.

A simulated Shopify shop (served on a real local socket, as a proxy would be), SQLite in the
data folder, the embedded queue and worker, the scheduler and the GraphQL API. The demo stores
its shop's token, so it needs a key to encrypt it: ``SYNC_GATEWAY_SECRET_KEY`` if set, else a
key of its own in :data:`KEY_FILE` under the data folder, made on the first run (mode 0600).
"""

from __future__ import annotations

import os
import random
import shlex
import socket
import threading
import time
from datetime import timedelta
from pathlib import Path

import uvicorn
from pydantic import SecretStr
from rich.console import Console

from core.apitokens import issue_token
from core.errors import ConfigurationError
from core.jobcontrol import add_shop, run_job_now, update_schedule
from core.jobs import bind_runtime, unbind_runtime
from core.metrics import GatewayMetrics
from core.models import JobRun, JobRunStatus, NewShop
from core.queues import QueueBackend
from core.runtime import Runtime
from core.scheduler import SchedulerThread
from core.settings import Settings
from core.token_cipher import generate_key

from ..startup import settle_heap

DEMO_SHOP = "demo"
DEMO_EVERY_SECONDS = 60
ACTIVITY_EVERY_SECONDS = 20
KEY_FILE = "demo-secret.key"


def run_demo(*, port: int, n_orders: int, once: bool, console: Console) -> None:
    from plugins.shopify.simulator import ShopSimulator  # the demo's shop, shipped in the package

    base = Settings()
    # The API's port is bound before anything a user would act on is printed: a busy port is
    # one clear error here, not tokens and a curl line for a server that never started.
    api_socket = None if once else listen_on(base.host, port)
    db_path = (base.data_dir / "demo.db").absolute()  # the lines printed for another terminal need no cwd
    _reset(db_path)
    # A demo shows new cancellations within a minute; production keeps HotWax's 5-minute settle.
    overrides = {"database_url": f"sqlite:///{db_path.as_posix()}", "min_interval_seconds": 10}
    if "window_settle_seconds" not in base.model_fields_set:
        overrides["window_settle_seconds"] = 2
    key_source = "SYNC_GATEWAY_SECRET_KEY"
    key_path: Path | None = None
    if base.secret_key is None:
        key_path = (base.data_dir / KEY_FILE).absolute()
        overrides["secret_key"] = SecretStr(_local_key(key_path))
        key_source = f"{key_path} (mode 0600, made by the demo; production sets SYNC_GATEWAY_SECRET_KEY)"
    settings = base.model_copy(update=overrides)
    _quiet_logs(settings)
    console.soft_wrap = True  # long URLs and tokens must stay copyable on one line

    sim = ShopSimulator(shop_domain="demo-shop.myshopify.com", access_token="shpat_demo_simulated", plan="standard")
    now = sim.clock.now()
    sim.seed(n_orders, seed=7, start=now - timedelta(hours=20), end=now - timedelta(minutes=1))
    sim_server, sim_port = _serve_in_thread(sim.asgi_app, "shopify-simulator")

    runtime = Runtime.build(settings)
    settle_heap()
    queue = QueueBackend.from_settings(settings)
    metrics = GatewayMetrics()
    bind_runtime(runtime)
    queue.start_embedded_worker(after_job=lambda run_id: metrics.count_run_id(runtime.storage, run_id))
    scheduler: SchedulerThread | None = None
    try:
        shop, jobs = add_shop(runtime, NewShop(name=DEMO_SHOP, url=f"http://127.0.0.1:{sim_port}",
                                               token=sim.access_token))
        job = update_schedule(runtime, jobs[0].id, every_seconds=DEMO_EVERY_SECONDS)
        _, admin_token = issue_token(runtime, name="demo admin", role="admin")
        _, read_token = issue_token(runtime, name="demo reader", role="read")

        console.print("[bold]sync-gateway demo[/]")
        console.print(f"  simulated shop  {sim.shop_domain} at http://127.0.0.1:{sim_port} "
                      f"(Standard plan, {n_orders:,} orders)")
        console.print(f"  storage         {settings.database}")
        console.print(f"  queue           {_describe_queue(queue, settings)}", highlight=False)
        console.print(f"  shop token      {sim.access_token}  (the simulated shop's Admin API token)", highlight=False)
        console.print(f"  token key       the shop's token is stored encrypted with the key in {key_source}",
                      highlight=False)
        for line in cli_environment(db_path, key_path):
            console.print(line, highlight=False, markup=False)

        started = time.monotonic()
        run = run_job_now(runtime, queue.enqueue_run, job.id)
        final = _wait_for(runtime, run.id, timeout=300)
        elapsed = time.monotonic() - started
        agreement = _agreement(runtime, shop.id, sim)
        if final.status is JobRunStatus.SUCCEEDED:
            console.print(f"  first import    {final.orders_seen:,} orders read in {elapsed:.2f}s — "
                          f"{final.items_canceled:,} items / {final.units_canceled:,} units canceled, "
                          f"{final.orders_canceled:,} orders canceled ({agreement})")
        else:
            console.print(f"  [red]first import {final.status.value}[/]: {final.error}")
        if once:
            return

        assert api_socket is not None
        app_server, api_port = _make_api_server(runtime, queue, api_socket, metrics)
        console.print(f"  job manager     http://{settings.host}:{api_port}/  (sign in with the admin token)")
        console.print(f"  GraphQL API     http://{settings.host}:{api_port}/graphql  (GraphiQL in a browser)")
        console.print(f"  admin token     {admin_token}")
        console.print(f"  read token      {read_token}")
        console.print(f"  schedule        every {DEMO_EVERY_SECONDS}s; the simulated shop cancels a few units "
                      f"every {ACTIVITY_EVERY_SECONDS}s. Ctrl-C to stop.", highlight=False)
        console.print(f"  try             curl -s http://{settings.host}:{api_port}/graphql "
                      f"-H 'Authorization: Bearer {read_token}' -H 'Content-Type: application/json' "
                      "-d '{\"query\":\"{ jobs { kind schedule { description } lastRun { status unitsCanceled } } }\"}'",
                      highlight=False, soft_wrap=True)
        scheduler = SchedulerThread(runtime, queue.enqueue_run)
        scheduler.start()
        activity = _ShopActivity(sim)
        activity.start()
        try:
            app_server.run(sockets=[api_socket])  # uvicorn shuts down on Ctrl-C / SIGTERM ...
        except KeyboardInterrupt:
            pass  # ... then re-raises the signal it caught: this is the normal way out
        finally:
            activity.stop()
        console.print("stopped cleanly")
    finally:
        if api_socket is not None:
            api_socket.close()
        if scheduler is not None:
            scheduler.stop()
        queue.stop()
        unbind_runtime(runtime)
        runtime.close()
        sim_server.should_exit = True


def cli_environment(db_path: Path, key_path: Path | None) -> list[str]:
    """What to paste into another terminal so ``sync-gateway jobs list`` (and every command) reads
    the demo's database; the key is read from its file there, never printed."""
    lines = ["  use the CLI     in another terminal, paste:",
             f"    export SYNC_GATEWAY_DATABASE_URL={shlex.quote(f'sqlite:///{db_path.as_posix()}')}"]
    if key_path is not None:
        lines.append(f'    export SYNC_GATEWAY_SECRET_KEY="$(cat {shlex.quote(key_path.as_posix())})"')
    else:
        lines.append("    # and export the same SYNC_GATEWAY_SECRET_KEY this demo was started with")
    lines.append("    sync-gateway jobs list")
    return lines


def _reset(db_path: Path) -> None:
    """Each demo starts from an empty store, because its simulated shop is new too."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)


def _local_key(path: Path) -> str:
    """The demo's own key: read from ``path``, or made there, readable by this user only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never a moment world-readable
    except FileExistsError:
        path.chmod(0o600)
        return path.read_text(encoding="ascii").strip()
    key = generate_key()
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(key + "\n")
    return key


def _quiet_logs(settings: Settings) -> None:
    from .logs import setup_logging

    # the demo prints its own summary; per-run and per-request lines would bury it
    setup_logging(settings.log_level, settings.log_format, console=Console(stderr=True),
                  quiet=("rq", "uvicorn.access", "sync_gateway.runs"))


def _free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _serve_in_thread(app: object, name: str) -> tuple[uvicorn.Server, int]:
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    return server, port


def listen_on(host: str, port: int) -> socket.socket:
    """Listen on ``host:port`` (0: a free port) now, or fail with one line saying what to do."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigurationError(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                                 suggestion="pass --port 0 to pick a free port, or stop what uses it") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _describe_queue(queue: QueueBackend, settings: Settings) -> str:
    if queue.embedded:
        return "embedded, worked by this process (set REDIS_URL for real Redis and `sync-gateway worker`)"
    url = settings.public_dict()["redis_url"]
    return f"Redis {url}, queue {settings.queue_name!r}, worked by this process (and any `sync-gateway worker`)"


def _make_api_server(runtime: Runtime, queue: QueueBackend, sock: socket.socket,
                     metrics: GatewayMetrics) -> tuple[uvicorn.Server, int]:
    from ..api.app import create_app

    config = uvicorn.Config(create_app(runtime, queue, metrics=metrics), log_level="warning")
    return uvicorn.Server(config), int(sock.getsockname()[1])


def _wait_for(runtime: Runtime, run_id: int, *, timeout: float) -> JobRun:
    deadline = time.monotonic() + timeout
    while True:
        with runtime.storage.transaction() as tx:
            run = tx.get_run(run_id)
        assert run is not None
        if run.status.finished:
            return run
        if time.monotonic() > deadline:
            return run
        time.sleep(0.05)


def _agreement(runtime: Runtime, shop_id: int, sim: object) -> str:
    """Compare the store with the simulator's ground truth: the demo checks itself."""
    from plugins.shopify.simulator.agreement import stored_state

    differing = stored_state(runtime.storage, shop_id).differing_lines(sim.truth())  # type: ignore[attr-defined]
    if not differing:
        return "matches the simulator's ground truth"
    return f"[red]{differing} items differ from the simulator's ground truth[/]"


class _ShopActivity:
    """Keeps the simulated shop busy so scheduled runs have new cancellations to find."""

    def __init__(self, sim: object) -> None:
        self.sim = sim
        self._stop = threading.Event()
        self._rng = random.Random(11)
        self._thread = threading.Thread(target=self._loop, name="demo-shop-activity", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        sim = self.sim
        while not self._stop.wait(ACTIVITY_EVERY_SECONDS):
            order = sim.create_order(lines=[("DEMO-TEE", 3), ("DEMO-MUG", 1)])  # type: ignore[attr-defined]
            tee, _ = sim.line_item_ids(order)  # type: ignore[attr-defined]
            sim.cancel_units(order, tee, 1, restock_type="CANCEL")  # type: ignore[attr-defined]
            sim.fulfil(order, None)  # type: ignore[attr-defined]
