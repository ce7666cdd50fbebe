"""Fixtures of the Shopify source tests: settings, a shop record, a fake clock, scripted replies."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from core import Settings, Shop

from .fakes import FakeTime

TOKEN = "shpat_sim_0123456789abcdef"
"""The access token of every test shop; tests assert it never leaks."""


@pytest.fixture
def source_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", plugins={"shopify": {"max_attempts": 4, "http_timeout_seconds": 2.0}},
                    page_size=100)


@pytest.fixture
def shop() -> Shop:
    return Shop(
        id=1,
        name="demo",
        source="shopify",
        url="demo-shop.myshopify.com",
        api_version="2026-07",
        has_token=True,
        token_env=None,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()
