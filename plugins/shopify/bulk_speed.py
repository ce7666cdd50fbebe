"""The bulk threshold learned from the shop: its measured bulk speed against what paging achieves.

Shopify publishes no bulk processing rate, and it changed (bulk queries "execute up to 4x faster"
since June 2026), so a threshold fixed per plan goes stale. Each completed bulk query of at least
:data:`MIN_OBJECTS` objects is timed (start to the poll that saw it complete, on the pacer's
clock) and folded into the shop's :class:`BulkSpeed` (objects per second, objects per order), a
moving average kept per shop in ``<data_dir>/shopify-bulk-speed.json`` so it survives restarts
and is shared by the workers of one machine (:class:`SpeedMemory`).

When a window's first page is in, :func:`learned_threshold` compares, for a window of N orders,
what paging would take (round trips hidden by slices, and the bucket: the points beyond what it
holds refill at the restore rate, from that page's actual cost and the observed latency) with
what the bulk query would take at the shop's measured speed (plus its start and polls), and
returns the smallest N where bulk is faster. Without a measurement (a shop never read in bulk,
an unreadable file) the plan's default stays (``source.BULK_THRESHOLDS``): the sane fallback.
An explicit threshold (setting or source option) always wins over both.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from .pacing import ThrottleStatus

log = logging.getLogger("sync_gateway.shopify")

FILE_NAME = "shopify-bulk-speed.json"
MIN_OBJECTS = 1_000
"""Smaller operations finish within the polling pause: their timing says too little."""
WEIGHT = 0.5
"""Weight of a new measurement in the moving average (a faster Shopify shows within two runs)."""
BULK_START_ROUND_TRIPS = 3
"""Start, the first poll and the result's request: round trips a bulk read pays besides its run."""
NEVER = 1_000_000_000
"""The threshold when bulk never beats paging at the measured speeds."""


@dataclass(frozen=True, slots=True)
class BulkSpeed:
    """What the shop's bulk queries achieved."""

    objects_per_second: float
    objects_per_order: float
    samples: int = 1


class SpeedMemory:
    """Per-shop bulk speeds, in memory and in a JSON file (best effort: a file that cannot be
    read or written only costs the measurement)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._speeds: dict[str, BulkSpeed] | None = None

    def get(self, shop: str) -> BulkSpeed | None:
        with self._lock:
            return self._load().get(shop)

    def record(self, shop: str, *, objects: int, orders: int, seconds: float) -> BulkSpeed | None:
        """Fold one completed operation into ``shop``'s speed; None if it was too small to tell."""
        if objects < MIN_OBJECTS or orders <= 0 or seconds <= 0:
            return None
        rate, per_order = objects / seconds, objects / orders
        with self._lock:
            speeds = self._load()
            old = speeds.get(shop)
            if old is not None:
                rate = old.objects_per_second + WEIGHT * (rate - old.objects_per_second)
                per_order = old.objects_per_order + WEIGHT * (per_order - old.objects_per_order)
            speeds[shop] = speed = BulkSpeed(rate, per_order, (old.samples if old else 0) + 1)
            self._save(speeds)
        log.info("Shopify shop %s: bulk queries run at about %.0f objects/s (%d measured)", shop, rate, speed.samples)
        return speed

    def _load(self) -> dict[str, BulkSpeed]:
        if self._speeds is None:
            self._speeds = {}
            if self.path is not None and self.path.exists():
                try:
                    raw = json.loads(self.path.read_text())
                    self._speeds = {shop: BulkSpeed(float(v["objects_per_second"]), float(v["objects_per_order"]),
                                                    int(v.get("samples", 1)))
                                    for shop, v in raw.items()
                                    if float(v["objects_per_second"]) > 0 and float(v["objects_per_order"]) > 0}
                except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
                    log.warning("ignoring the bulk speeds in %s: %s", self.path, exc)
        return self._speeds

    def _save(self, speeds: dict[str, BulkSpeed]) -> None:
        if self.path is None:
            return
        body = {shop: {"objects_per_second": s.objects_per_second, "objects_per_order": s.objects_per_order,
                       "samples": s.samples} for shop, s in speeds.items()}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps(body, indent=1, sort_keys=True))
            os.replace(temporary, self.path)  # readers see the old file or the new one, never half
        except OSError as exc:
            log.warning("could not keep the bulk speeds in %s: %s", self.path, exc)


def learned_threshold(speed: BulkSpeed, *, round_trip: float | None, orders_per_page: int, points_per_page: float,
                      budget: ThrottleStatus | None, chains: int) -> int:
    """The fewest orders a window must hold for a bulk query to read it sooner than paging.

    Paging N orders takes ``max(N / orders_per_page x round_trip / chains, (N x points per order -
    available) / restore_rate)``; a bulk query ``N x objects_per_order / objects_per_second +
    BULK_START_ROUND_TRIPS x round_trip``. Both grow linearly once the bucket is spent, so if bulk
    is not faster per order there, it never wins (:data:`NEVER`).
    """
    rt = round_trip or 0.0
    per_order_points = points_per_page / max(1, orders_per_page)
    available = budget.currently_available if budget is not None else 0.0
    restore = budget.restore_rate if budget is not None else 0.0
    bulk_per_order = speed.objects_per_order / speed.objects_per_second

    def paging(n: float) -> float:
        latency = n / max(1, orders_per_page) * rt / max(1, chains)
        refill = max(0.0, n * per_order_points - available) / restore if restore > 0 else 0.0
        return max(latency, refill)

    def bulk(n: float) -> float:
        return n * bulk_per_order + BULK_START_ROUND_TRIPS * rt

    paging_per_order = max(rt / max(1, orders_per_page) / max(1, chains),
                           per_order_points / restore if restore > 0 else 0.0)
    if bulk_per_order >= paging_per_order:
        return NEVER
    low, high = 1, 1
    while bulk(high) >= paging(high):
        low, high = high, high * 2
        if high > NEVER:
            return NEVER
    while low < high:  # the first n where bulk is sooner
        middle = (low + high) // 2
        if bulk(middle) < paging(middle):
            high = middle
        else:
            low = middle + 1
    return low
