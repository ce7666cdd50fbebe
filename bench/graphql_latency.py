"""Latency and throughput of the GraphQL API for a page of 50 orders with their items.

Seeds a fresh PostgreSQL database with 100,000 orders (``apply_page`` in pages of 250, as a run
stores them), serves the app with uvicorn in its own process (2 workers by default: one per core
here), and drives it from a second process that keeps ``--concurrency`` requests in flight for
``--duration`` seconds. Every request carries a bearer token (authenticated against the store,
as in production) and asks for one of the first 20 pages of orders, with their items.

    python bench/graphql_latency.py                       # fresh database, dropped afterwards
    python bench/graphql_latency.py --keep                # keep it; prints its URL for --url
    python bench/graphql_latency.py --url postgresql+psycopg://postgres@127.0.0.1:5432/sg_bench
    python bench/graphql_latency.py --concurrency 1 4 16  # one measurement per level

The load generator shares the machine's cores with the server: the figures are what one box
serves to a client on the same box, not the server's ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ADMIN_POSTGRES_URL = os.environ.get("SYNC_GATEWAY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DATABASE_ENV = "SYNC_GATEWAY_BENCH_DATABASE_URL"
SHOP = "bench"
T0 = datetime(2026, 6, 1, tzinfo=UTC)

PAGE_QUERY = """query Page($after: String) {
  orders(first: 50, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id name status updatedAt canceledQuantity
            items { id sku title quantity fulfilledQuantity canceledQuantity status } }
  }
}"""


# --- the database ------------------------------------------------------------------------------


@contextmanager
def fresh_database(keep: bool) -> Iterator[str]:
    """CREATE DATABASE on the test server (like tests/services.py); DROP it afterwards unless kept."""
    import psycopg

    name = f"sg_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN_POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url.replace("postgresql://", "postgresql+psycopg://", 1)
    finally:
        if keep:
            print(f"kept database: {url.replace('postgresql://', 'postgresql+psycopg://', 1)}")
        else:
            with psycopg.connect(ADMIN_POSTGRES_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def source_orders(start: int, count: int):  # type: ignore[no-untyped-def]
    """Orders ``start .. start+count``: 1-4 lines; a fifth with units canceled before fulfilment,
    one in twelve canceled as a whole."""
    from core import SourceLineItem, SourceOrder, SourceRefundLine

    for n in range(start, start + count):
        updated = T0 + timedelta(seconds=n * 7)
        whole_cancel = n % 12 == 0
        lines, refunds = [], []
        for k in range(1 + n % 4):
            quantity = 1 + (n + k) % 4
            canceled = quantity if whole_cancel else (min(quantity, 1 + k) if n % 5 == 0 else 0)
            shipped = 0 if whole_cancel else min(quantity - canceled, (n + k) % 2)
            line_id = f"gid://shopify/LineItem/{n * 10 + k}"
            lines.append(SourceLineItem(
                source_id=line_id, sku=f"SKU-{(n + k) % 500:04d}", title=f"Product {(n + k) % 500}",
                quantity=quantity, current_quantity=quantity - canceled,
                unfulfilled_quantity=quantity - canceled - shipped, non_fulfillable_quantity=canceled))
            if canceled:
                refunds.append(SourceRefundLine(
                    source_id=f"gid://shopify/RefundLineItem/{n * 10 + k}", refund_id=f"gid://shopify/Refund/{n}",
                    line_item_id=line_id, quantity=canceled, restock_type="CANCEL", created_at=updated))
        yield SourceOrder(
            source_id=f"gid://shopify/Order/{5_000_000_000 + n}", name=f"#{100000 + n}",
            created_at=updated - timedelta(hours=1), updated_at=updated,
            cancelled_at=updated if whole_cancel else None, cancel_reason="CUSTOMER" if whole_cancel else None,
            line_items=tuple(lines), refund_lines=tuple(refunds))


def seed(url: str, orders: int, data_dir: Path) -> str:
    """Store ``orders`` orders (unless the database already holds them); return a read token."""
    from core import NewShop, OrderQuery, Settings, TokenRole, judge_order
    from core.apitokens import issue_token
    from core.jobcontrol import add_shop
    from core.runtime import Runtime

    runtime = Runtime.build(Settings(data_dir=data_dir, database_url=url))
    try:
        with runtime.storage.transaction() as tx:
            shop = tx.get_shop_by_name(SHOP)
            stored = tx.count_orders(OrderQuery(shop_id=shop.id)) if shop else 0
        if shop is None:
            shop, _ = add_shop(runtime, NewShop(name=SHOP, url="https://bench.myshopify.com"))
        if stored < orders:
            started = time.perf_counter()
            for first in range(stored, orders, 250):
                verdicts = [judge_order(o) for o in source_orders(first, min(250, orders - first))]
                with runtime.storage.transaction() as tx:
                    tx.apply_page(shop_id=shop.id, run_id=None, verdicts=verdicts, now=datetime.now(UTC))
                done = first + len(verdicts)
                if done % 10_000 < 250 or done == orders:
                    rate = (done - stored) / (time.perf_counter() - started)
                    print(f"  seeded {done:>7} orders ({rate:,.0f}/s)", flush=True)
        with runtime.storage.engine.connect() as conn:  # fresh planner statistics after the bulk load
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
        _, token = issue_token(runtime, name=f"bench {uuid.uuid4().hex[:6]}", role=TokenRole.READ)
        return token
    finally:
        runtime.close()


# --- the server (uvicorn imports this module in each worker) -----------------------------------


def make_app():  # type: ignore[no-untyped-def]
    """uvicorn ``--factory`` target: one runtime and queue per worker process."""
    import logging

    from core import Settings
    from core.queues import QueueBackend
    from core.runtime import Runtime
    from gateway.app import create_app

    logging.getLogger("sync_gateway").setLevel(logging.WARNING)
    settings = Settings(data_dir=Path(tempfile.gettempdir()) / "sg-bench", database_url=os.environ[DATABASE_ENV])
    runtime = Runtime.build(settings, upgrade=False)
    return create_app(runtime, QueueBackend.from_settings(settings), graphiql=False)


def cpu_seconds(match) -> dict[int, float]:  # type: ignore[no-untyped-def]
    """User+system CPU seconds of each live process whose (pid, command line) ``match`` accepts."""
    found: dict[int, float] = {}
    ticks = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if not match(int(entry.name), command):
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return found


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU the processes spent between two snapshots (ones that ended meanwhile are not counted)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def server_processes(server_pid: int):  # type: ignore[no-untyped-def]
    def match(pid: int, command: str) -> bool:
        if pid == server_pid:
            return True
        try:
            ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ValueError):
            return False
        return ppid == server_pid

    return match


def postgres_backends(database: str):  # type: ignore[no-untyped-def]
    return lambda pid, command: command.startswith("postgres:") and f" {database} " in command


@contextmanager
def serving(url: str, workers: int) -> Iterator[tuple[str, int]]:
    import socket

    import httpx2

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, DATABASE_ENV: url, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "graphql_latency:make_app", "--app-dir", str(ROOT / "bench"),
         "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), "--no-access-log",
         "--log-level", "warning"],
        cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx2.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx2.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.2)
        yield base, server.pid
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


# --- the load generator (a second process) ----------------------------------------------------


async def generate_load(base: str, token: str, concurrency: int, duration: float, warmup: float) -> dict:
    import httpx2

    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx2.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=30) as client:
        cursors: list[str | None] = [None]
        size = 0
        while len(cursors) < 20:  # the first 20 pages, so requests are not all identical
            first = await client.post("/graphql", json={"query": PAGE_QUERY, "variables": {"after": cursors[-1]}})
            body = first.json()
            assert "errors" not in body, body
            assert len(body["data"]["orders"]["nodes"]) == 50
            size = len(first.content)
            cursors.append(body["data"]["orders"]["pageInfo"]["endCursor"])
        latencies: list[float] = []
        failures = 0
        cpu_started = 0.0
        measuring = False
        stop_at = time.perf_counter() + warmup + duration

        async def one_client(seed: int) -> None:
            nonlocal failures
            rng = random.Random(seed)
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                response = await client.post("/graphql", json={"query": PAGE_QUERY,
                                                               "variables": {"after": rng.choice(cursors)}})
                elapsed = time.perf_counter() - started
                ok = response.status_code == 200 and b'"errors"' not in response.content
                if measuring:
                    if ok:
                        latencies.append(elapsed)
                    else:
                        failures += 1

        async def start_measuring() -> None:
            nonlocal measuring, cpu_started
            await asyncio.sleep(warmup)
            measuring = True
            cpu_started = time.process_time()

        measured_from = time.perf_counter() + warmup
        await asyncio.gather(start_measuring(), *(one_client(i) for i in range(concurrency)))
        wall = time.perf_counter() - measured_from
        client_cpu = time.process_time() - cpu_started
    return {"latencies": latencies, "failures": failures, "wall": wall, "bytes": size, "client_cpu": client_cpu}


def run_load(base: str, token: str, concurrency: int, duration: float, warmup: float, *,
             server_pid: int, database: str) -> dict:
    """Run the generator in a second process; return its measurements and the CPU the server and
    PostgreSQL spent meanwhile (warm-up included, so per-request figures are slightly high)."""
    server_before = cpu_seconds(server_processes(server_pid))
    postgres_before = cpu_seconds(postgres_backends(database))
    result = subprocess.run(
        [sys.executable, __file__, "--generate", base, "--token", token, "--concurrency", str(concurrency),
         "--duration", str(duration), "--warmup", str(warmup)],
        cwd=ROOT, capture_output=True, text=True, check=False, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if result.returncode != 0:
        raise RuntimeError(f"the load generator failed:\n{result.stderr}")
    measured = json.loads(result.stdout)
    measured["server_cpu"] = cpu_spent(server_before, cpu_seconds(server_processes(server_pid)))
    measured["postgres_cpu"] = cpu_spent(postgres_before, cpu_seconds(postgres_backends(database)))
    return measured


def report(concurrency: int, measured: dict) -> str:
    latencies = sorted(measured["latencies"])
    if not latencies:
        return f"concurrency {concurrency:>3}: no successful requests ({measured['failures']} failed)"
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    rps = len(latencies) / measured["wall"]
    # every request of the run, warm-up included, for the CPU spent per request
    total_requests = len(latencies) * (1 + measured.get("warmup", 0) / measured["wall"])
    per_request = {k: measured[k] / total_requests * 1000 for k in ("server_cpu", "postgres_cpu")}
    per_request["client_cpu"] = measured["client_cpu"] / len(latencies) * 1000
    return (f"concurrency {concurrency:>3}: p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  {rps:7.1f} req/s  "
            f"({len(latencies)} requests, {measured['failures']} failed, {measured['bytes']:,} bytes each)\n"
            f"                 CPU per request: server {per_request['server_cpu']:.1f} ms, "
            f"PostgreSQL {per_request['postgres_cpu']:.1f} ms, load generator {per_request['client_cpu']:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="use this PostgreSQL database (seeded if it holds fewer orders)")
    parser.add_argument("--keep", action="store_true", help="keep the fresh database")
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds measured per concurrency level")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--generate", metavar="BASE_URL", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.generate:  # we are the load-generating process
        measured = asyncio.run(generate_load(args.generate, args.token, args.concurrency[0], args.duration,
                                             args.warmup))
        json.dump(measured, sys.stdout)
        return

    with tempfile.TemporaryDirectory() as data_dir, (
            _given(args.url) if args.url else fresh_database(args.keep)) as url:
        print(f"database: {url.rsplit('@', 1)[-1]}; {args.orders:,} orders")
        token = seed(url, args.orders, Path(data_dir))
        database = url.rsplit("/", 1)[1]
        with serving(url, args.workers) as (base, server_pid):
            print(f"server: uvicorn, {args.workers} workers, {os.cpu_count()} CPUs; "
                  f"query: first 50 orders with items, one of the first 20 pages")
            for concurrency in args.concurrency:
                measured = run_load(base, token, concurrency, args.duration, args.warmup,
                                    server_pid=server_pid, database=database)
                measured["warmup"] = args.warmup
                load = os.getloadavg()[0]
                print(report(concurrency, measured) + f"; load average {load:.1f}", flush=True)


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url


if __name__ == "__main__":
    main()
