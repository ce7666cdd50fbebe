"""Throttling is weather: a storm slows a run down and fails none; a failed run's history
counts what really happened."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from core import JobRunStatus
from plugins.shopify.simulator import FaultConfig

from ..harness import T0, Harness, fast_settings


@pytest.fixture
def shop(tmp_path: Path, database_url: str) -> Iterator[Harness]:
    # A fast-refilling bucket keeps each wait short in real time; the rules are the plan's.
    harness = Harness.build(fast_settings(tmp_path, database_url, page_size=10, shopify={"max_attempts": 3}),
                            bucket=(1000.0, 20000.0))
    harness.sim.seed(60, seed=3, start=T0 - timedelta(hours=6), end=T0 - timedelta(minutes=5))
    yield harness
    harness.close()


def test_a_storm_of_twenty_throttled_replies_fails_no_run(shop: Harness) -> None:
    # Requests 3 to 22 are all THROTTLED: with three attempts a request, the old client gave up.
    shop.sim.faults = FaultConfig(throttle_storm=(3, 23))
    run = shop.run()
    assert run.status is JobRunStatus.SUCCEEDED, run.error
    assert run.throttled == 20
    assert shop.stored_canceled() == shop.expected_canceled()


def test_a_run_that_gives_up_counts_its_retries_and_throttled_replies(shop: Harness) -> None:
    # Two pages go through, then every request fails: the third page is tried three times.
    shop.sim.faults = FaultConfig(throttle_storm=(1, 3), fail_after_requests=4)
    run = shop.run()
    assert run.status is JobRunStatus.FAILED
    assert "gave up after 3 attempts" in (run.error or "")
    assert run.throttled == 2
    assert run.retries == 2 + 2  # two throttled replies retried, and two failed attempts
