"""Reading arguments: optional ones default to UNSET (so the SDL reads ``after: String``, not
``= null``); free text a query looks up by goes through :mod:`core.validation` first."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from strawberry.types.unset import UnsetType

from core import Limits, ValidationError
from core.validation import text

from .errors import BadInput

T = TypeVar("T")


def opt(value: T | None | UnsetType) -> T | None:
    """An optional argument or input field, with "left out" read as null."""
    return None if isinstance(value, UnsetType) else value


def checked(value: str | None, field: str, check: Callable[[str], str]) -> str | None:
    """``check(value)`` (a :mod:`core.validation` check); its ValidationError becomes a
    BAD_USER_INPUT error naming ``field``, the argument's path."""
    if value is None:
        return None
    try:
        return check(value)
    except ValidationError as exc:
        raise BadInput(exc.message, field=field) from None


def check_shop_name(value: str) -> str:
    """A shop name to look up: none is longer or holds a control character (PostgreSQL would
    refuse a NUL with an internal error)."""
    return text(value, field="shop", limit=Limits.SHOP_NAME, what="a shop name")


def check_platform_id(value: str) -> str:
    return text(value, field="shopifyId", limit=Limits.ORDER_SOURCE_ID, what="a platform id")
