"""Shopify global ids (``gid://shopify/Order/…``) and the simulator's id sequences.

Real Shopify ids exceed 2**53 (``gid://shopify/Order/820982911946154508``), and a float64 round
trip silently corrupts them. Every sequence here starts above 2**53 so that a client which parses
ids as JSON numbers or floats breaks in tests, not in production. Each resource type has its own
sequence, increasing with creation, as on Shopify (so ``sortKey: ID`` is creation order).
"""

from __future__ import annotations

import re

__all__ = ["ID_BASES", "IdSequence", "gid", "parse_gid", "InvalidGid"]

_2_POW_53 = 2**53  # 9_007_199_254_740_992

ID_BASES: dict[str, int] = {
    "Order": 10_000_000_000_000_000,
    "LineItem": 20_000_000_000_000_000,
    "Refund": 30_000_000_000_000_000,
    "RefundLineItem": 40_000_000_000_000_000,
    "Fulfillment": 50_000_000_000_000_000,
    "FulfillmentLineItem": 60_000_000_000_000_000,
    "BulkOperation": 70_000_000_000_000_000,
}
assert all(base > _2_POW_53 for base in ID_BASES.values())

_GID = re.compile(r"^gid://shopify/([A-Za-z]+)/(\d+)(?:\?.*)?$")


class InvalidGid(ValueError):
    """The string is not a ``gid://shopify/<Type>/<number>`` id."""


def gid(type_name: str, number: int) -> str:
    return f"gid://shopify/{type_name}/{number}"


def parse_gid(value: str, expected_type: str | None = None) -> tuple[str, int]:
    """Split a gid into ``(type_name, number)``.

    Raises:
        InvalidGid: malformed, or not of ``expected_type`` when one is given.
    """
    match = _GID.match(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidGid(f"Invalid global id '{value}'")
    type_name, number = match.group(1), int(match.group(2))
    if expected_type is not None and type_name != expected_type:
        raise InvalidGid(f"expected a gid://shopify/{expected_type}/… id, got '{value}'")
    return type_name, number


class IdSequence:
    """Increasing ids for one resource type, starting just above its base."""

    __slots__ = ("last",)

    def __init__(self, type_name: str) -> None:
        self.last = ID_BASES[type_name]

    def next(self) -> int:
        self.last += 1
        return self.last

    def take(self, count: int) -> range:
        """``count`` consecutive ids (line items of one order are contiguous; see the store)."""
        first = self.last + 1
        self.last += count
        return range(first, first + count)
