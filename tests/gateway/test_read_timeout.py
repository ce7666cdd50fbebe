"""Every API read runs under ``read_timeout_seconds``: a read that takes longer is a clear
``READ_TIMEOUT`` error, and the query stops in the database (it is not left running)."""

from __future__ import annotations

from pathlib import Path

import httpx2
import psycopg
import pytest

from core import TokenRole
from core.apitokens import issue_token
from core.queues import QueueBackend
from gateway.api.app import create_app

from .conftest import build_runtime
from .seed import new_shop, seed


@pytest.mark.postgres
async def test_a_read_held_up_past_the_limit_is_a_read_timeout_and_stops_in_postgresql(
        tmp_path: Path, postgres_url: str) -> None:
    runtime = build_runtime(tmp_path, postgres_url, settings={"read_timeout_seconds": 0.5})
    queue = QueueBackend.from_settings(runtime.settings)
    token = issue_token(runtime, name="read", role=TokenRole.READ)[1]
    shop, _ = new_shop(runtime, "alpha")
    seed(runtime, shop, 3)
    query = {"query": "{ orders { totalCount nodes { name } } }"}
    dsn = postgres_url.replace("postgresql+psycopg://", "postgresql://", 1)
    try:
        async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=create_app(runtime, queue)),
                                      base_url="http://test", headers={"Authorization": f"Bearer {token}"}) as client:
            with psycopg.connect(dsn) as locker:  # holds every reader of orders back
                locker.execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
                body = (await client.post("/graphql", json=query)).json()
                waiting = locker.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND state = 'active' AND pid <> pg_backend_pid()").fetchone()
                locker.rollback()
            [error] = body["errors"]
            assert error["extensions"]["code"] == "READ_TIMEOUT"
            assert error["message"] == ("the read took longer than 0.5 s and was stopped: "
                                        "ask for fewer rows or a narrower filter")
            assert waiting == (0,)  # the API's statement was cancelled by the server, not left waiting
            served = (await client.post("/graphql", json=query)).json()
            assert served["data"]["orders"]["totalCount"] == 3
    finally:
        queue.stop()
        runtime.close()


async def test_a_read_past_the_limit_is_a_read_timeout_on_sqlite_too(tmp_path: Path, sqlite_url: str) -> None:
    # SQLite's readers are never held up by a lock (WAL): the limit is what makes this read too
    # long, a microsecond, so the progress handler stops the search's scan at its first look
    runtime = build_runtime(tmp_path, sqlite_url, settings={"read_timeout_seconds": 0.000001})
    queue = QueueBackend.from_settings(runtime.settings)
    token = issue_token(runtime, name="read", role=TokenRole.READ)[1]
    shop, _ = new_shop(runtime, "alpha")
    seed(runtime, shop, 2000)  # a scan long enough for the handler to look at the clock
    query = {"query": '{ orders(filter: {search: "no such order"}) { totalCount nodes { name } } }'}
    try:
        async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=create_app(runtime, queue)),
                                      base_url="http://test", headers={"Authorization": f"Bearer {token}"}) as client:
            response = await client.post("/graphql", json=query)
        assert response.status_code == 200
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "READ_TIMEOUT"
        assert error["message"].startswith("the read took longer than 1e-06 s and was stopped")
    finally:
        queue.stop()
        runtime.close()
