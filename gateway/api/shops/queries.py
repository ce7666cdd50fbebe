"""Reading shops."""

from __future__ import annotations

import strawberry

from ..context import Info
from ..permissions import IsAuthenticated
from .types import Shop


@strawberry.type
class ShopQueries:
    @strawberry.field(permission_classes=[IsAuthenticated])
    async def shops(self, info: Info) -> list[Shop]:
        return [Shop.from_record(s) for s in await info.context.read(lambda tx: tx.list_shops())]
