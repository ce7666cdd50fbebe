"""Issuing and revoking API tokens."""

from __future__ import annotations

import strawberry

from core.apitokens import issue_token, revoke_token

from .. import ids
from ..context import Info
from ..errors import BadInput
from ..payloads import UserError, attempt, refuse
from ..permissions import IsAdmin
from .types import ApiToken, TokenRole


@strawberry.type
class CreateApiTokenPayload:
    token: str | None = strawberry.field(description="The token itself: shown this once, stored only as a hash.")
    api_token: ApiToken | None
    user_errors: list[UserError]


@strawberry.type
class ApiTokenPayload:
    api_token: ApiToken | None
    user_errors: list[UserError]


@strawberry.type
class TokenMutations:
    @strawberry.mutation(permission_classes=[IsAdmin], description="Issue a token; the plaintext is in this payload only.")
    async def create_api_token(self, info: Info, name: str, role: TokenRole) -> CreateApiTokenPayload:
        issued, errors = await attempt(info, lambda: issue_token(info.context.runtime, name=name, role=role))
        if issued is None:
            return CreateApiTokenPayload(token=None, api_token=None, user_errors=errors)
        record, plaintext = issued
        return CreateApiTokenPayload(token=plaintext, api_token=ApiToken.from_record(record), user_errors=[])

    @strawberry.mutation(permission_classes=[IsAdmin], description="Revoke a token at once; it stops working.")
    async def revoke_api_token(self, info: Info, id: strawberry.ID) -> ApiTokenPayload:
        try:
            pk = ids.decode_as(id, "ApiToken")
        except BadInput as exc:
            return ApiTokenPayload(api_token=None, user_errors=refuse(exc))
        context = info.context  # revoking through this process evicts the token from its cache at once
        record, errors = await attempt(info, lambda: revoke_token(context.runtime, pk, cache=context.token_cache),
                                       not_found=["id"])
        return ApiTokenPayload(api_token=ApiToken.from_record(record) if record is not None else None,
                               user_errors=errors)
