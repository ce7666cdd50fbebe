"""Adding, changing and removing shops. Access tokens go in and never come back out.

Validation lives in :mod:`core.validation` (through :mod:`core.jobcontrol`), which the CLI
shares; this module maps its field names onto the input's.
"""

from __future__ import annotations

from typing import Any

import strawberry

from core import NewShop
from core import Shop as CoreShop
from core import jobcontrol, validation
from core.connections import check_shop_connection_by_id
from core.runtime import Runtime

from .. import ids
from ..context import Info
from ..errors import BadInput
from ..inputs import opt
from ..payloads import UserError, attempt, refuse
from ..permissions import IsAdmin
from .types import AddShopInput, Shop, ShopConnection, UpdateShopInput

INPUT_PATHS = {
    "name": ["input", "name"],
    "url": ["input", "url"],
    "source": ["input", "source"],
    "api_version": ["input", "apiVersion"],
    "token": ["input", "accessToken"],
    "token_env": ["input", "accessTokenEnv"],
}
"""core.jobcontrol's ValidationError.field -> the input argument at fault."""

UPDATABLE = {"url": "url", "api_version": "api_version", "access_token": "token", "access_token_env": "token_env"}
"""UpdateShopInput attribute -> core.jobcontrol.update_shop keyword."""


@strawberry.type
class ShopPayload:
    shop: Shop | None
    user_errors: list[UserError]
    warnings: list[str] = strawberry.field(
        default_factory=list,
        description="Accepted, but worth a look: an API version past Shopify's support window.")


def _payload(runtime: Runtime, shop: CoreShop | None, errors: list[UserError]) -> ShopPayload:
    if shop is None:
        return ShopPayload(shop=None, user_errors=errors)
    warning = validation.api_version_warning(shop.api_version, today=validation.release_calendar_day(runtime.now()))
    return ShopPayload(shop=Shop.from_record(shop), user_errors=errors, warnings=[warning] if warning else [])


@strawberry.type
class RemoveShopPayload:
    deleted_id: strawberry.ID | None
    user_errors: list[UserError]


@strawberry.type
class ShopConnectionPayload:
    connection: ShopConnection | None = strawberry.field(
        description="The check's outcome; a failed connection is reported here, not as a user error.")
    user_errors: list[UserError]


def _add(runtime: Runtime, given: AddShopInput) -> CoreShop:
    new = NewShop(name=given.name, url=given.url, source=given.source,
                  api_version=opt(given.api_version),
                  token=opt(given.access_token), token_env=opt(given.access_token_env))
    shop, _jobs = jobcontrol.add_shop(runtime, new)
    return shop


def _update(runtime: Runtime, shop_pk: int, given: UpdateShopInput) -> CoreShop:
    changes: dict[str, Any] = {keyword: getattr(given, attribute) for attribute, keyword in UPDATABLE.items()
                               if getattr(given, attribute) is not strawberry.UNSET}
    return jobcontrol.update_shop(runtime, shop_pk, **changes)


def _remove(runtime: Runtime, shop_pk: int) -> int:
    jobcontrol.remove_shop(runtime, shop_pk)
    return shop_pk


@strawberry.type
class ShopMutations:
    @strawberry.mutation(permission_classes=[IsAdmin],
                         description="Add a shop and its jobs (one per job kind, on the default schedule).")
    async def add_shop(self, info: Info, input: AddShopInput) -> ShopPayload:
        runtime = info.context.runtime
        shop, errors = await attempt(info, _add, runtime, input, paths=INPUT_PATHS)
        return _payload(runtime, shop, errors)

    @strawberry.mutation(permission_classes=[IsAdmin])
    async def update_shop(self, info: Info, id: strawberry.ID, input: UpdateShopInput) -> ShopPayload:
        try:
            pk = ids.decode_as(id, "Shop")
        except BadInput as exc:
            return ShopPayload(shop=None, user_errors=refuse(exc))
        shop, errors = await attempt(info, _update, info.context.runtime, pk, input,
                                     paths=INPUT_PATHS, not_found=["id"])
        return _payload(info.context.runtime, shop, errors)

    @strawberry.mutation(permission_classes=[IsAdmin],
                         description="Delete a shop with its jobs, runs, orders and cancellation history.")
    async def remove_shop(self, info: Info, id: strawberry.ID) -> RemoveShopPayload:
        try:
            pk = ids.decode_as(id, "Shop")
        except BadInput as exc:
            return RemoveShopPayload(deleted_id=None, user_errors=refuse(exc))
        removed, errors = await attempt(info, _remove, info.context.runtime, pk, not_found=["id"])
        deleted = strawberry.ID(ids.encode("Shop", removed)) if removed is not None else None
        return RemoveShopPayload(deleted_id=deleted, user_errors=errors)

    @strawberry.mutation(permission_classes=[IsAdmin],
                         description="Ask the shop, with its stored credentials, who it is and what the token may "
                         "read: scopes and plan, or the exact reason it failed. Changes nothing; spends a few "
                         "of the shop's API points.")
    async def check_shop_connection(self, info: Info, id: strawberry.ID) -> ShopConnectionPayload:
        try:
            pk = ids.decode_as(id, "Shop")
        except BadInput as exc:
            return ShopConnectionPayload(connection=None, user_errors=refuse(exc))
        check, errors = await attempt(info, check_shop_connection_by_id, info.context.runtime, pk, not_found=["id"])
        return ShopConnectionPayload(connection=ShopConnection.from_record(check) if check is not None else None,
                                     user_errors=errors)
