"""A delivery is verified off the event loop, a few at a time: a receiver's slow check (an HMAC
over 2 MB) neither stalls the API's other requests nor takes more than ``WEBHOOK_THREADS`` of
the threads the GraphQL reads use. A receiver of a plugin's own, slow on purpose."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx2

from core import Settings, WebhookEvent, WebhookRejected, hookimpl
from core.plugins import make_plugin_manager
from core.queues import QueueBackend
from core.runtime import Runtime
from gateway.api.app import create_app
from gateway.api.webhooks import WEBHOOK_THREADS

SECONDS = 0.4


class SlowReceiver:
    source = "slow"

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.threads: set[int] = set()

    def verify(self, *, headers: Mapping[str, str], body: bytes, settings: Settings) -> WebhookEvent:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.threads.add(threading.get_ident())
        time.sleep(SECONDS)  # what a long HMAC does to whichever thread runs it
        with self.lock:
            self.running -= 1
        raise WebhookRejected("slowly judged a forgery")


async def test_slow_verifications_run_in_a_few_threads_and_the_api_keeps_answering(
        tmp_path: Path, sqlite_url: str) -> None:
    receiver = SlowReceiver()

    class Plugin:
        @hookimpl
        def register_webhook_receivers(self) -> Sequence[Any]:
            return [receiver]

    runtime = Runtime.build(Settings(data_dir=tmp_path / "data", database_url=sqlite_url),
                            pm=make_plugin_manager(extra=[Plugin()]))
    queue = QueueBackend.from_settings(runtime.settings)
    try:
        async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=create_app(runtime, queue)),
                                      base_url="http://test") as client:
            deliveries = [asyncio.create_task(client.post("/webhooks/slow", content=b"{}"))
                          for _ in range(3 * WEBHOOK_THREADS)]
            gaps = []  # how long the event loop went without running this ticker
            while not all(d.done() for d in deliveries):
                before = time.monotonic()
                health = await client.get("/healthz")
                assert health.status_code == 200
                gaps.append(time.monotonic() - before)
                await asyncio.sleep(0.01)
            replies = await asyncio.gather(*deliveries)
    finally:
        queue.stop()
        runtime.close()
    assert len(gaps) > 5 and max(gaps) < SECONDS / 2, gaps
    assert [r.status_code for r in replies] == [401] * (3 * WEBHOOK_THREADS)
    assert replies[0].json() == {"error": "webhook rejected: slowly judged a forgery"}
    assert receiver.most == WEBHOOK_THREADS
    assert threading.get_ident() not in receiver.threads  # never on the event loop's thread
