"""How well the Shopify source uses a shop's rate limit: orders/s, bucket utilization, throttling, memory.

Each measurement runs in a fresh process (so its peak RSS is its own) that starts the simulator in
another process (its CPU is not ours, as Shopify's is not), served by uvicorn on a real local
socket, seeded with N orders updated in the last day. The importer reads the window through the
source (``fetch_orders``, pages of 250) and judges every order with the cancellation rule, as a
run does; storage is left out (``bench/import_speed.py`` times the whole command).

Printed per run: orders/s; points spent (the actual costs Shopify reported) per second against
the restore rate; utilization = points / (bucket + restore rate x time), the share of what the
plan allowed in that time that was used (1.0 = the bucket never held an unused point at the end);
throttled replies (% of requests); peak RSS of the importer process.

    python bench/import_throughput.py                     # each plan, 20,000 orders, paged; two shops at once
    python bench/import_throughput.py --orders 60000 --plan standard      # memory flat in window size?
    python bench/import_throughput.py --crossover         # paged vs bulk by window size: the thresholds

``--crossover`` times, per plan and window size, the paged path against the bulk path (the source's
``auto`` mode with a threshold of 0: a bulk query from the first page on, paging on while it runs)
and prints the ratio; the source's per-plan default threshold is the size from which bulk wins.
Simulated bulk operations process ``--bulk-objects-per-second`` objects a second (an assumption:
Shopify publishes no figure; see docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TOKEN = "shpat_bench_0123456789abcdef"
DEFAULT_BULK_SPEED = 5_000.0
PLANS = ("standard", "advanced", "plus")
CROSSOVER_SIZES = {
    "standard": (2_000, 4_000, 8_000, 16_000),
    "advanced": (4_000, 8_000, 16_000, 32_000),
    "plus": (10_000, 20_000, 40_000, 80_000),
}


# --- the simulator, in its own process ---------------------------------------------------------


def _serve(plan: str, orders: int, seed: int, bulk_speed: float, domain: str, conn: Any) -> None:
    import uvicorn

    from plugins.shopify.simulator import ShopSimulator

    sim = ShopSimulator(shop_domain=domain, access_token=TOKEN, plan=plan, bulk_objects_per_second=bulk_speed)
    now = sim.clock.now()
    sim.seed(orders, seed=seed, start=now - timedelta(hours=20), end=now - timedelta(minutes=10))
    server = uvicorn.Server(uvicorn.Config(sim.asgi_app, host="127.0.0.1", port=0, log_level="warning",
                                           lifespan="off", access_log=False))

    async def serve() -> None:
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        conn.send(server.servers[0].sockets[0].getsockname()[1])
        await task

    asyncio.run(serve())


class Simulated:
    """A simulated shop served from a child process."""

    def __init__(self, plan: str, orders: int, *, seed: int = 7, bulk_speed: float = DEFAULT_BULK_SPEED,
                 domain: str = "bench-shop.myshopify.com") -> None:
        here, there = multiprocessing.get_context("fork").Pipe()
        self.process = multiprocessing.get_context("fork").Process(
            target=_serve, args=(plan, orders, seed, bulk_speed, domain, there), daemon=True)
        self.process.start()
        if not here.poll(300):
            raise RuntimeError("the simulator did not start")
        self.url = f"http://127.0.0.1:{here.recv()}"

    def close(self) -> None:
        self.process.terminate()
        self.process.join(10)


# --- one measurement (in its own process) --------------------------------------------------------


async def _import(url: str, name: str, mode: str, page_size: int) -> dict[str, Any]:
    from core import FetchStats, Settings, Shop, ShopCredentials, Window, judge_order
    from plugins.shopify.source import ShopifySourceFactory

    now = datetime.now(UTC)
    shop = Shop(id=1, name=name, source="shopify", url=url, api_version="2026-07", has_token=True, token_env=None,
                created_at=now)
    options: dict[str, Any] = {"bulk": "never"} if mode == "paged" else {"bulk": "auto", "bulk_threshold": 0}
    source = ShopifySourceFactory().create(shop=shop, credentials=ShopCredentials(token=TOKEN, token_env=None),
                                           settings=Settings(page_size=page_size), **options)
    window = Window(now - timedelta(hours=24), now - timedelta(minutes=5))
    stats, orders, units = FetchStats(), 0, 0
    started = time.perf_counter()
    try:
        async for page in source.fetch_orders(window, page_size=page_size):
            stats.add(page.stats)
            orders += len(page.orders)
            units += sum(item.canceled_target for order in page.orders for item in judge_order(order).items)
    finally:
        await source.aclose()
    status = source.client.pacer.status
    return {"shop": name, "seconds": time.perf_counter() - started, "orders": orders, "units": units,
            "points": stats.actual_cost, "requests": stats.requests, "throttled": stats.throttled,
            "bucket": status.maximum_available if status else None, "rate": status.restore_rate if status else None}


def measure(plan: str, orders: int, *, shops: int, mode: str, page_size: int, bulk_speed: float) -> dict[str, Any]:
    """Serve ``shops`` simulated shops of ``plan``, import each concurrently, report per shop."""
    sims = [Simulated(plan, orders, seed=7 + i, bulk_speed=bulk_speed, domain=f"bench-{i}.myshopify.com")
            for i in range(shops)]
    try:
        async def all_shops() -> list[dict[str, Any]]:
            return list(await asyncio.gather(*(_import(sim.url, f"shop-{i}", mode, page_size)
                                               for i, sim in enumerate(sims))))

        results = asyncio.run(all_shops())
    finally:
        for sim in sims:
            sim.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"plan": plan, "mode": mode, "window": orders, "peak_mib": peak, "shops": results}


def in_fresh_process(**spec: Any) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--one", json.dumps(spec)], capture_output=True, text=True,
                         cwd=ROOT, check=False)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- printing --------------------------------------------------------------------------------------


HEADER = (f"{'plan':<9} {'mode':<6} {'window':>7} {'shop':<7} {'orders':>7} {'seconds':>8} {'orders/s':>9} "
          f"{'points/s':>9} {'restore':>8} {'utilization':>11} {'requests':>8} {'throttled':>10} {'peak MiB':>8}")


def show(result: dict[str, Any]) -> None:
    for shop in result["shops"]:
        seconds, rate, bucket = shop["seconds"], shop["rate"] or 0.0, shop["bucket"] or 0.0
        ceiling = bucket + rate * seconds
        share = shop["throttled"] / shop["requests"] if shop["requests"] else 0.0
        print(f"{result['plan']:<9} {result['mode']:<6} {result['window']:>7,} {shop['shop']:<7} {shop['orders']:>7,} "
              f"{seconds:>8.2f} {shop['orders'] / seconds:>9,.0f} {shop['points'] / seconds:>9,.0f} {rate:>8,.0f} "
              f"{shop['points'] / ceiling if ceiling else 0:>11.2f} {shop['requests']:>8,} "
              f"{shop['throttled']:>5} {share:>4.1%} {result['peak_mib']:>8.0f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plan", action="append", choices=PLANS, help="plan preset (repeatable); default all")
    parser.add_argument("--orders", type=int, action="append", help="window size (repeatable); default 20000")
    parser.add_argument("--page-size", type=int, default=250)
    parser.add_argument("--shops", type=int, default=2, help="shops importing at once in the concurrency run")
    parser.add_argument("--crossover", action="store_true", help="paged vs bulk by window size, per plan")
    parser.add_argument("--bulk-objects-per-second", type=float, default=DEFAULT_BULK_SPEED)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        spec = json.loads(args.one)
        print(json.dumps(measure(**spec)))
        return
    plans = args.plan or list(PLANS)
    common = {"page_size": args.page_size, "bulk_speed": args.bulk_objects_per_second}
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} CPUs; python {sys.version.split()[0]}; "
          f"page size {args.page_size}; simulated bulk speed {args.bulk_objects_per_second:,.0f} objects/s")
    if args.crossover:
        print(f"{'plan':<9} {'window':>7} {'paged s':>8} {'bulk s':>8} {'bulk/paged':>10}")
        for plan in plans:
            for size in CROSSOVER_SIZES[plan]:
                paged = in_fresh_process(plan=plan, orders=size, shops=1, mode="paged", **common)["shops"][0]
                bulk = in_fresh_process(plan=plan, orders=size, shops=1, mode="bulk", **common)["shops"][0]
                print(f"{plan:<9} {size:>7,} {paged['seconds']:>8.2f} {bulk['seconds']:>8.2f} "
                      f"{bulk['seconds'] / paged['seconds']:>10.2f}", flush=True)
        return
    print(HEADER)
    for plan in plans:
        for size in args.orders or [20_000]:
            show(in_fresh_process(plan=plan, orders=size, shops=1, mode="paged", **common))
    if args.shops > 1:
        for size in args.orders or [20_000]:
            show(in_fresh_process(plan=plans[0], orders=size, shops=args.shops, mode="paged", **common))


if __name__ == "__main__":
    main()
