"""Deterministic, realistic order histories for demos, tests and benchmarks.

Each order is created at a random time in ``[start, end]`` and then lives a short story before
``end``: most are fulfilled (some partly), some lose units to a partial cancel (a CANCEL or
NO_RESTOCK refund of unfulfilled units) or an order edit, some are returned after shipping, a few
are canceled as a whole. Every event goes through the store's story operations, so the ground
truth and every quantity field stay consistent, and each order's ``updatedAt`` is its last event.

The same ``seed`` gives the same shop, byte for byte (ids included, on a fresh simulator).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from .clock import to_epoch
from .gids import gid
from .records import OrderRecord
from .store import CATALOGUE, LineSpec

if TYPE_CHECKING:
    from .store import ShopStore

__all__ = ["seed_orders"]

T = TypeVar("T")

_SKUS = [sku for sku in CATALOGUE if sku != "GIFT-WRAP"]
_QUANTITIES = (1, 1, 1, 1, 2, 2, 2, 3, 4, 6)
_REASONS = ("CUSTOMER", "CUSTOMER", "INVENTORY", "DECLINED", "FRAUD", "OTHER", "STAFF")


def _int(rng: random.Random, lo: int, hi: int) -> int:
    """Uniform integer in ``[lo, hi]``; ``random()`` based, several times faster than ``randint``
    (seeding 200,000 orders draws a few million of them)."""
    return lo + int(rng.random() * (hi - lo + 1))


def _pick(rng: random.Random, items: Sequence[T]) -> T:
    return items[int(rng.random() * len(items))]


def _lines(rng: random.Random, max_lines: int, large: bool) -> list[LineSpec]:
    if large:  # a wholesale order: more lines than one page of a nested connection (250)
        count = _int(rng, 251, 320)
        return [(f"BULK-{j + 1}", _pick(rng, _QUANTITIES)) for j in range(count)]
    count = _int(rng, 1, max(1, max_lines))
    if count > len(_SKUS):
        return [(f"SKU-{j + 1}", _pick(rng, _QUANTITIES)) for j in range(count)]
    pool = list(_SKUS)
    for j in range(count):  # partial Fisher-Yates: ``count`` distinct SKUs
        k = j + int(rng.random() * (len(pool) - j))
        pool[j], pool[k] = pool[k], pool[j]
    return [(sku, _pick(rng, _QUANTITIES)) for sku in pool[:count]]


def _story(store: ShopStore, order: OrderRecord, rng: random.Random, end: int, rates: dict[str, float]) -> None:
    """Apply this order's events in time order, each at a random time before ``end``."""
    times = sorted([_int(rng, order.created_at, end) for _ in range(4)])
    clock = iter(times)

    def open_line() -> tuple[int, int] | None:
        candidates = [
            (i, line.unfulfilled_quantity) for i, line in enumerate(order.lines) if line.unfulfilled_quantity > 0
        ]
        return _pick(rng, candidates) if candidates else None

    roll = rng.random()
    if roll < rates["full_cancel"]:
        if rng.random() < 0.3 and (pick := open_line()):  # a partial shipment went out first
            line = order.lines[pick[0]]
            store.fulfil(order, {line: _int(rng, 1, pick[1])}, next(clock))
        store.cancel_order(order, _pick(rng, _REASONS), refund=rng.random() < 0.9, at=next(clock))
        return
    if rng.random() < rates["partial_cancel"] and (pick := open_line()):
        line = order.lines[pick[0]]
        restock = "CANCEL" if rng.random() < 0.8 else "NO_RESTOCK"
        store.cancel_units(order, line, _int(rng, 1, pick[1]), restock, next(clock))
    if rng.random() < rates["edit"] and (pick := open_line()):
        store.edit_remove_units(order, order.lines[pick[0]], _int(rng, 1, pick[1]), next(clock))
    shipping = rng.random()
    if shipping < 0.7:
        store.fulfil(order, None, next(clock))
    elif shipping < 0.8 and (pick := open_line()):
        line = order.lines[pick[0]]
        store.fulfil(order, {line: _int(rng, 1, pick[1])}, next(clock))
    if rng.random() < rates["return"]:
        returnable = [line for line in order.lines if line.returnable_quantity > 0]
        if returnable:
            line = _pick(rng, returnable)
            restock = "RETURN" if rng.random() < 0.85 else "NO_RESTOCK"
            store.return_units(order, line, _int(rng, 1, line.returnable_quantity), restock, next(clock, end))


def seed_orders(
    store: ShopStore,
    now: datetime,
    n_orders: int,
    *,
    seed: int = 0,
    start: datetime | None = None,
    end: datetime | None = None,
    partial_cancel_rate: float = 0.2,
    full_cancel_rate: float = 0.03,
    return_rate: float = 0.05,
    edit_rate: float = 0.03,
    max_lines: int = 4,
    large_order_rate: float = 0.0,
) -> list[str]:
    """Create ``n_orders`` orders with stories between ``start`` and ``end`` (default: the 7 days
    up to ``now``). Returns their gids in creation order."""
    end_s = to_epoch(end or now)
    start_s = to_epoch(start) if start is not None else end_s - int(timedelta(days=7).total_seconds())
    if start_s > end_s:
        raise ValueError("seed: start is after end")
    rng = random.Random(seed)
    rates = {
        "partial_cancel": partial_cancel_rate,
        "full_cancel": full_cancel_rate,
        "return": return_rate,
        "edit": edit_rate,
    }
    with store.batch(pause_gc=n_orders >= 20_000):
        created = sorted([_int(rng, start_s, end_s) for _ in range(n_orders)])
        specs = [(_lines(rng, max_lines, rng.random() < large_order_rate), at, True) for at in created]
        orders = store.create_orders_bulk(specs)
        for order in orders:
            _story(store, order, rng, end_s, rates)
    return [gid("Order", order.id) for order in orders]
