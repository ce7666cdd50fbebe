"""Webhook deliveries close together are coalesced: a burst of edits to one order costs one re-read
(one API call), and a delivery that arrives after its refresh took the pending orders gets a
refresh of its own, so no edit is left unread. Real app over HTTP, real storage, the embedded
queue (fakeredis) and its worker, the simulated shop."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from core.jobs import bind_runtime, unbind_runtime
from core.queues import QueueBackend
from core.webhook_batches import note_pending, take_pending, wait_out
from gateway.api.app import create_app

from ..harness import Harness, fast_settings
from .test_shopify_webhooks import SECRET, delivery, eventually


@pytest.fixture
def shop(tmp_path: Path, database_url: str) -> Iterator[Harness]:
    h = Harness.build(fast_settings(tmp_path, database_url, shopify={"webhook_secret": SECRET},
                                    webhook_coalesce_seconds=0))
    yield h
    h.close()


@pytest.fixture
async def gateway(shop: Harness) -> AsyncIterator[tuple[httpx2.AsyncClient, QueueBackend]]:
    """The app, its queue's worker not started: the test starts it when the burst is in."""
    queue = QueueBackend.from_settings(shop.runtime.settings)
    bind_runtime(shop.runtime)
    app = create_app(shop.runtime, queue)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://gateway") as http:
        yield http, queue
    queue.stop()
    unbind_runtime(shop.runtime)


async def test_a_burst_of_edits_to_one_order_costs_one_api_call(shop: Harness, gateway: Any) -> None:
    client, queue = gateway
    order = shop.sim.create_order(lines=[("TEE", 5)])
    other = shop.sim.create_order(lines=[("CAP", 2)])
    (tee,) = shop.sim.line_item_ids(order)
    (cap,) = shop.sim.line_item_ids(other)
    for n in range(4):  # four edits, a delivery each, before any refresh has run
        shop.sim.cancel_units(order, tee, 1)
        reply = await client.post("/webhooks/shopify", **delivery(order, delivery_id=f"burst-{n}"))
        assert reply.status_code == 202 and reply.json() == {"status": "queued", "orders": [order]}
    shop.sim.cancel_units(other, cap, 2)
    assert (await client.post("/webhooks/shopify", **delivery(other, delivery_id="other"))).status_code == 202
    assert queue.queued_count() == 1  # one refresh for the shop, not one per delivery

    calls_before = shop.sim.stats.requests
    queue.start_embedded_worker(poll_seconds=0.02)
    eventually(lambda: shop.stored_canceled() == {tee: 4, cap: 2})
    assert shop.sim.stats.requests - calls_before == 2  # each order read once


async def test_a_delivery_after_the_refresh_began_gets_its_own(shop: Harness, gateway: Any) -> None:
    client, queue = gateway
    order = shop.sim.create_order(lines=[("TEE", 3)])
    (tee,) = shop.sim.line_item_ids(order)
    queue.start_embedded_worker(poll_seconds=0.02)
    shop.sim.cancel_units(order, tee, 1)
    assert (await client.post("/webhooks/shopify", **delivery(order, delivery_id="first"))).status_code == 202
    eventually(lambda: shop.stored_canceled() == {tee: 1})
    calls_before = shop.sim.stats.requests

    shop.sim.cancel_units(order, tee, 1)  # edited again after the first refresh read it
    assert (await client.post("/webhooks/shopify", **delivery(order, delivery_id="second"))).status_code == 202
    eventually(lambda: shop.stored_canceled() == {tee: 2})
    assert shop.sim.stats.requests - calls_before == 1


def test_noting_and_taking_never_lose_an_order(tmp_path: Path) -> None:
    from core.settings import Settings

    queue = QueueBackend.from_settings(Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'q.db'}"))
    redis, name = queue.connection, queue.queue.name
    first = note_pending(redis, name, 7, ["gid://shopify/Order/1"])
    assert first is not None  # nothing waiting: the caller queues a job
    assert note_pending(redis, name, 7, ["gid://shopify/Order/2", "gid://shopify/Order/1"]) is None  # joins it
    assert note_pending(redis, name, 8, ["gid://shopify/Order/9"]) is not None  # another shop, its own job
    assert take_pending(redis, name, 7) == ["gid://shopify/Order/1", "gid://shopify/Order/2"]
    assert take_pending(redis, name, 7) == []
    # once a job has taken the set, the next delivery needs (and gets) a job of its own
    again = note_pending(redis, name, 7, ["gid://shopify/Order/3"])
    assert again is not None and again != first
    assert take_pending(redis, name, 7) == ["gid://shopify/Order/3"]


def test_a_refresh_waits_out_the_interval_from_when_it_was_queued() -> None:
    slept: list[float] = []
    wait_out(100.0, 0.25, clock=lambda: 100.1, sleep=slept.append)
    wait_out(100.0, 0.25, clock=lambda: 100.3, sleep=slept.append)  # already past: no wait
    assert slept == [pytest.approx(0.15)]
