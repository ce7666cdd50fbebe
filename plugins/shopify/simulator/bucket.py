"""Shopify's calculated-query-cost leaky bucket, per app and shop, and the plan presets.

Measured behaviour (research notes C.19-C.22): the bucket holds ``maximumAvailable`` points and
refills continuously at ``restoreRate`` points per second (bucket = 20 x restore rate on the current
plans). A query is admitted only if ``requestedQueryCost`` points are available; Shopify reserves the
requested cost, runs the query, then refunds the difference, so the net charge is
``actualQueryCost``. A query that is not admitted costs nothing.

Refill runs on a monotonic clock, not on the shop's :class:`~.clock.SimClock`: moving the shop's
calendar must not refill the bucket. Tests inject their own time source to step time without sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Plan", "PLANS", "LeakyBucket", "ThrottleStatus"]

TimeSource = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Plan:
    """A Shopify plan's GraphQL Admin API limits."""

    name: str
    display_name: str
    maximum_available: float
    restore_rate: float
    shopify_plus: bool = False


PLANS: dict[str, Plan] = {
    "standard": Plan("standard", "Basic", 2000.0, 100.0),
    "advanced": Plan("advanced", "Advanced", 4000.0, 200.0),
    "plus": Plan("plus", "Shopify Plus", 20000.0, 1000.0, shopify_plus=True),
    "enterprise": Plan("enterprise", "Commerce Components", 40000.0, 2000.0, shopify_plus=True),
}
"""Current per-plan limits: points (``maximumAvailable``) and points per second (``restoreRate``)."""


@dataclass(frozen=True, slots=True)
class ThrottleStatus:
    maximum_available: float
    currently_available: float
    restore_rate: float

    def as_json(self) -> dict[str, float | int]:
        # Shopify renders maximumAvailable/restoreRate as floats (2000.0) and currentlyAvailable
        # as a whole number of points (1990), as in recorded responses.
        return {
            "maximumAvailable": float(self.maximum_available),
            "currentlyAvailable": int(self.currently_available),
            "restoreRate": float(self.restore_rate),
        }


class LeakyBucket:
    """Points available now = min(max, level + elapsed x rate). Starts full. Thread-safe."""

    def __init__(self, maximum_available: float, restore_rate: float, time_source: TimeSource | None = None) -> None:
        if maximum_available <= 0 or restore_rate <= 0:
            raise ValueError("bucket size and restore rate must be positive")
        self.maximum_available = float(maximum_available)
        self.restore_rate = float(restore_rate)
        self._now = time_source or time.monotonic
        self._level = self.maximum_available
        self._stamp = self._now()
        self._lock = threading.Lock()  # the ASGI app is async, but tests and benchmarks may use threads

    def _refill(self) -> None:
        now = self._now()
        elapsed = max(0.0, now - self._stamp)
        self._level = min(self.maximum_available, self._level + elapsed * self.restore_rate)
        self._stamp = now

    def available(self) -> float:
        with self._lock:
            self._refill()
            return self._level

    def status(self) -> ThrottleStatus:
        return ThrottleStatus(self.maximum_available, self.available(), self.restore_rate)

    def try_reserve(self, points: float) -> bool:
        """Take ``points`` if that many are available; otherwise take nothing and return False."""
        with self._lock:
            self._refill()
            if self._level < points:
                return False
            self._level -= points
            return True

    def refund(self, points: float) -> None:
        """Give back part of a reservation (requested minus actual cost)."""
        with self._lock:
            self._refill()
            self._level = min(self.maximum_available, self._level + points)

    def drain(self) -> None:
        """Empty the bucket (used to simulate a throttle storm)."""
        with self._lock:
            self._refill()
            self._level = 0.0

    def seconds_until(self, points: float) -> float:
        """How long until ``points`` are available (what a well-behaved client should wait)."""
        return max(0.0, (points - self.available()) / self.restore_rate)
