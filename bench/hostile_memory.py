"""The server's memory and read latency under bounded floods of hostile requests.

A real ``uvicorn`` server (one process, SQLite, 200 orders) runs in a subprocess on 127.0.0.1.
After an idle baseline, each flood runs for a few seconds while this process sends a read query
(``orders(first: 50)`` with a read token) back to back and samples the server's RSS from
``/proc`` every 20 ms:

* ``graphql-200mb``: unauthenticated 200 MB bodies to /graphql, streamed (chunked, no length),
  ``--parallel`` at a time, one after another;
* ``graphql-declared``: the same, declaring ``Content-Length: 200 MB`` first;
* ``query-10mb``: 10 MB query documents (over the 1 MB limit, sent with their length);
* ``webhook-200mb``: unsigned 200 MB webhook bodies, streamed;
* ``webhook-small``: small unsigned webhooks as fast as they are answered.

Printed per flood: requests sent, megabytes the client pushed before the server stopped it,
peak RSS and its rise over idle, and the read query's p50 and p99.

    python bench/hostile_memory.py --seconds 5 --parallel 4

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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHUNK = 64 * 1024
BIG = 200 * 1024 * 1024
READ = b'{"query": "{ orders(first: 50) { nodes { name status } } }"}'


def serve(port: int, data_dir: str, token_file: str) -> None:
    """The server process: a store with 200 orders, a read token written to ``token_file``."""
    import logging

    import uvicorn

    logging.getLogger("sync_gateway").setLevel(logging.ERROR)  # one "rejected" line per forged webhook

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


async def hostile(port: int, path: str, *, streamed: int = 0, declared: int = 0, body: bytes = b"") -> int:
    """One request; returns the bytes pushed before the server answered or cut the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json", "Connection: close"]
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
    shapes = {
        "graphql-200mb": lambda: hostile(port, "/graphql", streamed=BIG),
        "graphql-declared": lambda: hostile(port, "/graphql", declared=BIG),
        "query-10mb": lambda: hostile(port, "/graphql", body=ten_mb),
        "webhook-200mb": lambda: hostile(port, "/webhooks/shopify", streamed=BIG),
        "webhook-small": lambda: hostile(port, "/webhooks/shopify", body=small),
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


async def measure(port: int, token: str, pid: int, name: str, seconds: float, parallel: int) -> dict[str, float]:
    latencies: list[float] = []
    done = asyncio.Event()

    async def reads() -> None:
        while not done.is_set():
            latencies.append(await read_query(port, token))

    with Sampler(pid) as sampler:
        reader = asyncio.create_task(reads())
        requests, pushed = await flood(port, name, seconds, parallel)
        done.set()
        await reader
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else [latencies[0]] * 99
    return {"requests": requests, "pushed_mb": pushed / 2**20, "peak": sampler.peak,
            "p50": statistics.median(latencies), "p99": cuts[98], "reads": len(latencies)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--serve", nargs=3, metavar=("PORT", "DATA_DIR", "TOKEN_FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(int(args.serve[0]), args.serve[1], args.serve[2])
        return
    port = free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        token_file = os.path.join(data_dir, "token")
        server = subprocess.Popen([sys.executable, __file__, "--serve", str(port), data_dir, token_file], cwd=ROOT)
        try:
            deadline = time.monotonic() + 60
            while not (os.path.exists(token_file) and _listening(port)):
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the server did not start")
                time.sleep(0.1)
            token = Path(token_file).read_text()
            asyncio.run(_warm(port, token))
            time.sleep(1.0)
            idle = rss_mb(server.pid)
            print(f"idle RSS {idle:.0f} MB; floods of {args.seconds:g} s, {args.parallel} in parallel")
            print(f"{'flood':<18}{'requests':>9}{'pushed MB':>11}{'peak MB':>9}{'rise MB':>9}"
                  f"{'reads':>7}{'p50 ms':>8}{'p99 ms':>8}")
            for name in ("graphql-200mb", "graphql-declared", "query-10mb", "webhook-200mb", "webhook-small"):
                r = asyncio.run(measure(port, token, server.pid, name, args.seconds, args.parallel))
                print(f"{name:<18}{r['requests']:>9.0f}{r['pushed_mb']:>11.0f}{r['peak']:>9.0f}"
                      f"{r['peak'] - idle:>9.1f}{r['reads']:>7.0f}{r['p50']:>8.1f}{r['p99']:>8.1f}")
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


async def _warm(port: int, token: str) -> None:
    for _ in range(50):
        await read_query(port, token)


if __name__ == "__main__":
    main()
