"""How long a simulated shop takes to answer: a round trip per call plus server time per object.

Real Shopify is not in the same process: a call costs a network round trip (tens to hundreds of
milliseconds from most hosting) and Shopify's own work grows with what the query returns. The
simulator answers at once unless a shop is given a :class:`Latency`; tests keep the default
(none), benchmarks set it (``--latency-ms``). Only the reply waits: the request is checked,
charged and executed at once, so a slow reply never blocks the shop's other callers, as on
Shopify, where calls of one app run side by side within the bucket.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Latency", "count_objects"]


@dataclass(frozen=True, slots=True)
class Latency:
    """``round_trip`` seconds for every GraphQL call and bulk download, plus ``per_object``
    seconds for every object (every JSON object in the reply's ``data``) a call returns."""

    round_trip: float = 0.0
    per_object: float = 0.0

    def __post_init__(self) -> None:
        if self.round_trip < 0 or self.per_object < 0:
            raise ValueError(f"latency must not be negative: {self}")

    @property
    def none(self) -> bool:
        return self.round_trip == 0 and self.per_object == 0

    def seconds(self, data: Any) -> float:
        """The wait of a reply whose ``data`` is given (counted only when ``per_object`` is set)."""
        if self.per_object == 0:
            return self.round_trip
        return self.round_trip + self.per_object * count_objects(data)


def count_objects(data: Any) -> int:
    """JSON objects in ``data`` (orders, line items, refunds, the connection wrappers too)."""
    count = 0
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, Mapping):
            count += 1
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return count
