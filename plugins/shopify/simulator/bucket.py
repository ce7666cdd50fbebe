"""Shopify's calculated-query-cost leaky bucket, per app and shop, and the plan presets.

Measured behaviour (research notes C.19-C.22): the bucket holds ``maximumAvailable`` points and
refills continuously at ``restoreRate`` points per second (bucket = 20 x restore rate on the current
plans). A query is admitted only if ``requestedQueryCost`` points are available; Shopify reserves the
requested cost, runs the query, then refunds the difference, so the net charge is
``actualQueryCost``. A query that is not admitted costs nothing.

Shopify may lower a shop's limits for a while; :meth:`LeakyBucket.lower_restore_rate` does that
(the bucket then refills slower and ``throttleStatus.restoreRate`` says so) until it ends by itself.

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
    """Points available now = min(max, level + refill since the last look). Starts full. Thread-safe.

    ``restore_rate`` is the plan's rate; :attr:`current_restore_rate` is the one in force now
    (lower during a reduction).
    """

    def __init__(self, maximum_available: float, restore_rate: float, time_source: TimeSource | None = None) -> None:
        if maximum_available <= 0 or restore_rate <= 0:
            raise ValueError("bucket size and restore rate must be positive")
        self.maximum_available = float(maximum_available)
        self.restore_rate = float(restore_rate)
        self._now = time_source or time.monotonic
        self._level = self.maximum_available
        self._stamp = self._now()
        self._lock = threading.Lock()  # the ASGI app is async, but tests and benchmarks may use threads
        self._reduction: tuple[float, float, float] | None = None  # (factor, from, until) on the time source

    def _refilled(self, start: float, end: float) -> float:
        """Points restored between two instants: the plan's rate, times the factor while reduced."""
        points = max(0.0, end - start) * self.restore_rate
        if self._reduction is not None:
            factor, begins, ends = self._reduction
            overlap = max(0.0, min(end, ends) - max(start, begins))
            points -= overlap * self.restore_rate * (1.0 - factor)
        return points

    def _refill(self) -> None:
        now = self._now()
        self._level = min(self.maximum_available, self._level + self._refilled(self._stamp, now))
        self._stamp = max(self._stamp, now)
        if self._reduction is not None and self._reduction[2] <= now:
            self._reduction = None

    def lower_restore_rate(self, factor: float, seconds: float, *, starting_in: float = 0.0) -> None:
        """Refill at ``factor`` x the plan's rate for ``seconds``, from ``starting_in`` seconds from now."""
        if not 0 < factor <= 1:
            raise ValueError(f"factor must be in (0, 1], got {factor}")
        if seconds <= 0 or starting_in < 0:
            raise ValueError("seconds must be positive and starting_in not negative")
        with self._lock:
            self._refill()  # what accrued before the change accrued at the old rate
            begins = self._now() + starting_in
            self._reduction = (factor, begins, begins + seconds)

    @property
    def current_restore_rate(self) -> float:
        """Points per second restored now (what ``throttleStatus.restoreRate`` reports)."""
        with self._lock:
            return self._rate_at(self._now())

    def _rate_at(self, now: float) -> float:
        if self._reduction is not None:
            factor, begins, ends = self._reduction
            if begins <= now < ends:
                return self.restore_rate * factor
        return self.restore_rate

    def available(self) -> float:
        with self._lock:
            self._refill()
            return self._level

    def status(self) -> ThrottleStatus:
        with self._lock:
            self._refill()
            return ThrottleStatus(self.maximum_available, self._level, self._rate_at(self._now()))

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
        return max(0.0, (points - self.available()) / self.current_restore_rate)
