"""Several gateway shops pointing at one simulated shop share its bucket, as several apps'
runs of one real shop would share one app's bucket (the bucket is per app and shop, so it
belongs to the simulated shop, not to whoever calls it)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx2
import pytest

from core import NewShop
from core.jobcontrol import add_shop
from core.models import JobRunStatus, RunTrigger
from core.plugins import make_plugin_manager
from core.runs import execute_run
from core.runtime import Runtime
from plugins.shopify.simulator import ShopSimulator

from ..harness import SHOP_DOMAIN, T0, TOKEN, fast_settings


@pytest.fixture
def sim() -> ShopSimulator:
    # The bucket never refills (a frozen time source): every point it lost was charged by a caller.
    shop = ShopSimulator(shop_domain=SHOP_DOMAIN, access_token=TOKEN, plan="plus", time_source=lambda: 0.0)
    shop.clock.set(T0 - timedelta(hours=3))
    shop.seed(120, seed=9, start=T0 - timedelta(hours=3), end=T0 - timedelta(minutes=10))
    shop.clock.set(T0)
    return shop


def test_gateway_shops_on_one_simulated_shop_are_charged_to_one_bucket(
    tmp_path: Path, sqlite_url: str, sim: ShopSimulator
) -> None:
    runtime = Runtime.build(fast_settings(tmp_path, sqlite_url), pm=make_plugin_manager(),
                            source_options={"*": {"transport": httpx2.ASGITransport(app=sim.asgi_app)}},
                            clock=sim.clock.now)
    try:
        runs = []
        for name in ("first", "second", "third"):
            _, (job,) = add_shop(runtime, NewShop(name=name, url=f"https://{SHOP_DOMAIN}", token=TOKEN))
            with runtime.storage.transaction() as tx:
                run = tx.create_run(job_id=job.id, trigger=RunTrigger.MANUAL)
            runs.append(execute_run(runtime, run.id))
    finally:
        runtime.close()
    assert [r.status for r in runs] == [JobRunStatus.SUCCEEDED] * 3, [r.error for r in runs]
    assert all(r.orders_seen == 120 for r in runs)
    charged = sim.bucket.maximum_available - sim.bucket.available()
    assert charged == pytest.approx(sum(r.api_cost for r in runs))
    assert charged > 2 * runs[0].api_cost  # three callers, one bucket

