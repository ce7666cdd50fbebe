"""The source over a real local socket (uvicorn): a base URL instead of a shop domain, real
HTTP timeouts and real dropped connections, real time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from core import Settings, Shop, ShopCredentials, SourceAuthError
from plugins.shopify.simulator import FaultConfig, ShopSimulator, SimClock
from plugins.shopify.source import ShopifySource, ShopifySourceFactory

from ..servers import serving
from .conftest import TOKEN
from .test_simulated_shop import T0, WINDOW, fetch, orders_of, snapshot


@pytest.fixture
def served() -> Iterator[tuple[ShopSimulator, str]]:
    sim = ShopSimulator(shop_domain="demo-shop.myshopify.com", access_token=TOKEN, clock=SimClock(T0, frozen=True))
    sim.seed(120, seed=5, start=WINDOW.start, end=WINDOW.end - timedelta(seconds=1), large_order_rate=0.05)
    with serving(sim.asgi_app) as url:
        yield sim, url


def make_source(url: str, tmp_path: Path, token: str = TOKEN) -> ShopifySource:
    shop = Shop(id=1, name="demo", source="shopify", url=url, api_version="2026-07", has_token=True,
                token_env=None, created_at=T0)
    settings = Settings(data_dir=tmp_path / "data", plugins={"shopify": {"max_attempts": 8, "http_timeout_seconds": 0.3}})
    return ShopifySourceFactory().create(shop=shop, credentials=ShopCredentials(token=token, token_env=None),
                                         settings=settings, backoff_base=0.01, backoff_cap=0.05, max_wait=0.05)


async def test_slow_replies_and_drops_over_a_socket(served: tuple[ShopSimulator, str], tmp_path: Path) -> None:
    sim, url = served
    expected = snapshot(orders_of(await fetch(make_source(url, tmp_path))))
    assert len(expected) == 120

    sim.faults = FaultConfig(rate_slow=0.25, slow_seconds=2.0, rate_drop=0.15, rate_5xx=0.1, seed=8)
    pages = await fetch(make_source(url, tmp_path))

    assert snapshot(orders_of(pages)) == expected
    assert sim.stats.faults.get("slow", 0) > 0 and sim.stats.faults.get("drop", 0) > 0
    assert sum(p.stats.retries for p in pages) >= sim.stats.errors_injected


async def test_wrong_token_over_a_socket(served: tuple[ShopSimulator, str], tmp_path: Path) -> None:
    _, url = served
    with pytest.raises(SourceAuthError, match="127.0.0.1"):
        await fetch(make_source(url, tmp_path, token="shpat_not_the_right_one"))
