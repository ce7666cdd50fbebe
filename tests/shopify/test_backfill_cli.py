"""``sync-gateway backfill`` end to end: the real command in a subprocess, against the simulator
served on a real socket, into a real SQLite file."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from core import JobRunStatus, RunTrigger
from plugins.shopify.simulator import ShopSimulator
from plugins.shopify.simulator.agreement import stored_state
from plugins.storage.sqlalchemy.backend import SqlAlchemyBackend

from ..servers import serving
from .conftest import TOKEN


@pytest.fixture
def served() -> Iterator[tuple[ShopSimulator, str]]:
    sim = ShopSimulator(shop_domain="backfill-shop.myshopify.com", access_token=TOKEN, bulk_objects_per_second=20_000)
    now = sim.clock.now()
    sim.seed(1_500, seed=9, start=now - timedelta(days=20), end=now - timedelta(hours=1))
    with serving(sim.asgi_app) as url:
        yield sim, url


def gateway(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway", *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_backfill_reads_the_window_in_bulk_and_stores_it_exactly(served: tuple[ShopSimulator, str],
                                                                   tmp_path: Path) -> None:
    sim, url = served
    database_url = f"sqlite:///{(tmp_path / 'gateway.db').as_posix()}"
    env = {**os.environ, "SYNC_GATEWAY_DATABASE_URL": database_url, "SYNC_GATEWAY_DATA_DIR": str(tmp_path / "data"),
           "COLUMNS": "200"}
    added = gateway("shops", "add", "acme", "--url", url, "--token", TOKEN, env=env)
    assert added.returncode == 0, added.stdout + added.stderr

    since = (sim.clock.now() - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S")
    done = gateway("backfill", "--shop", "acme", "--since", since, env=env)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "1,500 orders" in done.stdout
    assert len(sim.bulk.operations) == 1  # one bulk query, no paging
    storage = SqlAlchemyBackend().open(database_url)
    try:
        with storage.transaction() as tx:
            (job,) = tx.list_jobs()
            run = tx.latest_run(job.id)
            assert run is not None and run.status is JobRunStatus.SUCCEEDED and run.trigger is RunTrigger.BACKFILL
            assert run.window_from is not None and run.window_from.strftime("%Y-%m-%dT%H:%M:%S") == since
            assert run.orders_seen == 1_500
        stored = stored_state(storage).canceled_units
    finally:
        storage.dispose()
    assert stored == {line: n for line, n in sim.truth().canceled_units.items() if n}


def test_an_empty_backfill_window_is_refused(served: tuple[ShopSimulator, str], tmp_path: Path) -> None:
    _, url = served
    env = {**os.environ, "SYNC_GATEWAY_DATABASE_URL": f"sqlite:///{(tmp_path / 'g.db').as_posix()}"}
    assert gateway("shops", "add", "acme", "--url", url, "--token", TOKEN, env=env).returncode == 0
    refused = gateway("backfill", "--shop", "acme", "--since", "2026-11-02", "--until", "2026-11-01", env=env)
    assert refused.returncode == 1
    assert "empty" in refused.stderr
