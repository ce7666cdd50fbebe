"""Listing API tokens (admins only)."""

from __future__ import annotations

import strawberry

from ..context import Info
from ..permissions import IsAdmin, IsAuthenticated
from .types import ApiToken


@strawberry.type
class TokenQueries:
    @strawberry.field(permission_classes=[IsAdmin], description="Every API token, revoked ones included.")
    async def api_tokens(self, info: Info) -> list[ApiToken]:
        return [ApiToken.from_record(t) for t in await info.context.read(lambda tx: tx.list_api_tokens())]

    @strawberry.field(permission_classes=[IsAuthenticated], description="The token this request is made with.")
    def current_token(self, info: Info) -> ApiToken:
        assert info.context.token is not None
        return ApiToken.from_record(info.context.token)
