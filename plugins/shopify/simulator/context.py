"""Per-request state handed to every resolver."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphql.execution.values import VariableValues

if TYPE_CHECKING:
    from .shop import ShopSimulator
    from .store import ShopStore

__all__ = ["RequestContext", "SIXTY_DAYS"]

SIXTY_DAYS = 60 * 86400


@dataclass(slots=True)
class RequestContext:
    """What a resolver may read: the shop, the request's API version, time and variables.

    ``now`` is taken once per request so that every ``now``-relative rule in one response (the
    60-day window, ``updated_at:<now``) agrees with itself.
    """

    shop: ShopSimulator
    store: ShopStore
    version: str
    now: int
    variables: VariableValues | None = None
    arg_cache: dict[Any, dict[str, Any]] = field(default_factory=dict)
    page_requests: dict[Any, Any] = field(default_factory=dict)  # Relay arguments -> decoded PageRequest
    search: list[dict[str, Any]] = field(default_factory=list)
    field_key: str = ""  # response key of the field being resolved (for extensions.search paths)
    unbounded: bool = False  # bulk operations read whole connections, without first/last

    @property
    def visible_from(self) -> int | None:
        """Oldest ``createdAt`` this app may read: without ``read_all_orders``, the last 60 days."""
        if "read_all_orders" in self.shop.scopes:
            return None
        return self.now - SIXTY_DAYS
