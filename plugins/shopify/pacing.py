"""Cost-aware pacing: wait just long enough for Shopify's leaky bucket to hold the next query.

Shopify's GraphQL Admin API limits each app on each shop with a bucket of points
(``maximumAvailable``) that refills at ``restoreRate`` points per second; a query starts only
when the bucket holds its *requested* cost, and is then charged its *actual* cost. Every reply
reports the bucket (``extensions.cost.throttleStatus``). The pacer remembers the latest report and
when it arrived, estimates the bucket now (refill × elapsed, capped at the maximum), and before a
query sleeps ``max(0, requested - available) / restoreRate``: rarely throttled, never idle longer
than the refill needs. Limits are per app and shop, so there is one pacer per shop.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio

Clock = Callable[[], float]
"""Monotonic seconds."""

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ThrottleStatus:
    """Shopify's ``extensions.cost.throttleStatus``."""

    maximum_available: float
    currently_available: float
    restore_rate: float

    @classmethod
    def from_extension(cls, raw: object) -> ThrottleStatus | None:
        """Read the reply's ``throttleStatus`` object; None when absent or ill-typed."""
        if not isinstance(raw, dict):
            return None
        try:
            values = [raw["maximumAvailable"], raw["currentlyAvailable"], raw["restoreRate"]]
        except KeyError:
            return None
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            return None
        maximum, current, rate = (float(v) for v in values)
        if maximum <= 0 or rate <= 0:
            return None
        return cls(maximum, max(0.0, min(current, maximum)), rate)

    def seconds_until(self, requested: float) -> float:
        """How long the bucket needs to refill from ``currently_available`` to ``requested``."""
        return max(0.0, requested - self.currently_available) / self.restore_rate


class CostPacer:
    """Tracks one shop's bucket and delays queries that would not fit.

    Args:
        clock: monotonic seconds (injected by tests, e.g. a simulator's clock).
        sleep: awaitable sleep (injected by tests to advance a simulated clock).
    """

    def __init__(self, *, clock: Clock = time.monotonic, sleep: Sleep = anyio.sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._status: ThrottleStatus | None = None
        self._seen_at = 0.0
        self._reserved = 0.0
        self.waited = 0.0
        """Total seconds this pacer has slept (for stats and tests)."""

    @property
    def status(self) -> ThrottleStatus | None:
        """The latest reported bucket, as reported."""
        return self._status

    def available(self) -> float | None:
        """Estimated points in the bucket now; None before the first reply."""
        status = self._status
        if status is None:
            return None
        elapsed = max(0.0, self._clock() - self._seen_at)
        refilled = status.currently_available + status.restore_rate * elapsed
        return min(status.maximum_available, refilled) - self._reserved

    def delay_for(self, requested: float) -> float:
        """Seconds to wait before a query requesting ``requested`` points can start."""
        status = self._status
        available = self.available()
        if status is None or available is None:
            return 0.0
        # A query bigger than the whole bucket can never start; waiting for a full bucket is
        # the best the pacer can do (the caller shrinks the query on THROTTLED).
        needed = min(requested, status.maximum_available)
        if available >= needed:
            return 0.0
        # One point of slack: Shopify reports whole points (rounded down) and refill arithmetic
        # in floating point could otherwise leave the bucket a hair short, and throttled.
        return (min(needed + 1, status.maximum_available) - available) / status.restore_rate

    async def acquire(self, requested: float) -> float:
        """Sleep until ``requested`` points are likely available, then reserve them.

        The reservation keeps concurrent queries of the same shop from each counting the same
        points; the next :meth:`observe` replaces every estimate with Shopify's own figures.
        Returns the seconds slept.
        """
        delay = self.delay_for(requested)
        if delay > 0:
            await self._sleep(delay)
            self.waited += delay
        if self._status is not None:
            self._reserved += requested
        return delay

    def observe(self, status: ThrottleStatus | None) -> None:
        """Record the bucket a reply reported (a success or a THROTTLED reply)."""
        if status is None:
            return
        self._status = status
        self._seen_at = self._clock()
        self._reserved = 0.0

    def release(self, requested: float) -> None:
        """Drop a reservation whose query never reached Shopify's bucket (a failed request)."""
        self._reserved = max(0.0, self._reserved - requested)
