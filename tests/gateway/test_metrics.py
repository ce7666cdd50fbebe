"""Prometheus metrics and health checks, scraped over HTTP from the real app: each metric moves as
it should after a run, a failed run, a throttled reply, a webhook and a GraphQL request; the lag
an operator alerts on is the store's; ``/readyz`` names what is down."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from prometheus_client.parser import text_string_to_metric_families

from core import JobRunStatus, TokenRole
from core.apitokens import issue_token
from core.jobcontrol import run_job_now
from core.jobs import bind_runtime, unbind_runtime
from core.metrics import GatewayMetrics
from core.queues import QueueBackend
from core.runtime import open_storage
from gateway.api.app import create_app
from plugins.shopify.simulator.faults import FaultConfig

from ..harness import Harness, fast_settings
from ..webhooks.test_shopify_webhooks import SECRET, delivery

BUCKET_CEILING = 1000.0

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    """Every sample of an exposition, keyed by name and sorted labels."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


class Gateway:
    def __init__(self, shop: Harness, queue: QueueBackend, http: httpx2.AsyncClient, read_token: str) -> None:
        self.shop, self.queue, self.http, self.read_token = shop, queue, http, read_token

    async def scrape(self) -> Samples:
        reply = await self.http.get("/metrics")
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("text/plain")
        return parse(reply.text)

    def run_now(self) -> Any:
        """Queue a run as an admin would and wait until the embedded worker finished it."""
        run = run_job_now(self.shop.runtime, self.queue.enqueue_run, self.shop.job.id)
        deadline = time.monotonic() + 30
        while True:
            with self.shop.runtime.storage.read() as tx:
                current = tx.get_run(run.id)
            assert current is not None
            if current.status not in (JobRunStatus.QUEUED, JobRunStatus.RUNNING):
                return current
            assert time.monotonic() < deadline, "run did not finish"
            time.sleep(0.05)

    async def counted(self, name: str, expected: float, **labels: str) -> Samples:
        """Scrape until ``name`` reaches ``expected`` (the worker counts a run just after storing it)."""
        deadline = time.monotonic() + 10
        while True:
            samples = await self.scrape()
            if value(samples, name, **labels) >= expected or time.monotonic() > deadline:
                return samples
            time.sleep(0.05)


@pytest.fixture
def shop(tmp_path: Path, database_url: str) -> Iterator[Harness]:
    # A fast-refilling bucket keeps a throttled wait short in real time.
    h = Harness.build(fast_settings(tmp_path, database_url, shopify={"webhook_secret": SECRET}),
                      bucket=(BUCKET_CEILING, 20000.0))  # (ceiling, points per second)
    yield h
    h.close()


@pytest.fixture
async def gateway(shop: Harness) -> AsyncIterator[Gateway]:
    queue = QueueBackend.from_settings(shop.runtime.settings)
    metrics = GatewayMetrics()
    bind_runtime(shop.runtime)
    queue.start_embedded_worker(poll_seconds=0.05,
                                after_job=lambda run_id: metrics.count_run_id(shop.runtime.storage, run_id))
    app = create_app(shop.runtime, queue, metrics=metrics)
    read = issue_token(shop.runtime, name="reader", role=TokenRole.READ)[1]
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://gateway") as http:
        yield Gateway(shop, queue, http, read)
    queue.stop()
    unbind_runtime(shop.runtime)


def seed_cancellations(shop: Harness, orders: int = 3) -> None:
    for _ in range(orders):
        order = shop.sim.create_order(lines=[("TEE", 3), ("MUG", 1)])
        tee, _ = shop.sim.line_item_ids(order)
        shop.sim.cancel_units(order, tee, 2)
        shop.sim.fulfil(order, None)
    shop.advance(600)  # past the settle buffer


async def test_a_run_moves_the_run_counters_by_its_stored_counts(gateway: Gateway) -> None:
    shop = gateway.shop
    seed_cancellations(shop, 3)
    run = gateway.run_now()
    assert run.status is JobRunStatus.SUCCEEDED and run.units_canceled == 6

    samples = await gateway.counted("sync_gateway_runs_total", 1, shop="demo", kind="canceled-items",
                                    status="SUCCEEDED")
    labels = {"shop": "demo", "kind": "canceled-items"}
    assert value(samples, "sync_gateway_runs_total", status="SUCCEEDED", **labels) == 1
    assert value(samples, "sync_gateway_orders_read_total", **labels) == run.orders_seen == 3
    assert value(samples, "sync_gateway_items_canceled_total", **labels) == 3
    assert value(samples, "sync_gateway_units_canceled_total", **labels) == 6
    assert value(samples, "sync_gateway_run_duration_seconds_count", **labels) == 1
    assert value(samples, "sync_gateway_shopify_cost_points_total", shop="demo") == pytest.approx(run.api_cost)
    assert run.api_cost > 0
    # the bucket at the last reply, against the shop's ceiling
    assert value(samples, "sync_gateway_shopify_bucket_maximum_points", shop="demo") == BUCKET_CEILING
    assert 0 < value(samples, "sync_gateway_shopify_bucket_available_points", shop="demo") <= BUCKET_CEILING

    # a second run of nothing new counts one more run, and no more units
    shop.advance(60)
    gateway.run_now()
    samples = await gateway.counted("sync_gateway_runs_total", 2, status="SUCCEEDED", **labels)
    assert value(samples, "sync_gateway_runs_total", status="SUCCEEDED", **labels) == 2
    assert value(samples, "sync_gateway_units_canceled_total", **labels) == 6


async def test_lag_is_the_time_since_the_watermark_and_the_period_is_the_schedule(gateway: Gateway) -> None:
    shop = gateway.shop
    seed_cancellations(shop, 1)
    gateway.run_now()
    watermark = shop.watermark()
    assert watermark is not None
    shop.advance(1800)
    samples = await gateway.scrape()
    labels = {"shop": "demo", "kind": "canceled-items"}
    expected = (shop.sim.clock.now() - watermark).total_seconds()
    assert value(samples, "sync_gateway_job_lag_seconds", **labels) == pytest.approx(expected)
    assert value(samples, "sync_gateway_job_schedule_period_seconds", **labels) == 3600
    assert value(samples, "sync_gateway_store_up") == 1
    assert value(samples, "sync_gateway_runs_waiting", **labels) == 0


async def test_a_failed_run_is_counted_as_failed(gateway: Gateway) -> None:
    shop = gateway.shop
    seed_cancellations(shop, 2)
    shop.sim.faults = FaultConfig(fail_after_requests=0)  # Shopify answers 500 to everything
    run = gateway.run_now()
    assert run.status is JobRunStatus.FAILED
    samples = await gateway.counted("sync_gateway_runs_total", 1, shop="demo", kind="canceled-items",
                                    status="FAILED")
    assert value(samples, "sync_gateway_runs_total", shop="demo", kind="canceled-items", status="FAILED") == 1
    assert value(samples, "sync_gateway_runs_total", shop="demo", kind="canceled-items", status="SUCCEEDED") == 0
    assert value(samples, "sync_gateway_shopify_retries_total", shop="demo") == run.retries > 0


async def test_throttled_replies_are_counted(gateway: Gateway) -> None:
    shop = gateway.shop
    seed_cancellations(shop, 2)
    shop.sim.faults = FaultConfig(throttle_storm=(1, 3))  # the first two requests are THROTTLED
    run = gateway.run_now()
    assert run.status is JobRunStatus.SUCCEEDED and run.throttled == 2
    samples = await gateway.counted("sync_gateway_runs_total", 1, shop="demo", kind="canceled-items",
                                    status="SUCCEEDED")
    assert value(samples, "sync_gateway_shopify_throttled_replies_total", shop="demo") == 2


async def test_webhook_deliveries_are_counted_by_outcome(gateway: Gateway) -> None:
    shop = gateway.shop
    order = shop.sim.create_order(lines=[("TEE", 3)])
    assert (await gateway.http.post("/webhooks/shopify", **delivery(order, delivery_id="a"))).status_code == 202
    assert (await gateway.http.post("/webhooks/shopify", **delivery(order, delivery_id="a"))).status_code == 200
    forged = delivery(order, delivery_id="b", secret="a guess")
    assert (await gateway.http.post("/webhooks/shopify", **forged)).status_code == 401
    assert (await gateway.http.post("/webhooks/shopify", **forged)).status_code == 401
    assert (await gateway.http.post("/webhooks/nowhere", content=b"{}")).status_code == 404
    assert (await gateway.http.post("/webhooks/shopify", content=b"x" * (3 * 1024 * 1024))).status_code == 413

    samples = await gateway.scrape()
    assert value(samples, "sync_gateway_webhook_deliveries_total", source="shopify", outcome="queued") == 1
    assert value(samples, "sync_gateway_webhook_deliveries_total", source="shopify", outcome="duplicate") == 1
    assert value(samples, "sync_gateway_webhook_deliveries_total", source="shopify", outcome="rejected") == 2
    assert value(samples, "sync_gateway_webhook_deliveries_total", source="shopify", outcome="too_large") == 1
    # an unknown source is one label value, not one per path an attacker tries
    assert value(samples, "sync_gateway_webhook_deliveries_total", source="unknown", outcome="unknown_source") == 1


async def test_graphql_requests_are_counted_by_operation_and_outcome(gateway: Gateway) -> None:
    auth = {"Authorization": f"Bearer {gateway.read_token}"}
    ok = await gateway.http.post("/graphql", json={"query": "{ shops { name } }"}, headers=auth)
    assert ok.status_code == 200 and not ok.json().get("errors")
    await gateway.http.post("/graphql", json={"query": "{ noSuchField }"}, headers=auth)
    denied = await gateway.http.post("/graphql", headers=auth,  # a read token: refused as it executes
                                     json={"query": 'mutation { pauseJob(jobId: "x") { job { paused } } }'})
    assert denied.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    samples = await gateway.scrape()
    assert value(samples, "sync_gateway_graphql_requests_total", operation="query", outcome="ok") == 1
    assert value(samples, "sync_gateway_graphql_requests_total", operation="query", outcome="invalid") == 1
    assert value(samples, "sync_gateway_graphql_requests_total", operation="mutation", outcome="error") == 1
    assert value(samples, "sync_gateway_graphql_request_duration_seconds_count", operation="query") == 2


async def test_liveness_and_readiness_when_everything_is_up(gateway: Gateway) -> None:
    assert (await gateway.http.get("/healthz")).json() == {"status": "ok"}
    ready = await gateway.http.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ok" and body["checks"]["database"]["status"] == "ok"
    assert "redis" not in body["checks"]  # the embedded queue needs no Redis


async def test_readiness_is_503_naming_the_database_when_it_is_unreachable(tmp_path: Path, database_url: str) -> None:
    h = Harness.build(fast_settings(tmp_path, database_url))
    h.runtime.storage.dispose()
    # the same runtime, its store now behind a closed port (the shared server keeps running)
    unreachable = "postgresql://postgres@127.0.0.1:1/nowhere" if database_url.startswith("postgresql") \
        else f"sqlite:///{tmp_path}/no/such/dir/x.db"
    h.runtime.storage = open_storage(h.runtime.pm, unreachable)
    queue = QueueBackend.from_settings(h.runtime.settings)
    app = create_app(h.runtime, queue)
    try:
        async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://gateway") as http:
            ready = await http.get("/readyz")
            live = await http.get("/healthz")
            metrics = await http.get("/metrics")
    finally:
        h.runtime.storage.dispose()
        queue.stop()
    assert live.status_code == 200
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "unavailable" and body["down"] == ["database"]
    assert body["checks"]["database"]["status"] == "down" and body["checks"]["database"]["error"]
    assert value(parse(metrics.text), "sync_gateway_store_up") == 0


async def test_readiness_names_redis_when_it_is_configured_and_unreachable(tmp_path: Path, database_url: str) -> None:
    h = Harness.build(fast_settings(tmp_path, database_url, redis_url="redis://127.0.0.1:1/0"))
    queue = QueueBackend.from_settings(h.runtime.settings)
    app = create_app(h.runtime, queue)
    try:
        async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://gateway") as http:
            ready = await http.get("/readyz")
    finally:
        h.close()
    assert ready.status_code == 503
    body = ready.json()
    assert body["down"] == ["redis"] and body["checks"]["database"]["status"] == "ok"
