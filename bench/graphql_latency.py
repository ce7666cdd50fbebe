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
    python bench/graphql_latency.py --client httpx        # the load generator on httpx2 instead

The load generator shares the machine's cores with the server: the figures are what one box
serves to a client on the same box, not the server's ceiling. The server is two uvicorn
processes by default, the generator's connections spread evenly over them (``--balance``). By
default the generator speaks HTTP/1.1
itself over keep-alive connections (``--client raw``, about 0.2 ms of CPU a request; the
httpx2 client costs about 1.5 ms, which on 2 cores is CPU the server does not get): the
report gives its CPU per request either way.
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
from datetime import UTC, datetime
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
    """Orders ``start .. start+count``: 1-4 lines, 7 s apart (see bench/synthetic_orders.py)."""
    from synthetic_orders import source_orders as synthetic

    return synthetic(start, count, t0=T0, every_seconds=7, lines=(1, 4), name_base=100_000)


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
    from gateway.api import app as gateway_app

    logging.getLogger("sync_gateway").setLevel(logging.WARNING)
    settings = Settings(data_dir=Path(tempfile.gettempdir()) / "sg-bench", database_url=os.environ[DATABASE_ENV])
    runtime = Runtime.build(settings, upgrade=False)
    app = gateway_app.create_app(runtime, QueueBackend.from_settings(settings), graphiql=False)
    settle = getattr(gateway_app, "settle_heap_for_serving", None)  # absent in older trees (A/B runs)
    if settle is not None:
        settle()  # as `sync-gateway serve` does
    return app


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


def server_processes(server_pids: list[int]):  # type: ignore[no-untyped-def]
    def match(pid: int, command: str) -> bool:
        if pid in server_pids:
            return True
        try:
            ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ValueError):
            return False
        return ppid in server_pids

    return match


def postgres_backends(database: str):  # type: ignore[no-untyped-def]
    return lambda pid, command: command.startswith("postgres:") and f" {database} " in command


@contextmanager
def serving(url: str, workers: int, balance: str) -> Iterator[tuple[list[str], list[int]]]:
    """Serve the app with ``workers`` processes; yield their base URLs and the pids to account.

    ``balance="ports"``: one single-worker uvicorn per port, and the load generator spreads its
    connections over them, as a balancer in front would. ``"shared"``: ``uvicorn --workers N`` on
    one socket, where each keep-alive connection stays with whichever worker won its accept; with
    a handful of connections one worker can end up with all of them (seen: all 8, in 2 of 2 tries).
    """
    import socket

    import httpx2

    def free_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])

    env = {**os.environ, DATABASE_ENV: url, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "uvicorn", "--factory", "graphql_latency:make_app", "--app-dir",
               str(ROOT / "bench"), "--host", "127.0.0.1", "--no-access-log", "--log-level", "warning"]
    ports = [free_port() for _ in range(workers if balance == "ports" else 1)]
    per_process = "1" if balance == "ports" else str(workers)
    servers = [subprocess.Popen([*command, "--port", str(port), "--workers", per_process], cwd=ROOT, env=env)
               for port in ports]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        deadline = time.monotonic() + 60
        for base, server in zip(bases, servers, strict=True):
            while True:
                try:
                    if httpx2.get(base + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx2.HTTPError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the server did not start")
                time.sleep(0.2)
        yield bases, [server.pid for server in servers]
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()


# --- the load generator (a second process) ----------------------------------------------------


class RawHttpClient:
    """HTTP/1.1 POSTs over one keep-alive connection, with the request bytes built up front.

    A load generator, not a general client: it expects ``Content-Length`` framed replies (what
    uvicorn sends for these JSON responses) and reconnects if the server closes.
    """

    def __init__(self, base: str, token: str) -> None:
        from urllib.parse import urlsplit

        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.head = (f"POST /graphql HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nAuthorization: Bearer {token}\r\n"
                     "Content-Type: application/json\r\nContent-Length: ").encode()
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    def request(self, payload: dict) -> bytes:
        body = json.dumps(payload).encode()
        return self.head + str(len(body)).encode() + b"\r\n\r\n" + body

    async def send(self, request: bytes) -> tuple[int, bytes]:
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        writer.write(request)
        status = int((await reader.readline()).split(b" ", 2)[1])
        length, close = 0, False
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        body = await reader.readexactly(length)
        if close:
            writer.close()
            self.streams = None
        return status, body

    async def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()


async def generate_load(bases: list[str], token: str, concurrency: int, duration: float, warmup: float,
                        client_kind: str = "raw") -> dict:
    """``concurrency`` clients, each on its own keep-alive connection, client i to ``bases[i % n]``."""
    import httpx2

    headers = {"Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(base_url=bases[0], headers=headers, timeout=30) as client:
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
        payloads = [{"query": PAGE_QUERY, "variables": {"after": cursor}} for cursor in cursors]

        async def one_client(seed: int) -> None:
            nonlocal failures
            rng = random.Random(seed)
            base = bases[seed % len(bases)]
            raw = RawHttpClient(base, token) if client_kind == "raw" else None
            requests = [raw.request(payload) for payload in payloads] if raw is not None else []
            own = None if raw is not None else httpx2.AsyncClient(
                base_url=base, headers=headers, timeout=30, limits=httpx2.Limits(max_connections=1))
            try:
                while time.perf_counter() < stop_at:
                    pick = rng.randrange(len(payloads))
                    started = time.perf_counter()
                    if raw is not None:
                        status, content = await raw.send(requests[pick])
                    else:
                        response = await own.post("/graphql", json=payloads[pick])  # type: ignore[union-attr]
                        status, content = response.status_code, response.content
                    elapsed = time.perf_counter() - started
                    ok = status == 200 and b'"errors"' not in content and len(content) > 1000
                    if measuring:
                        if ok:
                            latencies.append(elapsed)
                        else:
                            failures += 1
            finally:
                if raw is not None:
                    await raw.close()
                if own is not None:
                    await own.aclose()

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


def run_load(bases: list[str], token: str, concurrency: int, duration: float, warmup: float, *,
             server_pids: list[int], database: str, client_kind: str = "raw") -> dict:
    """Run the generator in a second process; return its measurements and the CPU the server and
    PostgreSQL spent meanwhile (warm-up included, so per-request figures are slightly high)."""
    server_before = cpu_seconds(server_processes(server_pids))
    postgres_before = cpu_seconds(postgres_backends(database))
    result = subprocess.run(
        [sys.executable, __file__, "--generate", ",".join(bases), "--token", token, "--concurrency", str(concurrency),
         "--duration", str(duration), "--warmup", str(warmup), "--client", client_kind],
        cwd=ROOT, capture_output=True, text=True, check=False, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if result.returncode != 0:
        raise RuntimeError(f"the load generator failed:\n{result.stderr}")
    measured = json.loads(result.stdout)
    measured["server_cpu"] = cpu_spent(server_before, cpu_seconds(server_processes(server_pids)))
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
    parser.add_argument("--balance", choices=("ports", "shared"), default="ports",
                        help="one uvicorn per port, connections spread evenly (as behind a balancer), "
                             "or uvicorn --workers on one shared socket")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds measured per concurrency level")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw",
                        help="load generator's HTTP client: raw HTTP/1.1 (lean) or httpx2")
    parser.add_argument("--generate", metavar="BASE_URL", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.generate:  # we are the load-generating process
        try:
            import uvloop
        except ImportError:  # the plain asyncio loop then; the report shows the generator's CPU
            uvloop = None
        run = uvloop.run if uvloop is not None else asyncio.run
        measured = run(generate_load(args.generate.split(","), args.token, args.concurrency[0], args.duration,
                                     args.warmup, args.client))
        json.dump(measured, sys.stdout)
        return

    with tempfile.TemporaryDirectory() as data_dir, (
            _given(args.url) if args.url else fresh_database(args.keep)) as url:
        print(f"database: {url.rsplit('@', 1)[-1]}; {args.orders:,} orders")
        token = seed(url, args.orders, Path(data_dir))
        database = url.rsplit("/", 1)[1].split("?", 1)[0]
        with serving(url, args.workers, args.balance) as (bases, server_pids):
            layout = (f"{args.workers} single-worker processes, connections spread evenly" if args.balance == "ports"
                      else f"--workers {args.workers} on one socket")
            print(f"server: uvicorn (uvloop, httptools), {layout}; {os.cpu_count()} CPUs; "
                  f"query: first 50 orders with items, one of the first 20 pages; load generator: {args.client}")
            for concurrency in args.concurrency:
                measured = run_load(bases, token, concurrency, args.duration, args.warmup,
                                    server_pids=server_pids, database=database, client_kind=args.client)
                measured["warmup"] = args.warmup
                load = os.getloadavg()[0]
                print(report(concurrency, measured) + f"; load average {load:.1f}", flush=True)


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url


if __name__ == "__main__":
    main()
