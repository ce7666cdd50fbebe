"""Our GraphQL API beside PostGraphile 4 on the same PostgreSQL tables, under one load generator.

Seeds (or reuses) a database the way ``bench/graphql_latency.py`` does (100,000 orders, about
250,000 items by default; ``--orders`` for a quick run), installs PostGraphile 4 with npm into a
temporary folder when ``node`` is present (else says so and measures ours alone), checks that
both servers answer the same orders and items, then alternates them under ``wrk`` at each
concurrency, for a plain page (50 orders with their items) and a nested one (each item's
cancellations too). Each line gives req/s, p50, p99, server and PostgreSQL CPU per request and
the server's RSS; the summary gives our req/s over PostGraphile's, paired round by round.

    python bench/graphql_vs_postgraphile.py --orders 20000 --duration 5        # a quick look
    python bench/graphql_vs_postgraphile.py --url postgresql+psycopg://postgres@127.0.0.1:5432/sg_bench_x
    python bench/graphql_vs_postgraphile.py --workers 2 --pg-workers 2        # both with 2 processes
                                                    # (ours then needs Redis: REDIS_URL, default db 14)
    python bench/graphql_vs_postgraphile.py --ours factory                     # the bench app factory

Ours is ``sync-gateway serve`` as shipped (``--ours serve``, the default: the embedded worker
and scheduler run beside the API, the settings' defaults), with a read token on every request;
PostGraphile runs without authentication, as in issue 17. PostGraphile needs one SQL function
for the order-level ``canceledQuantity`` (a computed column); it is created in the database.

Bounded in time: (2 servers x 2 variants x concurrency levels x rounds) x (warm-up + duration),
about 4 minutes with the defaults. ``wrk`` is required (``apt-get install -y wrk``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

import graphql_latency as latency  # noqa: E402  (the seeding, the database and CPU accounting)

ITEM_FIELDS = "id sku title quantity fulfilledQuantity canceledQuantity status"
CANCELLATION_FIELDS = "id quantity canceledAt reason"

OURS = {
    "plain": f"""query Page($after: String) {{ orders(first: 50, after: $after) {{
  pageInfo {{ hasNextPage endCursor }}
  nodes {{ id name status updatedAt canceledQuantity items {{ {ITEM_FIELDS} }} }} }} }}""",
    "nested": f"""query Page($after: String) {{ orders(first: 50, after: $after) {{
  pageInfo {{ hasNextPage endCursor }}
  nodes {{ id name status updatedAt canceledQuantity
          items {{ {ITEM_FIELDS} cancellations {{ {CANCELLATION_FIELDS} }} }} }} }} }}""",
}
THEIRS = {
    "plain": f"""query Page($after: Cursor) {{ allOrders(first: 50, after: $after, orderBy: [UPDATED_AT_ASC, ID_ASC]) {{
  pageInfo {{ hasNextPage endCursor }}
  nodes {{ id name status updatedAt canceledQuantity orderItemsByOrderId(orderBy: ID_ASC) {{ nodes {{ {ITEM_FIELDS} }} }} }} }} }}""",
    "nested": f"""query Page($after: Cursor) {{ allOrders(first: 50, after: $after, orderBy: [UPDATED_AT_ASC, ID_ASC]) {{
  pageInfo {{ hasNextPage endCursor }}
  nodes {{ id name status updatedAt canceledQuantity orderItemsByOrderId(orderBy: ID_ASC) {{ nodes {{ {ITEM_FIELDS}
    cancellationsByItemId(orderBy: ID_ASC) {{ nodes {{ {CANCELLATION_FIELDS} }} }} }} }} }} }} }}""",
}

COMPUTED_COLUMN = """CREATE OR REPLACE FUNCTION public.orders_canceled_quantity(o public.orders) RETURNS integer
LANGUAGE sql STABLE AS $$ SELECT coalesce(sum(canceled_quantity), 0)::integer FROM public.order_items
WHERE order_id = o.id $$"""
"""Our ``Order.canceledQuantity`` for PostGraphile: a computed column (its documented way)."""

PAGES = 20


@dataclass
class Server:
    name: str
    url: str
    pids: list[int]
    token: str | None
    queries: dict[str, str]
    connection: str  # the top-level field

    def post(self, query: str, after: str | None) -> dict:
        body = json.dumps({"query": query, "variables": {"after": after}}).encode()
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        with urllib.request.urlopen(urllib.request.Request(self.url, body, headers), timeout=30) as reply:
            answer = json.loads(reply.read())
        if "errors" in answer:
            raise RuntimeError(f"{self.name} answered with errors: {str(answer['errors'])[:300]}")
        return answer["data"][self.connection]

    def cursors(self, variant: str) -> list[str | None]:
        found: list[str | None] = [None]
        while len(found) < PAGES:
            found.append(self.post(self.queries[variant], found[-1])["pageInfo"]["endCursor"])
        return found


# --- the two servers ---------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen, what: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    probe = json.dumps({"query": "{ __typename }"}).encode()
    while True:
        try:
            request = urllib.request.Request(url, probe, {"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=2):
                return
        except OSError as error:
            if getattr(error, "code", None) is not None:  # an HTTP status: it is serving
                return
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.3)


@contextmanager
def running(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def start_ours(stack: ExitStack, kind: str, url: str, workers: int, data_dir: Path, token: str) -> Server:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SYNC_GATEWAY_DATABASE_URL": url,
           "SYNC_GATEWAY_DATA_DIR": str(data_dir), latency.DATABASE_ENV: url}
    if kind == "serve":
        command = [sys.executable, "-m", "gateway", "serve", "--host", "127.0.0.1", "--port", str(port)]
        if workers > 1:  # several API processes need Redis (their runs go to `sync-gateway worker`s)
            command += ["--workers", str(workers)]
            env.update(REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14"),
                       SYNC_GATEWAY_QUEUE_NAME=f"bench-{os.getpid()}")
    else:
        command = [sys.executable, "-m", "uvicorn", "--factory", "graphql_latency:make_app", "--app-dir",
                   str(ROOT / "bench"), "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
                   "--no-access-log", "--log-level", "warning"]
    process = stack.enter_context(running(command, env, data_dir / "ours.log"))
    base = f"http://127.0.0.1:{port}/graphql"
    wait_for(base, process, f"ours ({' '.join(command[2:4])}); see {data_dir / 'ours.log'}")
    return Server("ours", base, [process.pid], token, OURS, "orders")


def install_postgraphile(folder: Path | None) -> Path | None:
    """The postgraphile CLI, installed with npm into a temporary folder (or ``folder``)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        print("node/npm not found: PostGraphile is skipped, ours is measured alone")
        return None
    folder = folder or Path(tempfile.mkdtemp(prefix="postgraphile4-"))
    cli = folder / "node_modules" / "postgraphile" / "cli.js"
    if not cli.exists():
        print(f"installing postgraphile@4 into {folder} (npm) ...", flush=True)
        subprocess.run(["npm", "install", "--prefix", str(folder), "--no-audit", "--no-fund", "--silent",
                        "postgraphile@4"], check=True, timeout=600)
    version = json.loads((folder / "node_modules" / "postgraphile" / "package.json").read_text())["version"]
    print(f"PostGraphile {version}, node {subprocess.run(['node', '--version'], capture_output=True, text=True).stdout.strip()}")
    return cli


def start_postgraphile(stack: ExitStack, cli: Path, url: str, workers: int, log_dir: Path) -> Server:
    import psycopg

    plain_url = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain_url, autocommit=True) as conn:
        conn.execute(COMPUTED_COLUMN)
    port = free_port()
    command = ["node", str(cli), "-c", plain_url.replace("postgresql://", "postgres://", 1), "--schema", "public",
               "--host", "127.0.0.1", "--port", str(port), "--disable-query-log", "--disable-graphiql"]
    if workers > 1:
        command += ["--cluster-workers", str(workers)]
    process = stack.enter_context(running(command, {**os.environ, "NODE_ENV": "production"},
                                          log_dir / "postgraphile.log"))
    base = f"http://127.0.0.1:{port}/graphql"
    wait_for(base, process, f"PostGraphile; see {log_dir / 'postgraphile.log'}")
    return Server("PostGraphile", base, [process.pid], None, THEIRS, "allOrders")


def same_answers(ours: Server, theirs: Server, variant: str, pages: int = 3) -> int:
    """Compare the first ``pages`` pages field by field (ids differ in form: ours are global ids)."""

    def shape(page: dict) -> list[tuple]:
        rows = []
        for order in page["nodes"]:
            items = order["items"] if "items" in order else order["orderItemsByOrderId"]["nodes"]
            rows.append((order["name"], order["status"].upper(), datetime.fromisoformat(order["updatedAt"]),
                         order["canceledQuantity"],
                         [(i["sku"], i["title"], i["quantity"], i["fulfilledQuantity"], i["canceledQuantity"],
                           i["status"].upper(),
                           [(c["quantity"], datetime.fromisoformat(c["canceledAt"]), c["reason"])
                            for c in (i["cancellations"] if "cancellations" in i
                                      else i.get("cancellationsByItemId", {}).get("nodes", []))])
                          for i in items]))
        return rows

    after_ours: str | None = None
    after_theirs: str | None = None
    items = 0
    for _ in range(pages):
        a, b = ours.post(ours.queries[variant], after_ours), theirs.post(theirs.queries[variant], after_theirs)
        if shape(a) != shape(b):
            raise SystemExit(f"the servers disagree on a {variant} page:\n ours {shape(a)[:2]}\n theirs {shape(b)[:2]}")
        items += sum(len(row[4]) for row in shape(a))
        after_ours, after_theirs = a["pageInfo"]["endCursor"], b["pageInfo"]["endCursor"]
    return items


# --- the load generator ------------------------------------------------------------------------

WRK_SCRIPT = """
local bodies = {%s}
local token = %s
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
if token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, bodies[(n %% #bodies) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('\\nRESULT {"requests": %%d, "micros": %%d, "p50": %%d, "p99": %%d, "errors": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def wrk_script(server: Server, variant: str, folder: Path) -> Path:
    bodies = [json.dumps({"query": server.queries[variant], "variables": {"after": c}})
              for c in server.cursors(variant)]
    path = folder / f"{server.name}-{variant}.lua"
    path.write_text(WRK_SCRIPT % (", ".join(map(lua_string, bodies)), lua_string(server.token or "")))
    return path


def wrk(server: Server, script: Path, concurrency: int, seconds: float) -> dict:
    command = ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds:g}s", "--timeout", "10s", "-s", str(script),
               server.url]
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def rss_mib(match) -> float:  # type: ignore[no-untyped-def]
    total = 0
    for pid in latency.cpu_seconds(match):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            continue
    return total / 1024


def measure(server: Server, script: Path, concurrency: int, seconds: float, warmup: float, database: str) -> dict:
    if warmup > 0:
        wrk(server, script, concurrency, warmup)
    processes = latency.server_processes(server.pids)
    backends = latency.postgres_backends(database)
    server_before, postgres_before = latency.cpu_seconds(processes), latency.cpu_seconds(backends)
    result = wrk(server, script, concurrency, seconds)
    result["server_cpu"] = latency.cpu_spent(server_before, latency.cpu_seconds(processes))
    result["postgres_cpu"] = latency.cpu_spent(postgres_before, latency.cpu_seconds(backends))
    result["rss"] = rss_mib(processes)
    result["rps"] = result["requests"] / (result["micros"] / 1e6)
    return result


def line(server: str, variant: str, concurrency: int, r: dict) -> str:
    per = max(r["requests"], 1)
    return (f"{server:>12} {variant:>6} c={concurrency:<3} {r['rps']:7.1f} req/s  p50 {r['p50'] / 1000:6.1f} ms  "
            f"p99 {r['p99'] / 1000:6.1f} ms  CPU/req server {r['server_cpu'] / per * 1000:4.2f} ms, "
            f"PostgreSQL {r['postgres_cpu'] / per * 1000:4.2f} ms  RSS {r['rss']:5.0f} MiB  "
            f"errors {r['errors']}  load {os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="use this PostgreSQL database (seeded if it holds fewer orders)")
    parser.add_argument("--keep", action="store_true", help="keep the fresh database")
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--ours", choices=("serve", "factory"), default="serve",
                        help="`sync-gateway serve` as shipped, or the bench app factory under uvicorn")
    parser.add_argument("--workers", type=int, default=1, help="our API processes")
    parser.add_argument("--pg-workers", type=int, default=1, help="PostGraphile processes (--cluster-workers)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--variants", nargs="+", choices=("plain", "nested"), default=["plain", "nested"])
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds (the order flips each round)")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds measured per server and level")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--postgraphile-dir", type=Path, help="install (or find) PostGraphile here")
    parser.add_argument("--no-postgraphile", action="store_true", help="measure ours alone")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")

    cli = None if args.no_postgraphile else install_postgraphile(args.postgraphile_dir)
    with tempfile.TemporaryDirectory() as scratch, ExitStack() as stack:
        folder = Path(scratch)
        url = args.url or stack.enter_context(latency.fresh_database(args.keep))
        database = url.rsplit("/", 1)[1].split("?", 1)[0]
        print(f"database: {url.rsplit('@', 1)[-1]}; {args.orders:,} orders", flush=True)
        token = latency.seed(url, args.orders, folder)
        servers = [start_ours(stack, args.ours, url, args.workers, folder, token)]
        if cli is not None:
            servers.append(start_postgraphile(stack, cli, url, args.pg_workers, folder))
            for variant in args.variants:
                checked = same_answers(servers[0], servers[1], variant)
                print(f"same answers ({variant}): the first 3 pages, 150 orders and {checked} items, field by field")
        scripts = {(s.name, v): wrk_script(s, v, folder) for s in servers for v in args.variants}
        print(f"ours: {args.ours} ({args.workers} process{'es' if args.workers > 1 else ''}, a token on every "
              f"request); PostGraphile: {args.pg_workers} process{'es' if args.pg_workers > 1 else ''}, no auth; "
              f"wrk -t1, {args.duration:g} s per level after {args.warmup:g} s warm-up; {os.cpu_count()} CPUs",
              flush=True)
        results: dict[tuple[str, str, int], list[dict]] = {}
        for round_ in range(args.rounds):
            order = servers if round_ % 2 == 0 else servers[::-1]
            print(f"round {round_ + 1}", flush=True)
            for variant in args.variants:
                for concurrency in args.concurrency:
                    for server in order:
                        r = measure(server, scripts[(server.name, variant)], concurrency, args.duration,
                                    args.warmup, database)
                        results.setdefault((server.name, variant, concurrency), []).append(r)
                        print(line(server.name, variant, concurrency, r), flush=True)
        if cli is not None:
            print("ours / PostGraphile req/s, paired by round:")
            for variant in args.variants:
                for concurrency in args.concurrency:
                    ratios = [a["rps"] / b["rps"] for a, b in zip(results[("ours", variant, concurrency)],
                                                                  results[("PostGraphile", variant, concurrency)])]
                    print(f"  {variant:>6} c={concurrency:<3} " + "  ".join(f"{x:.2f}" for x in ratios)
                          + f"   (median {statistics.median(ratios):.2f})")


if __name__ == "__main__":
    main()
