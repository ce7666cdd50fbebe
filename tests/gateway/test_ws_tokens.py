"""Websockets re-check their token: every ``subscribe`` asks the store again, and revoking a
token closes its open subscriptions within a few seconds, with close code 4403. Real uvicorn,
real websockets; the token is revoked as another process would (no shared cache)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from core import TokenRole
from core.apitokens import issue_token, revoke_token
from core.queues import QueueBackend
from core.runtime import Runtime
from gateway.api import ids
from gateway.api.app import create_app
from gateway.api.ws_tokens import RECHECK_SECONDS, TokenCheckingHandler
from tests.servers import serving

from .conftest import build_runtime
from .seed import new_shop
from .wsclient import graphql_ws

WATCH = "subscription($job: ID!) { jobRunUpdated(jobId: $job) { id status } }"


class Served:
    def __init__(self, runtime: Runtime, url: str) -> None:
        self.runtime = runtime
        self.url = url
        self.token, self.secret = issue_token(runtime, name="watcher", role=TokenRole.READ)
        self.job = ids.encode("Job", new_shop(runtime, "alpha")[1].id)


@pytest.fixture
def served(tmp_path: Path, database_url: str) -> Iterator[Served]:
    runtime = build_runtime(tmp_path, database_url)
    queue = QueueBackend.from_settings(runtime.settings)
    with serving(create_app(runtime, queue)) as url:
        yield Served(runtime, url)
    queue.stop()
    runtime.close()


async def closed_code(ws, timeout: float) -> int:  # type: ignore[no-untyped-def]
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await ws.receive(timeout=timeout)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def test_revoking_a_token_closes_its_open_subscription_within_seconds(served: Served) -> None:
    async with graphql_ws(served.url, init_payload={"Authorization": f"Bearer {served.secret}"}) as ws:
        await ws.start(WATCH, {"job": served.job})
        await asyncio.sleep(0.3)  # subscribed, waiting for a run
        revoke_token(served.runtime, served.token.id)
        started = time.monotonic()
        assert await closed_code(ws, timeout=10) == 4403
        assert time.monotonic() - started <= RECHECK_SECONDS + 2
        assert ws.connection.close_reason == "Forbidden: the API token is no longer valid"


async def test_every_subscribe_rechecks_the_token(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(TokenCheckingHandler, "recheck_seconds", 3600.0)  # only subscribe can notice
    async with graphql_ws(served.url, init_payload={"Authorization": f"Bearer {served.secret}"}) as ws:
        revoke_token(served.runtime, served.token.id)
        await ws.start(WATCH, {"job": served.job})
        assert await closed_code(ws, timeout=5) == 4403


async def test_a_live_token_keeps_its_subscription(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(TokenCheckingHandler, "recheck_seconds", 0.1)
    async with graphql_ws(served.url, init_payload={"Authorization": f"Bearer {served.secret}"}) as ws:
        await ws.start(WATCH, {"job": served.job})
        await asyncio.sleep(0.5)  # several re-checks pass
        second = await ws.start(WATCH, {"job": served.job})
        assert second == "2"
        with pytest.raises(asyncio.TimeoutError):  # no run yet: nothing sent, and not closed
            await ws.receive(timeout=0.5)
