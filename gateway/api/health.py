"""``/healthz`` (liveness) and ``/readyz`` (readiness) of the API process.

Liveness answers as long as the process serves HTTP: a restart is the remedy only when it does
not. Readiness asks what a request needs: the database and, when ``REDIS_URL`` is set, Redis;
a load balancer takes a process that answers 503 out of rotation until both are back. Each
check has a short deadline, so a dead dependency gives a fast 503 rather than a hung probe.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse

from core.queues import QueueBackend
from core.runtime import Runtime

CHECK_TIMEOUT_SECONDS = 3.0


def liveness(runtime: Runtime):  # type: ignore[no-untyped-def]
    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return healthz


def readiness(runtime: Runtime, queue: QueueBackend):  # type: ignore[no-untyped-def]
    checks: dict[str, Callable[[], None]] = {"database": lambda: _database(runtime)}
    if not queue.embedded:
        checks["redis"] = lambda: _redis(queue)

    async def readyz(request: Request) -> JSONResponse:
        results = {name: await _run(check) for name, check in checks.items()}
        down = [name for name, result in results.items() if result["status"] != "ok"]
        body = {"status": "ok" if not down else "unavailable", "checks": results}
        if down:
            body["down"] = down
        return JSONResponse(body, status_code=503 if down else 200)

    return readyz


async def _run(check: Callable[[], None]) -> dict[str, object]:
    started = time.perf_counter()
    try:
        with anyio.fail_after(CHECK_TIMEOUT_SECONDS):
            await anyio.to_thread.run_sync(check, abandon_on_cancel=True)
    except TimeoutError:
        return {"status": "down", "error": f"no answer within {CHECK_TIMEOUT_SECONDS:g} s"}
    except Exception as exc:
        # The class and the first line only: a driver's message may quote the URL, never its password
        # (SQLAlchemy and redis-py print URLs without them), but keep it short and single-line.
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        return {"status": "down", "error": f"{exc.__class__.__name__}: {first}".rstrip(": ")}
    return {"status": "ok", "ms": round((time.perf_counter() - started) * 1000, 1)}


def _database(runtime: Runtime) -> None:
    # A primary-key lookup: one round trip through the pool, whatever the store's size.
    with runtime.storage.read() as tx:
        tx.get_shop(0)


def _redis(queue: QueueBackend) -> None:
    queue.connection.ping()
