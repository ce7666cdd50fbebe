"""A real run, end to end: runJobNow over HTTP, the embedded RQ worker reads the simulated Shopify
shop, and jobRunUpdated streams its progress over a real websocket until it finishes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx2
import pytest

from core import TokenRole
from core.apitokens import issue_token
from core.jobs import bind_runtime, unbind_runtime
from core.queues import QueueBackend
from gateway.api import ids
from gateway.api.app import create_app
from plugins.shopify.simulator.faults import FaultConfig
from tests.harness import T0, Harness, fast_settings
from tests.servers import serving

from .wsclient import graphql_ws

pytestmark = pytest.mark.slow

WATCH = """subscription($job: ID!) { jobRunUpdated(jobId: $job) {
  id status trigger pages ordersSeen unitsCanceled itemsCanceled ordersCanceled apiCost throttled retries error
  progress { pages ordersSeen unitsCanceled itemsCanceled ordersCanceled checkpoint elapsedSeconds
             apiCost throttled retries bucketAvailable bucketMaximum } } }"""


async def test_job_run_updated_streams_a_real_run(tmp_path: Path, database_url: str) -> None:
    # One cursor chain: six pages of ten, in order (the overlapped slices have their own tests).
    settings = fast_settings(tmp_path, database_url, page_size=10, shopify={"slices_in_flight": 1})
    harness = Harness.build(settings)
    sim, runtime = harness.sim, harness.runtime
    sim.seed(60, seed=7, start=T0 - timedelta(hours=3), end=T0 - timedelta(minutes=10), partial_cancel_rate=0.4)
    # every Shopify request takes a little while, so the run lasts long enough to be watched
    sim.faults = FaultConfig(rate_slow=1.0, slow_seconds=0.25)
    queue = QueueBackend.from_settings(settings)
    bind_runtime(runtime)
    queue.start_embedded_worker(poll_seconds=0.05)
    _, admin = issue_token(runtime, name="admin", role=TokenRole.ADMIN)
    job_gid = ids.encode("Job", harness.job.id)
    try:
        with serving(create_app(runtime, queue)) as url:
            async with graphql_ws(url, init_payload={"Authorization": f"Bearer {admin}"}) as ws:
                operation = await ws.start(WATCH, {"job": job_gid})
                async with httpx2.AsyncClient(base_url=url) as client:
                    response = await client.post("/graphql", headers={"Authorization": f"Bearer {admin}"}, json={
                        "query": "mutation($job: ID!) { runJobNow(jobId: $job) { run { id status } "
                                 "userErrors { message } } }", "variables": {"job": job_gid}})
                payload = response.json()["data"]["runJobNow"]
                assert payload["userErrors"] == [] and payload["run"]["status"] == "QUEUED"
                updates = []
                while True:
                    message = await ws.receive(timeout=60)
                    if message["type"] == "complete":
                        assert message["id"] == operation
                        break
                    assert message["type"] == "next", message
                    assert "errors" not in message["payload"], message
                    updates.append(message["payload"]["data"]["jobRunUpdated"])
                async with httpx2.AsyncClient(base_url=url) as client:
                    stored = (await client.post("/graphql", headers={"Authorization": f"Bearer {admin}"}, json={
                        "query": "query($id: ID!) { jobRun(id: $id) { status ordersSeen unitsCanceled } "
                                 "orders { totalCount } }", "variables": {"id": payload["run"]["id"]}})).json()
    finally:
        queue.stop()
        unbind_runtime(runtime)
        harness.close()

    assert {u["id"] for u in updates} == {payload["run"]["id"]}
    statuses = [u["status"] for u in updates]
    assert statuses[-1] == "SUCCEEDED", updates[-1]
    assert "RUNNING" in statuses
    final = updates[-1]
    assert final["ordersSeen"] == 60 and final["pages"] == 6
    assert final["unitsCanceled"] > 0
    # progress arrived while the run was going, growing page by page
    live = [u["progress"] for u in updates if u["status"] == "RUNNING" and u["progress"]]
    assert live, updates
    pages = [p["pages"] for p in live]
    assert pages == sorted(pages) and 0 < pages[0] and max(pages) <= 6
    assert all(p["checkpoint"] is not None for p in live)
    assert final["progress"]["ordersSeen"] == 60
    # cost used against the plan's ceiling, as it happens: the standard plan's bucket holds 2,000
    costs = [p["apiCost"] for p in live]
    assert costs == sorted(costs) and costs[0] > 0
    assert all(p["bucketMaximum"] == 2000 and 0 <= p["bucketAvailable"] <= 2000 for p in live), live
    assert all(p["bucketAvailable"] < 2000 for p in live)  # each reply was charged to the bucket
    ended = final["progress"]
    assert (ended["apiCost"], ended["throttled"], ended["retries"], ended["ordersCanceled"]) == (
        final["apiCost"], final["throttled"], final["retries"], final["ordersCanceled"])
    assert stored["data"]["jobRun"] == {"status": "SUCCEEDED", "ordersSeen": 60,
                                        "unitsCanceled": final["unitsCanceled"]}
    assert stored["data"]["orders"]["totalCount"] == 60
