"""`sync-gateway serve` as shipped: no line per request unless `--access-log`; `--workers N` runs N
API processes on one port with Redis, and is refused (before anything starts) without it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2

from ..servers import free_port


def serve_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNC_GATEWAY_") and k != "REDIS_URL"}
    env["SYNC_GATEWAY_DATABASE_URL"] = f"sqlite:///{tmp_path / 'serve.db'}"
    env.update(extra)
    return env


@contextmanager
def serving(tmp_path: Path, *args: str, env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[str], str]]:
    port = free_port()
    serve = subprocess.Popen([sys.executable, "-m", "gateway", "serve", "--port", str(port), *args], cwd=tmp_path,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx2.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            assert serve.poll() is None and time.monotonic() < deadline, "serve did not start"
            time.sleep(0.1)
        yield serve, base
    finally:
        if serve.poll() is None:
            serve.terminate()
        try:
            serve.wait(timeout=30)
        except subprocess.TimeoutExpired:
            serve.kill()
            serve.wait()


def anonymous_graphql(base: str) -> None:
    reply = httpx2.post(f"{base}/graphql", json={"query": "{ orders { nodes { id } } }"}, timeout=10)
    assert reply.status_code == 200 and reply.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def api_children(pid: int) -> list[int]:
    """Processes ``pid`` started as uvicorn workers (multiprocessing's spawn; not its resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                if parent == pid and b"spawn_main" in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError):
                continue
    return found


def test_serve_logs_no_line_per_request_by_default(tmp_path: Path) -> None:
    with serving(tmp_path, env=serve_env(tmp_path)) as (serve, base):
        for _ in range(3):
            anonymous_graphql(base)
        serve.terminate()
        output, _ = serve.communicate(timeout=60)
    assert '"POST /graphql HTTP/1.1" 200' not in output
    assert "GraphQL http://" in output  # it did start and speak


def test_serve_access_log_logs_each_request(tmp_path: Path) -> None:
    with serving(tmp_path, "--access-log", env=serve_env(tmp_path)) as (serve, base):
        for _ in range(3):
            anonymous_graphql(base)
        serve.terminate()
        output, _ = serve.communicate(timeout=60)
    assert output.count('"POST /graphql HTTP/1.1" 200') == 3, output


def test_serve_workers_without_redis_is_refused_and_starts_nothing(tmp_path: Path) -> None:
    port = free_port()
    done = subprocess.run([sys.executable, "-m", "gateway", "serve", "--port", str(port), "--workers", "2"],
                          cwd=tmp_path, env=serve_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "--workers needs REDIS_URL" in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
    try:
        httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
        raise AssertionError("something is serving on the port")
    except httpx2.TransportError:
        pass


def test_serve_workers_runs_that_many_api_processes(tmp_path: Path, redis_url: str, queue_name: str) -> None:
    env = serve_env(tmp_path, REDIS_URL=redis_url, SYNC_GATEWAY_QUEUE_NAME=queue_name)
    with serving(tmp_path, "--workers", "2", env=env) as (serve, base):
        deadline = time.monotonic() + 30
        while len(api_children(serve.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        api_processes = api_children(serve.pid)
        for _ in range(6):  # new connections each time, whichever process accepts them
            anonymous_graphql(base)
        serve.terminate()
        output, _ = serve.communicate(timeout=60)
    assert len(api_processes) == 2, output
    assert "2 API processes" in output
    assert serve.returncode == 0, output
    assert "Traceback" not in output
