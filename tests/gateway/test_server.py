"""The app behind a real uvicorn server on 127.0.0.1: HTTP, GraphiQL, CORS, health, subscriptions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx2
import pytest

from core import JobRunStatus, RunProgress, RunTrigger, TokenRole
from core.apitokens import issue_token
from core.jobcontrol import run_job_now
from core.queues import QueueBackend
from gateway.api import ids
from gateway.api.app import create_app
from tests.servers import serving

from .conftest import build_runtime
from .seed import new_shop, seed
from .wsclient import graphql_ws

WATCH = """subscription($job: ID!) { jobRunUpdated(jobId: $job) {
  id status trigger pages ordersSeen progress { pages ordersSeen unitsCanceled checkpoint } job { id } } }"""


class Server:
    def __init__(self, tmp_path: Path, database_url: str) -> None:
        self.runtime = build_runtime(tmp_path, database_url, settings={"cors_origins": ["https://admin.example"]})
        self.queue = QueueBackend.from_settings(self.runtime.settings)
        self.admin = issue_token(self.runtime, name="admin", role=TokenRole.ADMIN)[1]
        self.read = issue_token(self.runtime, name="read", role=TokenRole.READ)[1]
        self.app = create_app(self.runtime, self.queue)
        self.url = ""

    def update_run(self, run_id: int, **changes) -> None:  # type: ignore[no-untyped-def]
        with self.runtime.storage.transaction() as tx:
            tx.update_run(run_id, **changes)


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[Server]:
    server = Server(tmp_path, database_url)
    with serving(server.app) as url:
        server.url = url
        yield server
    server.queue.stop()
    server.runtime.close()


async def test_http_graphiql_health_and_cors(server: Server) -> None:
    shop, _ = new_shop(server.runtime, "alpha")
    seed(server.runtime, shop, 3)
    async with httpx2.AsyncClient(base_url=server.url) as client:
        health = await client.get("/healthz")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        body = (await client.post("/graphql", json={"query": "{ orders { totalCount nodes { name } } }"},
                                  headers={"Authorization": f"Bearer {server.read}"})).json()
        assert body["data"]["orders"]["totalCount"] == 3
        ide = await client.get("/graphql", headers={"Accept": "text/html"})
        assert ide.status_code == 200 and "graphiql" in ide.text.lower()
        preflight = await client.options("/graphql", headers={
            "Origin": "https://admin.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type"})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://admin.example"
        assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
        foreign = await client.options("/graphql", headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
        assert "access-control-allow-origin" not in foreign.headers


async def test_graphiql_can_be_turned_off(tmp_path: Path, database_url: str) -> None:
    runtime = build_runtime(tmp_path, database_url)
    queue = QueueBackend.from_settings(runtime.settings)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=create_app(runtime, queue, graphiql=False)),
                                  base_url="http://test") as client:
        ide = await client.get("/graphql", headers={"Accept": "text/html"})
        assert ide.status_code == 404
    runtime.close()


async def test_subscription_follows_the_next_run_to_its_end(server: Server) -> None:
    _, job = new_shop(server.runtime, "alpha")
    job_gid = ids.encode("Job", job.id)
    async with graphql_ws(server.url, init_payload={"Authorization": f"Bearer {server.read}"}) as ws:
        operation = await ws.start(WATCH, {"job": job_gid})
        # no run yet: the subscription waits for the next one
        run = run_job_now(server.runtime, server.queue.enqueue_run, job.id)  # no worker: it stays queued
        queued = await ws.receive()
        assert queued["type"] == "next" and queued["id"] == operation
        assert queued["payload"]["data"]["jobRunUpdated"]["status"] == "QUEUED"
        assert queued["payload"]["data"]["jobRunUpdated"]["id"] == ids.encode("JobRun", run.id)
        assert queued["payload"]["data"]["jobRunUpdated"]["job"] == {"id": job_gid}

        now = server.runtime.now()
        server.update_run(run.id, status=JobRunStatus.RUNNING, started_at=now)
        running = (await ws.receive())["payload"]["data"]["jobRunUpdated"]
        assert running["status"] == "RUNNING" and running["progress"] is None

        server.update_run(run.id, pages=1, orders_seen=50, progress=RunProgress(
            pages=1, orders_seen=50, units_canceled=4, items_canceled=3, checkpoint=now - timedelta(minutes=3),
            elapsed_seconds=0.4))
        progressed = (await ws.receive())["payload"]["data"]["jobRunUpdated"]
        assert progressed["progress"]["pages"] == 1 and progressed["progress"]["ordersSeen"] == 50
        assert progressed["progress"]["unitsCanceled"] == 4

        server.update_run(run.id, status=JobRunStatus.SUCCEEDED, finished_at=server.runtime.now(), pages=2,
                          orders_seen=80)
        done = await ws.receive()
        assert done["payload"]["data"]["jobRunUpdated"]["status"] == "SUCCEEDED"
        assert done["payload"]["data"]["jobRunUpdated"]["ordersSeen"] == 80
        assert await ws.receive() == {"id": operation, "type": "complete"}


async def test_subscription_watches_the_current_run(server: Server) -> None:
    _, job = new_shop(server.runtime, "alpha")
    run = run_job_now(server.runtime, server.queue.enqueue_run, job.id)
    server.update_run(run.id, status=JobRunStatus.RUNNING, started_at=server.runtime.now())
    async with graphql_ws(server.url, headers={"Authorization": f"Bearer {server.admin}"}) as ws:
        operation = await ws.start(WATCH, {"job": ids.encode("Job", job.id)})
        first = (await ws.receive())["payload"]["data"]["jobRunUpdated"]
        assert first["status"] == "RUNNING" and first["id"] == ids.encode("JobRun", run.id)
        server.update_run(run.id, status=JobRunStatus.FAILED, finished_at=server.runtime.now(), error="boom")
        assert (await ws.receive())["payload"]["data"]["jobRunUpdated"]["status"] == "FAILED"
        assert (await ws.receive())["type"] == "complete"
        assert operation == "1"


@pytest.mark.parametrize(("init", "code"), [
    ({}, "UNAUTHENTICATED"),
    ({"Authorization": "Bearer sgw_wrong"}, "UNAUTHENTICATED"),
])
async def test_subscriptions_need_a_token(server: Server, init: dict, code: str) -> None:
    _, job = new_shop(server.runtime, "alpha")
    async with graphql_ws(server.url, init_payload=init) as ws:
        await ws.start(WATCH, {"job": ids.encode("Job", job.id)})
        message = await ws.receive()
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == code


@pytest.mark.parametrize(("job_id", "code"), [
    ("gid://sync-gateway/Job/9999", "NOT_FOUND"),
    ("gid://sync-gateway/Shop/1", "BAD_USER_INPUT"),
    ("nonsense", "BAD_USER_INPUT"),
])
async def test_subscription_to_an_unknown_job(server: Server, job_id: str, code: str) -> None:
    async with graphql_ws(server.url, init_payload={"Authorization": f"Bearer {server.read}"}) as ws:
        await ws.start(WATCH, {"job": job_id})
        message = await ws.receive()
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == code, message


async def test_a_subscription_over_plain_http_is_refused_clearly(server: Server, caplog: pytest.LogCaptureFixture) -> None:
    # GraphiQL sends an anonymous subscription over HTTP: it must be told to use the websocket,
    # not handed an "Unexpected error" logged as a fault of ours.
    import logging

    caplog.set_level(logging.ERROR, logger="sync_gateway.api")
    _, job = new_shop(server.runtime, "alpha")
    async with httpx2.AsyncClient(base_url=server.url) as client:
        response = await client.post("/graphql", headers={"Authorization": f"Bearer {server.read}"},
                                     json={"query": WATCH, "variables": {"job": ids.encode("Job", job.id)}})
    assert response.status_code == 400
    assert "subscriptions are not allowed when using POST" in response.text
    assert caplog.records == []


@pytest.mark.postgres
async def test_an_unexpected_failure_mid_subscription_is_masked_and_logged(
        tmp_path: Path, postgres_url: str, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    import psycopg

    from tests.services import POSTGRES_URL

    caplog.set_level(logging.ERROR, logger="sync_gateway.api")
    runtime = build_runtime(tmp_path, postgres_url)
    queue = QueueBackend.from_settings(runtime.settings)
    token = issue_token(runtime, name="read", role=TokenRole.READ)[1]
    _, job = new_shop(runtime, "alpha")
    run_job_now(runtime, queue.enqueue_run, job.id)
    try:
        with serving(create_app(runtime, queue)) as url:
            async with graphql_ws(url, init_payload={"Authorization": f"Bearer {token}"}) as ws:
                operation = await ws.start(WATCH, {"job": ids.encode("Job", job.id)})
                assert (await ws.receive())["payload"]["data"]["jobRunUpdated"]["status"] == "QUEUED"
                # the database disappears under the API: the next poll fails unexpectedly
                admin_dsn = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://", 1)
                with psycopg.connect(admin_dsn, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE "{postgres_url.rsplit("/", 1)[1]}" WITH (FORCE)')
                failed = await ws.receive()
                [error] = failed["payload"]["errors"]
                assert error["message"] == f"Unexpected error. Reference: {error['extensions']['reference']}"
                assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
                assert await ws.receive() == {"id": operation, "type": "complete"}
    finally:
        runtime.close()
    reference = error["extensions"]["reference"]
    assert any(reference in r.getMessage() and "Traceback" in r.getMessage() for r in caplog.records)


async def test_a_run_the_reaper_finds_lost_is_pushed_as_lost_and_ends_the_subscription(server: Server) -> None:
    from core.reaper import reap_runs

    _, job = new_shop(server.runtime, "alpha")
    now = server.runtime.now()
    with server.runtime.storage.transaction() as tx:
        run = tx.create_run(job_id=job.id, trigger=RunTrigger.SCHEDULE)
        tx.update_run(run.id, status=JobRunStatus.RUNNING, queued_at=now - timedelta(minutes=5), started_at=now)
        assert tx.acquire_lease(job.id, run_id=run.id, holder="vanished", now=now - timedelta(minutes=3),
                                expires_at=now - timedelta(minutes=2))
    async with graphql_ws(server.url, init_payload={"Authorization": f"Bearer {server.read}"}) as ws:
        operation = await ws.start(WATCH, {"job": ids.encode("Job", job.id)})
        assert (await ws.receive())["payload"]["data"]["jobRunUpdated"]["status"] == "RUNNING"
        assert [r.run_id for r in reap_runs(server.runtime)] == [run.id]
        assert (await ws.receive())["payload"]["data"]["jobRunUpdated"]["status"] == "LOST"
        assert await ws.receive() == {"id": operation, "type": "complete"}  # LOST is an end
    async with httpx2.AsyncClient(base_url=server.url) as client:
        body = (await client.post("/graphql", headers={"Authorization": f"Bearer {server.read}"}, json={
            "query": "query($job: ID!) { lost: jobRuns(jobId: $job, status: LOST) { nodes { id status error } } "
                     "failed: jobRuns(jobId: $job, status: FAILED) { nodes { id } } }",
            "variables": {"job": ids.encode("Job", job.id)}})).json()
    assert "errors" not in body, body
    (lost,) = body["data"]["lost"]["nodes"]
    assert (lost["id"], lost["status"]) == (ids.encode("JobRun", run.id), "LOST")
    assert lost["error"].startswith("lost: its worker stopped renewing the lease")
    assert body["data"]["failed"]["nodes"] == []
