"""Optional arguments default to UNSET (so the SDL reads ``after: String``, not ``= null``)."""

from __future__ import annotations

from typing import TypeVar

from strawberry.types.unset import UnsetType

T = TypeVar("T")


def opt(value: T | None | UnsetType) -> T | None:
    """An optional argument or input field, with "left out" read as null."""
    return None if isinstance(value, UnsetType) else value
