"""The simulated shop's wall clock.

Shopify stamps ``createdAt``/``updatedAt`` with whole seconds, and importers have lost orders to
exactly that (two windows one second apart), so the clock never hands out sub-second times.
It runs on real UTC time by default; tests shift it (``advance``), pin it (``set``) or freeze it,
so that "updated during a run" and "older than 60 days" are reproducible.

The clock only stamps data. Rate-limit refill and bulk-operation progress use a monotonic source
instead (see :mod:`.bucket`), because moving the shop's calendar must not hand out free points.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from functools import lru_cache

__all__ = ["SimClock", "to_epoch", "from_epoch", "format_timestamp"]


class SimClock:
    """UTC wall clock with an adjustable offset, optionally frozen.

    Args:
        now: make the clock read this instant at construction (it keeps ticking unless frozen).
        frozen: stop time; only :meth:`set` and :meth:`advance` move it.
    """

    def __init__(self, now: datetime | None = None, *, frozen: bool = False) -> None:
        self._offset = timedelta(0)
        self._frozen_at: datetime | None = None
        if now is not None:
            self.set(now)
        if frozen:
            self.freeze()

    @staticmethod
    def _real_now() -> datetime:
        return datetime.now(UTC)

    def now(self) -> datetime:
        """Current simulated time: tz-aware UTC, truncated to whole seconds."""
        instant = self._frozen_at if self._frozen_at is not None else self._real_now() + self._offset
        return instant.replace(microsecond=0)

    def epoch(self) -> int:
        """:meth:`now` as integer seconds since the Unix epoch (the store's internal time unit)."""
        return to_epoch(self.now())

    def set(self, instant: datetime) -> None:
        """Make the clock read ``instant`` now (naive datetimes are taken as UTC)."""
        instant = _aware(instant)
        if self._frozen_at is not None:
            self._frozen_at = instant
        else:
            self._offset = instant - self._real_now()

    def advance(self, seconds: float) -> None:
        """Move the clock forward (or back, if negative) by ``seconds``."""
        step = timedelta(seconds=seconds)
        if self._frozen_at is not None:
            self._frozen_at += step
        else:
            self._offset += step

    def freeze(self) -> None:
        """Stop the clock at its current reading."""
        self._frozen_at = self.now()

    def unfreeze(self) -> None:
        """Let the clock tick again from its current reading."""
        if self._frozen_at is not None:
            instant, self._frozen_at = self._frozen_at, None
            self.set(instant)

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def __repr__(self) -> str:
        state = "frozen" if self.frozen else "running"
        return f"SimClock({self.now().isoformat()}, {state})"


def _aware(instant: datetime) -> datetime:
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)


def to_epoch(instant: datetime) -> int:
    """Whole seconds since the epoch (sub-seconds dropped, as Shopify does)."""
    return int(_aware(instant).timestamp() // 1)


def from_epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@lru_cache(maxsize=1 << 16)
def format_timestamp(seconds: int) -> str:
    """Shopify's ``DateTime`` rendering: ``2026-08-03T04:03:50Z`` (cached: pages repeat timestamps)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))
