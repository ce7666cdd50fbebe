"""Webhook delivery to stored order: arrival-to-commit p50 and p99 at a given delivery rate.

The gateway's app with the embedded queue and worker, as ``sync-gateway serve`` runs without
Redis, on the default SQLite store (``--url`` for PostgreSQL); the simulated shop runs in a
process of its own, over a socket, and answers after ``--latency-ms`` (a round trip per call)
on the Plus plan's API budget. Deliveries are signed
``orders/updated`` webhooks posted over the app's ASGI interface at a fixed rate (open loop:
one is sent every 1/rate seconds whether or not earlier ones are done), each for a different
order, so each order's ``synced_at`` (set in the transaction that stores it) tells when its
delivery was stored. A last phase sends bursts (``--burst`` deliveries for each of 20 orders,
10 ms apart) and counts the simulator's API calls.

    python bench/webhook_latency.py                     # 1 and 100 deliveries/s, 10 s each
    python bench/webhook_latency.py --rates 100 --seconds 20 --latency-ms 150
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SECRET = "bench-webhook-secret"
DOMAIN = "bench-shop.myshopify.com"
TOKEN = "shpat_bench"


def signed_delivery(order_gid: str, delivery_id: str) -> dict:
    body = orjson.dumps({"id": int(order_gid.rsplit("/", 1)[-1]), "admin_graphql_api_id": order_gid})
    signature = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    return {"content": body, "headers": {
        "X-Shopify-Hmac-Sha256": signature, "X-Shopify-Topic": "orders/updated", "X-Shopify-Shop-Domain": DOMAIN,
        "X-Shopify-Webhook-Id": delivery_id, "X-Shopify-API-Version": "2026-07", "Content-Type": "application/json"}}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="database URL (default: SQLite in a temporary folder)")
    parser.add_argument("--rates", type=float, nargs="+", default=[1, 100], help="deliveries per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of deliveries per rate")
    parser.add_argument("--latency-ms", type=float, default=100.0, help="the simulator's round trip per call")
    parser.add_argument("--coalesce", type=float, default=None, help="webhook_coalesce_seconds (default: the setting's)")
    parser.add_argument("--burst", type=int, default=5, help="deliveries per order in the burst phase (0: skip)")
    args = parser.parse_args()

    import httpx2

    from core import NewShop, Settings
    from core.jobcontrol import add_shop
    from core.jobs import bind_runtime
    from core.plugins import make_plugin_manager
    from core.queues import QueueBackend
    from core.runtime import Runtime
    from gateway.api.app import create_app

    rates = sorted(args.rates)
    needed = int(sum(rate * args.seconds for rate in rates)) + 20 + 10 + 10
    with tempfile.TemporaryDirectory() as folder, simulated_shop(needed, args.latency_ms, Path(folder)) as (url, gids):
        sim = SimulatorStats(url)
        extra = {} if args.coalesce is None else {"webhook_coalesce_seconds": args.coalesce}
        settings = Settings(data_dir=Path(folder), database_url=args.url, plugins={"shopify": {"webhook_secret": SECRET}}, **extra)
        runtime = Runtime.build(settings, pm=make_plugin_manager())
        os.environ["SYNC_GATEWAY_BENCH_SHOP_TOKEN"] = TOKEN  # read from the environment: nothing stored
        shop, _ = add_shop(runtime, NewShop(name="bench", url=url, token_env="SYNC_GATEWAY_BENCH_SHOP_TOKEN",
                                                 options={"domain": DOMAIN}))
        queue = QueueBackend.from_settings(settings)
        bind_runtime(runtime)
        queue.start_embedded_worker()  # serve's defaults
        app = create_app(runtime, queue, graphiql=False)
        store = "SQLite" if settings.database.startswith("sqlite") else "PostgreSQL"
        print(f"store: {store}; simulator (its own process) round trip {args.latency_ms:g} ms (Plus plan budget); "
              f"coalescing {settings.webhook_coalesce_seconds:g} s; embedded queue and worker, as `serve` without Redis")
        unused = iter(gids)
        async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://gateway") as http:
            # The first refresh of a process builds the source's client (2-3 s): not measured.
            warm = [next(unused) for _ in range(10)]
            started = time.perf_counter()
            for n, gid in enumerate(warm):
                await http.post("/webhooks/shopify", **signed_delivery(gid, f"warm-{n}"))
            await wait_stored(runtime, shop.id, warm, timeout=60)
            print(f"warm-up: the first refresh in the process took {time.perf_counter() - started:.1f} s")
            for rate in rates:
                orders = [next(unused) for _ in range(int(rate * args.seconds))]
                arrivals: dict[str, float] = {}
                statuses: list[int] = []

                async def send(gid: str, n: int) -> None:
                    arrivals[gid] = time.time()
                    reply = await http.post("/webhooks/shopify", **signed_delivery(gid, f"r{rate:g}-{n}"))
                    statuses.append(reply.status_code)

                calls_before = sim.stats.requests
                started = time.perf_counter()
                cpu_started = time.process_time()
                tasks = []
                for n, gid in enumerate(orders):
                    await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
                    tasks.append(asyncio.create_task(send(gid, n)))
                await asyncio.gather(*tasks)
                stored = await wait_stored(runtime, shop.id, orders, timeout=120)
                cpu = (time.process_time() - cpu_started) / len(orders) * 1000
                latencies = sorted(stored[gid].timestamp() - arrivals[gid] for gid in orders if gid in stored)
                p50 = statistics.median(latencies) * 1000 if latencies else float("nan")
                p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000 if latencies else float("nan")
                print(f"{rate:6g} deliveries/s: {len(orders)} deliveries, {len(latencies)} stored, "
                      f"arrival to commit p50 {p50:6.0f} ms  p99 {p99:6.0f} ms  max {latencies[-1] * 1000:6.0f} ms; "
                      f"answers {sorted(set(statuses))}; API calls {sim.stats.requests - calls_before}; "
                      f"CPU {cpu:.1f} ms a delivery (gateway and load generator); load {os.getloadavg()[0]:.1f}",
                      flush=True)
            if args.burst:
                burst_orders = [next(unused) for _ in range(20)]
                calls_before = sim.stats.requests
                for n, gid in enumerate(burst_orders):
                    for k in range(args.burst):
                        await http.post("/webhooks/shopify", **signed_delivery(gid, f"burst-{n}-{k}"))
                        await asyncio.sleep(0.01)
                stored = await wait_stored(runtime, shop.id, burst_orders, timeout=60)
                print(f"bursts: 20 orders x {args.burst} deliveries 10 ms apart -> {len(stored)} stored with "
                      f"{sim.stats.requests - calls_before} API calls")
        queue.stop()
        runtime.close()


SIMULATOR = """
import sys, uvicorn
from plugins.shopify.simulator import Latency, ShopSimulator
sim = ShopSimulator(shop_domain=sys.argv[1], access_token=sys.argv[2], plan="plus",
                    latency=Latency(round_trip=float(sys.argv[3]) / 1000))
open(sys.argv[5], "w").write("\\n".join(sim.seed(int(sys.argv[4]), seed=3)))

async def app(scope, receive, send):  # the simulator, and its request count at /__requests
    if scope["type"] == "http" and scope["path"] == "/__requests":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(sim.stats.requests).encode()})
        return
    await sim.asgi_app(scope, receive, send)

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[6]), log_level="warning")
"""


@contextmanager
def simulated_shop(orders: int, latency_ms: float, folder: Path) -> Iterator[tuple[str, list[str]]]:
    """The simulated shop in a process of its own (as Shopify is not in ours), over a socket."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    gids_file = folder / "gids.txt"
    process = subprocess.Popen([sys.executable, "-c", SIMULATOR, DOMAIN, TOKEN, str(latency_ms), str(orders),
                                str(gids_file), str(port)], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(url + "/__requests", timeout=1).read()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the simulator did not start") from None
                time.sleep(0.2)
        yield url, gids_file.read_text().split("\n")
    finally:
        process.terminate()
        process.wait(timeout=20)


class SimulatorStats:
    def __init__(self, url: str) -> None:
        self.url = url

    @property
    def stats(self) -> SimulatorStats:
        return self

    @property
    def requests(self) -> int:
        return int(urllib.request.urlopen(self.url + "/__requests", timeout=5).read())


async def wait_stored(runtime, shop_id: int, gids: list[str], *, timeout: float) -> dict[str, datetime]:  # type: ignore[no-untyped-def]
    """Each order's synced_at, once all are stored (or the timeout passed)."""
    deadline = time.monotonic() + timeout
    found: dict[str, datetime] = {}
    while True:
        with runtime.storage.read() as tx:
            for gid in gids:
                if gid not in found:
                    order = tx.get_order_by_source_id(shop_id, gid)
                    if order is not None:
                        found[gid] = order.synced_at.astimezone(UTC)
        if len(found) == len(gids) or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.2)


if __name__ == "__main__":
    asyncio.run(main())
