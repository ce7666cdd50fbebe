"""Many workers are one budget: the shop's ledger in Redis behaves as the in-process one does."""

from __future__ import annotations

import random
import uuid

import pytest
import redis

from plugins.shopify.pacing import CostPacer, LocalLedger, RedisLedger, ThrottleStatus

pytestmark = pytest.mark.redis

# A refill so slow that the milliseconds between two calls do not move the figures.
SLOW = dict(maximum_available=2000.0, restore_rate=0.001)


@pytest.fixture
def ledger_key(redis_url: str):
    key = f"test-budget:{uuid.uuid4().hex}"
    yield key
    redis.Redis.from_url(redis_url).delete(key)


def redis_ledger(redis_url: str, key: str) -> RedisLedger:
    return RedisLedger(redis.Redis.from_url(redis_url), key, fallback=LocalLedger())


def test_the_lua_rule_is_the_python_rule(redis_url: str, ledger_key: str) -> None:
    """The same operations, drawn at random, leave both ledgers with the same bucket."""
    rng = random.Random(7)
    shared, local = redis_ledger(redis_url, ledger_key), LocalLedger()
    first = ThrottleStatus(currently_available=1500.0, **SLOW)
    shared.observe(first)
    local.observe(first)
    for _ in range(200):
        op = rng.choice(["reserve", "reserve-backfill", "refund", "observe"])
        if op.startswith("reserve"):
            requested, headroom = rng.uniform(1, 2500), 0.5 if op == "reserve-backfill" else 0.0
            a, b = shared.reserve(requested, headroom=headroom), local.reserve(requested, headroom=headroom)
            assert a.reserved == pytest.approx(b.reserved)
            assert a.wait == pytest.approx(b.wait, rel=1e-3, abs=1e-3)
        elif op == "refund":
            points = rng.uniform(-200, 800)
            shared.refund(points)
            local.refund(points)
        else:
            seen = ThrottleStatus(currently_available=rng.uniform(0, 2000), **SLOW)
            refund = rng.uniform(-50, 300)
            shared.observe(seen, refund=refund)
            local.observe(seen, refund=refund)
        assert shared.estimate().currently_available == pytest.approx(local.estimate().currently_available, abs=0.01)


async def test_two_processes_share_one_bucket(redis_url: str, ledger_key: str) -> None:
    # Two ledgers on two connections stand for two worker processes on two machines.
    worker_a, worker_b = redis_ledger(redis_url, ledger_key), redis_ledger(redis_url, ledger_key)
    sleeps: list[float] = []

    async def no_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    a = CostPacer(ledger=worker_a, sleep=no_sleep)
    b = CostPacer(ledger=worker_b, sleep=no_sleep)
    a.observe(ThrottleStatus(maximum_available=2000.0, currently_available=1000.0, restore_rate=100.0))
    assert await a.acquire(800) == 0
    waited = await b.acquire(800)
    assert waited == pytest.approx(6.01, abs=0.05)  # b waits for a's 800, as in one process
    assert worker_b.estimate().currently_available == pytest.approx(-600, abs=5)


async def test_a_redis_that_does_not_answer_paces_in_process(caplog: pytest.LogCaptureFixture) -> None:
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, socket_timeout=0.2)
    ledger = RedisLedger(dead, "unreachable", fallback=LocalLedger())
    pacer = CostPacer(ledger=ledger)
    pacer.observe(ThrottleStatus(maximum_available=2000.0, currently_available=1000.0, restore_rate=100.0))
    assert await pacer.acquire(400) == 0
    assert pacer.available() == pytest.approx(600, abs=1)
    assert "pacing in-process" in caplog.text
