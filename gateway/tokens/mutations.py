"""Issuing and revoking API tokens."""

from __future__ import annotations

import strawberry

from core import ApiToken as CoreApiToken
from core.apitokens import issue_token
from core.runtime import Runtime

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


def _revoke(runtime: Runtime, token_pk: int) -> CoreApiToken:
    with runtime.storage.transaction() as tx:
        return tx.revoke_api_token(token_pk, now=runtime.now())  # NotFoundError for an unknown id


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
        record, errors = await attempt(info, _revoke, info.context.runtime, pk, not_found=["id"])
        return ApiTokenPayload(api_token=ApiToken.from_record(record) if record is not None else None,
                               user_errors=errors)
