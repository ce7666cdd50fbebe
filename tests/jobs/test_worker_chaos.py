"""SIGKILL of the work-horse, of the worker, and of both, at a seeded random moment of a multi-page
window: the killed run ends within a minute of its lease, and the store ends equal to the shop's
ground truth. Three seeded trials here; `bench/worker_chaos.py` runs twenty or more of each."""

from __future__ import annotations

import pytest

from ..chaos import KINDS, run_trial

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


@pytest.mark.parametrize("kind", KINDS)
def test_a_kill_at_a_random_moment_loses_nothing_and_leaves_no_ghost(kind: str, redis_url: str,
                                                                     postgres_url: str) -> None:
    result = run_trial(kind, seed=KINDS.index(kind) + 1, redis_url=redis_url)
    assert result.exact, result
    assert result.past_lease_seconds < 60, result
    if result.killed_run_ended_as in ("FAILED", "LOST"):  # never a silent failure
        assert result.killed_run_error, result
