"""Wall time of the real ``sync-gateway run canceled-items`` command on a simulated Standard shop.

For each size, a fresh simulated shop (Standard plan: 2,000 points, 100 points/s) is seeded with
N orders updated in the last day and served by uvicorn on a real local socket (in a thread of
this process); a fresh SQLite database gets the shop (``sync-gateway shops add``, not timed);
then the command ``python -m gateway run canceled-items --shop bench`` runs as a subprocess and
is timed from spawn to exit, start-up included. Printed per run: wall time, the command's CPU
time (user + system: less disturbed by other work on a shared machine), orders per second,
points spent against the ceiling (bucket + restore rate x wall time), throttled replies, the
command's peak RSS (``wait4`` rusage of that one child), and whether the store agrees with the
simulator's ground truth (every order stored, canceled units per line, canceled orders).

    python bench/import_speed.py                          # 2,000 and 20,000 orders
    python bench/import_speed.py --orders 2000 --repeat 3
    python bench/import_speed.py --orders 200000          # once, for memory
    python bench/import_speed.py --postgres               # also a fresh PostgreSQL database
    python bench/import_speed.py --env SYNC_GATEWAY_PAGE_SIZE=250   # try a setting
    python bench/import_speed.py --orders 2000 --latency-ms 200     # Shopify 200 ms away
    python bench/import_speed.py --orders 200000 --backfill \
        --variant one:SYNC_GATEWAY_SHOPIFY__BULK_QUERIES=1 --variant five:SYNC_GATEWAY_SHOPIFY__BULK_QUERIES=5
                                                          # `backfill` (bulk) instead of `run`

The simulated shop's bulk operations process ``--bulk-objects-per-second`` objects per second
(an assumption: Shopify publishes no figure; see docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


from core.token_cipher import generate_key
from plugins.shopify.simulator import Latency, ShopSimulator
from plugins.shopify.simulator.agreement import StoredState
from plugins.shopify.simulator.agreement import stored_state as read_stored_state
from tests.servers import serving

TOKEN = "shpat_bench_0123456789abcdef"
DEFAULT_BULK_SPEED = 5_000.0


# Linux counts the RSS a process had when it forked into the peak of the program it then executes,
# so the command is started from this small launcher, not from the benchmark (whose simulator
# holds every order): the peak reported is the command's own (or the launcher's ~10 MiB). The
# launcher also times the command, from spawn to exit.
LAUNCHER = """
import os, subprocess, sys, time
started = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:])
_, status, usage = os.wait4(proc.pid, 0)
wall = time.perf_counter() - started
sys.stderr.write(f"\\nLAUNCHER {usage.ru_maxrss} {wall} {usage.ru_utime + usage.ru_stime}\\n")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def command(*args: str, env: dict[str, str], profile: str | None = None) -> tuple[float, float, int, str]:
    """Run ``python -m gateway *args``; return wall and CPU seconds, peak RSS in KiB and the output.

    With ``profile``, the command runs under pyinstrument, which writes its report there."""
    runner = [sys.executable, "-m", "gateway"]
    if profile:
        runner = [sys.executable, "-m", "pyinstrument", "-r", "text", "-o", profile, "-m", "gateway"]
    proc = subprocess.run([sys.executable, "-c", LAUNCHER, *runner, *args], env=env, cwd=ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    text, _, measured = proc.stdout.decode("utf-8", "replace").rpartition("LAUNCHER ")
    if proc.returncode != 0 or not measured:
        raise RuntimeError(f"`{' '.join(args)}` exited {proc.returncode}:\n{text}{measured}")
    rss, wall, cpu = measured.split()
    return float(wall), float(cpu), int(rss), text


def warm_up(url: str) -> None:
    """One request first, so the simulator has loaded its schema before the timed command."""
    import httpx2

    httpx2.post(f"{url}/admin/api/2026-07/graphql.json", headers={"X-Shopify-Access-Token": TOKEN},
                json={"query": "{ shop { name } }"}, timeout=60).raise_for_status()


def stored_state(database_url: str) -> StoredState:
    """What the command stored, read through the storage plugin."""
    from plugins.storage.sqlalchemy.backend import SqlAlchemyBackend

    storage = SqlAlchemyBackend().open(database_url)
    try:
        return read_stored_state(storage, page_size=1000)
    finally:
        storage.dispose()


@contextlib.contextmanager
def databases(postgres: bool) -> Iterator[list[str]]:
    with tempfile.TemporaryDirectory() as folder, contextlib.ExitStack() as stack:
        urls = [f"sqlite:///{Path(folder, 'bench.db').as_posix()}"]
        if postgres:
            from tests.services import fresh_postgres_database

            urls.append(stack.enter_context(fresh_postgres_database()))
        yield urls


def bench_once(n: int, database_url: str, *, plan: str, bulk_speed: float, extra_env: dict[str, str],
               verbose: bool, profile: str | None = None, latency: Latency | None = None,
               backfill: bool = False) -> dict[str, object]:
    sim = ShopSimulator(shop_domain="bench-shop.myshopify.com", access_token=TOKEN, plan=plan,
                        bulk_objects_per_second=bulk_speed, latency=latency)
    now = sim.clock.now()
    sim.seed(n, seed=7, start=now - timedelta(hours=20), end=now - timedelta(minutes=10))
    truth = sim.truth()
    expected = {line: units for line, units in truth.canceled_units.items() if units}
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNC_GATEWAY_")}
    env.update({"SYNC_GATEWAY_DATABASE_URL": database_url, "COLUMNS": "200",
                "SYNC_GATEWAY_SECRET_KEY": generate_key(), **extra_env})  # the stored token is encrypted
    with serving(sim.asgi_app) as url:
        command("shops", "add", "bench", "--url", url, "--token", TOKEN, env=env)  # not timed
        sim.latency, latency = Latency(), sim.latency
        warm_up(url)
        sim.latency = latency
        before_points, before_throttled, before_requests = (sim.stats.points_spent, sim.stats.throttled,
                                                            sim.stats.requests)
        timed = (["backfill", "--shop", "bench", "--since", (now - timedelta(hours=21)).isoformat()] if backfill
                 else ["run", "canceled-items", "--shop", "bench"])
        wall, cpu, rss_kib, output = command(*timed, env=env, profile=profile)
    if verbose:
        print(output.strip())
    points = sim.stats.points_spent - before_points
    ceiling = sim.plan.maximum_available + sim.plan.restore_rate * wall
    stored = stored_state(database_url)
    agrees = stored.agrees_with(truth)
    return {
        "orders": n, "db": database_url.split(":", 1)[0].split("+")[0], "wall": wall, "cpu": cpu, "rate": n / wall, "points": points,
        "ceiling": ceiling, "requests": sim.stats.requests - before_requests,
        "throttled": sim.stats.throttled - before_throttled, "rss_mib": rss_kib / 1024,
        "agrees": agrees, "bulk_ops": len(sim.bulk.operations),
        "detail": "" if agrees else f"stored {stored.orders} orders, {stored.differing_lines(truth)} lines "
                                    f"differ (expected {n} orders, {len(expected)} canceled lines)",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, action="append", help="window size (repeatable); default 2000, 20000")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--plan", default="standard")
    parser.add_argument("--postgres", action="store_true", help="also run against a fresh PostgreSQL database")
    parser.add_argument("--bulk-objects-per-second", type=float, default=DEFAULT_BULK_SPEED)
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="simulated round trip of every Shopify call, in milliseconds")
    parser.add_argument("--object-us", type=float, default=0.0,
                        help="simulated server time per object a call returns, in microseconds")
    parser.add_argument("--env", action="append", default=[], help="extra NAME=VALUE for the command")
    parser.add_argument("--variant", action="append", default=[], metavar="LABEL:NAME=VALUE[,NAME=VALUE]",
                        help="alternate run by run between variants (extra settings each), e.g. "
                             "chain:SYNC_GATEWAY_SHOPIFY_SLICES_IN_FLIGHT=1")
    parser.add_argument("--backfill", action="store_true",
                        help="time `backfill --shop bench --since <21 h ago>` (bulk queries) instead of `run`")
    parser.add_argument("--verbose", action="store_true", help="print the command's own summary line")
    parser.add_argument("--profile", help="run the command under pyinstrument, its text report to this file")
    args = parser.parse_args()
    sizes = args.orders or [2_000, 20_000]
    extra_env = dict(item.split("=", 1) for item in args.env)
    latency = Latency(round_trip=args.latency_ms / 1000, per_object=args.object_us / 1e6)
    print(f"plan {args.plan}; latency {args.latency_ms:g} ms per call + {args.object_us:g} µs per object; "
          f"simulated bulk speed {args.bulk_objects_per_second:,.0f} objects/s; "
          f"python {sys.version.split()[0]}; {os.cpu_count()} CPUs; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"{'':<8}{'orders':>8} {'db':<10} {'wall s':>7} {'cpu s':>6} {'orders/s':>9} {'points':>7} {'ceiling':>8} "
          f"{'requests':>8} {'throttled':>9} {'bulk':>4} {'peak MiB':>8}  store vs truth")
    variants: list[tuple[str, dict[str, str]]] = [("", {})]
    if args.variant:
        variants = []
        for spec in args.variant:
            label, _, assignments = spec.partition(":")
            variants.append((label, dict(item.split("=", 1) for item in assignments.split(",") if item)))
    for n in sizes:
        for _ in range(args.repeat):
          for label, variant_env in variants:
            with databases(args.postgres) as urls:
                for url in urls:
                    r = bench_once(n, url, plan=args.plan, bulk_speed=args.bulk_objects_per_second,
                                   extra_env={**extra_env, **variant_env}, verbose=args.verbose,
                                   profile=args.profile, latency=latency, backfill=args.backfill)
                    print(f"{label:<8}{r['orders']:>8,} {r['db']:<10} {r['wall']:>7.2f} {r['cpu']:>6.2f} {r['rate']:>9,.0f} {r['points']:>7,} "
                          f"{r['ceiling']:>8,.0f} {r['requests']:>8,} {r['throttled']:>9,} {r['bulk_ops']:>4} "
                          f"{r['rss_mib']:>8.0f}  {'exact' if r['agrees'] else 'DIFFERS ' + str(r['detail'])}",
                          flush=True)


if __name__ == "__main__":
    main()
