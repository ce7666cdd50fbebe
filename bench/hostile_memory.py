"""The server's memory and read latency under bounded floods of hostile requests.

A real ``uvicorn`` server (one process, SQLite, 200 orders) runs in a subprocess on 127.0.0.1.
After an idle baseline, each flood runs for a few seconds from a process of its own, while this
process sends a read query (``orders(first: 50)`` with a read token) back to back and samples
the server's RSS from ``/proc`` every 20 ms:

* ``graphql-200mb``: unauthenticated 200 MB bodies to /graphql, streamed (chunked, no length),
  ``--parallel`` at a time, one after another;
* ``graphql-declared``: the same, declaring ``Content-Length: 200 MB`` first;
* ``query-10mb``: 10 MB query documents (over the 1 MB limit, sent with their length);
* ``webhook-200mb``: unsigned 200 MB webhook bodies, streamed;
* ``webhook-forged-2mb``: 2 MB webhook bodies with every Shopify header and a wrong signature,
  so the server reads each whole and checks its HMAC;
* ``webhook-small``: small unsigned webhooks as fast as they are answered;
* ``none``: no flood, the read query alone (what the machine gives at the moment).

Printed per flood: requests sent, megabytes the client pushed before the server stopped it,
peak RSS and its rise over idle, the read query's p50 and p99, and the server's CPU time (user
and system, from ``/proc``) in percent of one core: what the flood costs the server.

    python bench/hostile_memory.py --seconds 5 --parallel 4

``--baseline DIR`` serves a second server from another source tree (``git archive <commit> |
tar -x -C DIR``) beside this one; each flood then runs ``--rounds`` times on each, alternating
which goes first, and the latencies of each are pooled. On a shared machine, compare the two
rows of one run, not figures of different runs.

Loopback only; the server is ended by its PID at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHUNK = 64 * 1024
BIG = 200 * 1024 * 1024
READ = b'{"query": "{ orders(first: 50) { nodes { name status } } }"}'


def serve(port: int, data_dir: str, token_file: str, src: str) -> None:
    """The server process: a store with 200 orders, a read token written to ``token_file``;
    the gateway's code imported from ``src`` (a source tree)."""
    import logging

    sys.path.insert(0, src)

    import uvicorn

    logging.getLogger("sync_gateway").setLevel(logging.ERROR)  # one "rejected" line per forged webhook
    if not os.environ.get("SYNC_GATEWAY_SECRET_KEY"):
        from cryptography.fernet import Fernet

        os.environ["SYNC_GATEWAY_SECRET_KEY"] = Fernet.generate_key().decode()  # the seeded shop's token is sealed

    from core import TokenRole
    from core.apitokens import issue_token
    from core.queues import QueueBackend
    from gateway.api.app import create_app
    from tests.gateway.conftest import build_runtime
    from tests.gateway.seed import new_shop, seed

    runtime = build_runtime(Path(data_dir), f"sqlite:///{data_dir}/hostile.db",
                            settings={"plugins": {"shopify": {"webhook_secret": "bench-secret"}}})
    shop, _ = new_shop(runtime, "alpha")
    seed(runtime, shop, 200)
    Path(token_file).write_text(issue_token(runtime, name="bench", role=TokenRole.READ)[1])
    queue = QueueBackend.from_settings(runtime.settings)
    uvicorn.run(create_app(runtime, queue), host="127.0.0.1", port=port, log_level="error")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """The process's user and system CPU time so far: unlike latency, it does not depend on how
    busy the rest of the machine is."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Sampler:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(0.02)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


FORGED = ["X-Shopify-Hmac-Sha256: bm90IGEgc2lnbmF0dXJl", "X-Shopify-Topic: orders/updated",
          "X-Shopify-Shop-Domain: alpha.myshopify.com", "X-Shopify-Webhook-Id: bench"]


async def hostile(port: int, path: str, *, streamed: int = 0, declared: int = 0, body: bytes = b"",
                  headers: tuple[str, ...] = ()) -> int:
    """One request; returns the bytes pushed before the server answered or cut the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json", "Connection: close",
            *headers]
    head.append("Transfer-Encoding: chunked" if streamed else f"Content-Length: {declared or len(body)}")
    sent = 0
    answered = asyncio.create_task(reader.read(1024))
    try:
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
        if body:
            writer.write(body)
            sent += len(body)
        chunk = b"%x\r\n%s\r\n" % (CHUNK, b" " * CHUNK)
        while streamed and sent < streamed and not answered.done():
            writer.write(chunk)
            await writer.drain()
            sent += CHUNK
        await asyncio.wait_for(answered, 10)
    except (ConnectionError, asyncio.TimeoutError):
        pass
    finally:
        answered.cancel()
        writer.close()
    return sent


async def read_query(port: int, token: str) -> float:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = (f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
               f"Authorization: Bearer {token}\r\nConnection: close\r\nContent-Length: {len(READ)}\r\n\r\n").encode()
    started = time.perf_counter()
    writer.write(request + READ)
    reply = await reader.read()
    elapsed = time.perf_counter() - started
    writer.close()
    assert reply.startswith(b"HTTP/1.1 200"), reply[:200]
    return elapsed * 1000


async def flood(port: int, name: str, seconds: float, parallel: int) -> tuple[int, int]:
    ten_mb = b'{"query": "{ shops { id } }' + b" " * (10 * 1024 * 1024) + b'"}'
    small = b'{"id": 1}'
    two_mb = b'{"id": 1, "pad": "' + b" " * (2 * 1024 * 1024 - 100) + b'"}'
    shapes = {
        "graphql-200mb": lambda: hostile(port, "/graphql", streamed=BIG),
        "graphql-declared": lambda: hostile(port, "/graphql", declared=BIG),
        "query-10mb": lambda: hostile(port, "/graphql", body=ten_mb),
        "webhook-200mb": lambda: hostile(port, "/webhooks/shopify", streamed=BIG),
        "webhook-forged-2mb": lambda: hostile(port, "/webhooks/shopify", body=two_mb, headers=tuple(FORGED)),
        "webhook-small": lambda: hostile(port, "/webhooks/shopify", body=small),
        "none": lambda: asyncio.sleep(seconds, result=0),
    }
    deadline = time.monotonic() + seconds
    requests = pushed = 0

    async def lane() -> None:
        nonlocal requests, pushed
        while time.monotonic() < deadline:
            pushed += await shapes[name]()
            requests += 1

    await asyncio.gather(*(lane() for _ in range(parallel)))
    return requests, pushed


FLOODS = ("none", "graphql-200mb", "graphql-declared", "query-10mb", "webhook-200mb", "webhook-forged-2mb",
          "webhook-small")


@dataclass
class Measured:
    requests: int = 0
    pushed: int = 0
    peak: float = 0.0
    cpu: float = 0.0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)

    def row(self, name: str, idle: float) -> str:
        cuts = statistics.quantiles(self.latencies, n=100) if len(self.latencies) >= 2 else self.latencies * 99
        return (f"{name:<28}{self.requests:>9}{self.pushed / 2**20:>11.0f}{self.peak:>9.0f}{self.peak - idle:>9.1f}"
                f"{len(self.latencies):>7}{statistics.median(self.latencies):>8.1f}{cuts[98]:>8.1f}"
                f"{self.cpu / self.elapsed * 100:>9.0f}")


async def measure(port: int, token: str, pid: int, name: str, seconds: float, parallel: int,
                  into: Measured) -> None:
    done = asyncio.Event()

    async def reads() -> None:
        while not done.is_set():
            into.latencies.append(await read_query(port, token))

    cpu_before, started = cpu_seconds(pid), time.monotonic()
    # The flood comes from a process of its own: in this one, its lanes would delay the reads'
    # own event loop and the figures would be the client's.
    flooder = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--flood", name, str(port), str(seconds), str(parallel),
        stdout=asyncio.subprocess.PIPE, cwd=ROOT)
    with Sampler(pid) as sampler:
        reader = asyncio.create_task(reads())
        out, _ = await flooder.communicate()
        done.set()
        await reader
    requests, pushed = (int(n) for n in out.split())
    into.cpu += cpu_seconds(pid) - cpu_before
    into.elapsed += time.monotonic() - started
    into.requests += requests
    into.pushed += pushed
    into.peak = max(into.peak, sampler.peak)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    label: str
    port: int
    process: subprocess.Popen[bytes]
    token: str = ""
    idle: float = 0.0


def start(label: str, src: Path, data_dir: str) -> Served:
    port = free_port()
    token_file = os.path.join(data_dir, f"token-{port}")
    process = subprocess.Popen([sys.executable, __file__, "--serve", str(port), os.path.join(data_dir, str(port)),
                                token_file, str(src)], cwd=src)
    os.makedirs(os.path.join(data_dir, str(port)))
    served = Served(label, port, process)
    deadline = time.monotonic() + 60
    while not (os.path.exists(token_file) and _listening(port)):
        if time.monotonic() > deadline or process.poll() is not None:
            raise SystemExit(f"the {label} server did not start")
        time.sleep(0.1)
    served.token = Path(token_file).read_text()
    asyncio.run(_warm(port, served.token))
    return served


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=1, help="runs of each flood on each server")
    parser.add_argument("--baseline", type=Path, help="another source tree to serve beside this one")
    parser.add_argument("--floods", default=",".join(FLOODS), help="comma-separated, of: " + ", ".join(FLOODS))
    parser.add_argument("--serve", nargs=4, metavar=("PORT", "DATA_DIR", "TOKEN_FILE", "SRC"), help=argparse.SUPPRESS)
    parser.add_argument("--flood", nargs=4, metavar=("NAME", "PORT", "SECONDS", "PARALLEL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.flood:
        name, port, seconds, parallel = args.flood
        print(*asyncio.run(flood(int(port), name, float(seconds), int(parallel))))
        return
    if args.serve:
        serve(int(args.serve[0]), args.serve[1], args.serve[2], args.serve[3])
        return
    servers: list[Served] = []
    with tempfile.TemporaryDirectory() as data_dir:
        try:
            servers.append(start("this tree", ROOT, data_dir))
            if args.baseline:
                servers.append(start(f"baseline {args.baseline.name}", args.baseline.resolve(), data_dir))
            time.sleep(1.0)
            for served in servers:
                served.idle = rss_mb(served.process.pid)
                print(f"{served.label}: idle RSS {served.idle:.0f} MB")
            print(f"floods of {args.seconds:g} s, {args.parallel} in parallel, {args.rounds} round(s) per server")
            print(f"{'flood / server':<28}{'requests':>9}{'pushed MB':>11}{'peak MB':>9}{'rise MB':>9}"
                  f"{'reads':>7}{'p50 ms':>8}{'p99 ms':>8}{'cpu %':>9}")
            for name in args.floods.split(","):
                results = {s.label: Measured() for s in servers}
                for round_ in range(args.rounds):
                    order = servers if round_ % 2 == 0 else servers[::-1]  # alternate who goes first
                    for s in order:
                        asyncio.run(measure(s.port, s.token, s.process.pid, name, args.seconds, args.parallel,
                                            results[s.label]))
                for s in servers:
                    label = name if len(servers) == 1 else f"{name} / {s.label.split()[0]}"
                    print(results[s.label].row(label, s.idle), flush=True)
        finally:
            for served in servers:
                served.process.send_signal(signal.SIGTERM)
                try:
                    served.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    served.process.kill()


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


async def _warm(port: int, token: str) -> None:
    for _ in range(50):
        await read_query(port, token)


if __name__ == "__main__":
    main()
