"""A simulated shop wired to a real runtime (real storage), for end-to-end tests.

The shop's clock is the runtime's clock, so a test decides when orders change and when runs
happen. The source reaches the simulator in-process through httpx's ASGI transport, or over a
real socket when a test serves it (workers in other processes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2

from core import JobRun, NewShop, OrderQuery, RunTrigger, Settings, Shop
from core.jobcontrol import add_shop
from core.models import Job
from core.plugins import make_plugin_manager
from core.runs import execute_run
from core.runtime import Runtime
from plugins.shopify.simulator import ShopSimulator
from plugins.shopify.simulator.agreement import stored_state

T0 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
SHOP_DOMAIN = "demo-shop.myshopify.com"
TOKEN = "shpat_test_secret_do_not_leak"


def fast_settings(tmp_path: Path, database_url: str, *, shopify: dict[str, Any] | None = None,
                  **overrides: Any) -> Settings:
    """Settings for tests: real database, short buffers, fast retries; ``shopify``: keys of
    ``[plugins.shopify]`` over the fast ones."""
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "database_url": database_url,
        "window_settle_seconds": 60,
        "window_overlap_seconds": 60,
        "first_run_lookback_hours": 24,
        "plugins": {"shopify": {"max_attempts": 3, "http_timeout_seconds": 5, **(shopify or {})}},
        "lease_seconds": 5,
        "schedule_jitter_seconds": 0,  # exact slots (jitter has its own tests, tests/jobs/test_jitter.py)
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class Harness:
    sim: ShopSimulator
    runtime: Runtime
    shop: Shop
    job: Job
    extra_plugins: list[object] = field(default_factory=list)

    @classmethod
    def build(cls, settings: Settings, *, plan: str = "standard", bucket: tuple[float, float] | None = None,
              plugins: tuple[object, ...] = (), url: str | None = None, transport: Any = None,
              api_version: str = "2026-07") -> Harness:
        sim = ShopSimulator(shop_domain=SHOP_DOMAIN, access_token=TOKEN, plan=plan, bucket=bucket)
        sim.clock.set(T0)
        if transport is None and url is None:
            transport = httpx2.ASGITransport(app=sim.asgi_app)
        options = {"*": {"transport": transport}} if transport is not None else {}
        pm = make_plugin_manager(extra=plugins)
        runtime = Runtime.build(settings, pm=pm, source_options=options, clock=sim.clock.now)
        shop, jobs = add_shop(runtime, NewShop(name="demo", url=url or f"https://{SHOP_DOMAIN}", token=TOKEN,
                                               api_version=api_version))
        return cls(sim=sim, runtime=runtime, shop=shop, job=jobs[0], extra_plugins=list(plugins))

    def advance(self, seconds: float) -> None:
        self.sim.clock.advance(seconds)

    def run(self, *, window_from: datetime | None = None, window_thru: datetime | None = None,
            trigger: RunTrigger = RunTrigger.MANUAL) -> JobRun:
        with self.runtime.storage.transaction() as tx:
            run = tx.create_run(job_id=self.job.id, trigger=trigger, window_from=window_from, window_thru=window_thru)
        return execute_run(self.runtime, run.id)

    def watermark(self) -> datetime | None:
        with self.runtime.storage.transaction() as tx:
            return tx.get_watermark(self.job.id)

    def stored_canceled(self) -> dict[str, int]:
        """Canceled units per Shopify line item id, for items with any."""
        return stored_state(self.runtime.storage, self.shop.id).canceled_units

    def stored_orders(self) -> dict[str, Any]:
        orders = {}
        after = None
        with self.runtime.storage.transaction() as tx:
            while True:
                page = tx.list_orders(OrderQuery(shop_id=self.shop.id), first=250, after=after)
                orders.update({o.source_id: o for o in page.items})
                if not page.has_next:
                    return orders
                after = page.cursors[-1]

    def history_rows(self) -> int:
        """Cancellation history rows of the shop, read through its items.

        Not through the ``cancellations`` feed: on PostgreSQL the feed holds back rows committed
        after any transaction still writing on the server began (another test's, another
        session's), so it would count late, not wrong (tests/storage test the feed itself)."""
        stored = self.stored_orders()
        with self.runtime.storage.transaction() as tx:
            items = tx.items_for_orders([order.id for order in stored.values()])
            item_ids = [item.id for rows in items.values() for item in rows]
            return sum(len(rows) for rows in tx.cancellations_for_items(item_ids).values())

    def expected_canceled(self) -> dict[str, int]:
        return {line: units for line, units in self.sim.truth().canceled_units.items() if units}

    def close(self) -> None:
        self.runtime.close()
