"""Adding, changing and removing shops. Access tokens go in and never come back out."""

from __future__ import annotations

import re
from typing import Any

import strawberry

from core import NewShop, NotFoundError, ValidationError
from core import Shop as CoreShop
from core.jobcontrol import add_shop
from core.runtime import Runtime

from .. import ids
from ..context import Info
from ..errors import BadInput
from ..inputs import opt
from ..payloads import UserError, attempt, refuse
from ..permissions import IsAdmin
from .types import AddShopInput, Shop, UpdateShopInput

API_VERSION = re.compile(r"^(\d{4}-\d{2}|unstable)$")
INPUT_PATHS = {
    "name": ["input", "name"],
    "url": ["input", "url"],
    "source": ["input", "source"],
    "apiVersion": ["input", "apiVersion"],
    "accessToken": ["input", "accessToken"],
    "accessTokenEnv": ["input", "accessTokenEnv"],
}


@strawberry.type
class ShopPayload:
    shop: Shop | None
    user_errors: list[UserError]


@strawberry.type
class RemoveShopPayload:
    deleted_id: strawberry.ID | None
    user_errors: list[UserError]


def _check_api_version(value: str) -> None:
    if not API_VERSION.match(value):
        raise ValidationError(f"apiVersion must look like 2026-07 (or be 'unstable'), got {value!r}",
                              field="apiVersion")


def _blank(value: str | None) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _token(value: str | None) -> str | None:
    """A write-only access token; refused (never quoted) if it holds spaces or control characters."""
    token = _blank(value)
    if token is not None and (not token.isprintable() or any(c.isspace() for c in token)):
        raise ValidationError("accessToken must not contain spaces or control characters", field="accessToken")
    return token


def _add(runtime: Runtime, given: AddShopInput) -> CoreShop:
    api_version = (opt(given.api_version) or runtime.settings.shopify_api_version).strip()
    _check_api_version(api_version)
    new = NewShop(name=given.name.strip(), url=given.url.strip(), source=given.source, api_version=api_version,
                  token=_token(opt(given.access_token)), token_env=_blank(opt(given.access_token_env)))
    shop, _jobs = add_shop(runtime, new)
    return shop


def _update(runtime: Runtime, shop_pk: int, given: UpdateShopInput) -> CoreShop:
    changes: dict[str, Any] = {}
    if given.url is not strawberry.UNSET:
        if not _blank(given.url):
            raise ValidationError("url cannot be empty", field="url")
        changes["url"] = given.url.strip()  # type: ignore[union-attr]
    if given.api_version is not strawberry.UNSET:
        if given.api_version is None:
            raise ValidationError("apiVersion cannot be null", field="apiVersion")
        _check_api_version(given.api_version.strip())
        changes["api_version"] = given.api_version.strip()
    if given.access_token is not strawberry.UNSET:
        changes["token"] = _token(given.access_token)
    if given.access_token_env is not strawberry.UNSET:
        changes["token_env"] = _blank(given.access_token_env)
    with runtime.storage.transaction() as tx:
        if tx.get_shop(shop_pk) is None:
            raise NotFoundError(f"shop {ids.encode('Shop', shop_pk)} does not exist")
        if not changes:
            return tx.get_shop(shop_pk)  # type: ignore[return-value]
        return tx.update_shop(shop_pk, **changes)


def _remove(runtime: Runtime, shop_pk: int) -> int:
    with runtime.storage.transaction() as tx:
        if tx.get_shop(shop_pk) is None:
            raise NotFoundError(f"shop {ids.encode('Shop', shop_pk)} does not exist")
        tx.remove_shop(shop_pk)
    return shop_pk


@strawberry.type
class ShopMutations:
    @strawberry.mutation(permission_classes=[IsAdmin],
                         description="Add a shop and its jobs (one per job kind, on the default schedule).")
    async def add_shop(self, info: Info, input: AddShopInput) -> ShopPayload:
        runtime = info.context.runtime
        shop, errors = await attempt(info, _add, runtime, input, paths=INPUT_PATHS)
        return ShopPayload(shop=Shop.from_record(shop) if shop is not None else None, user_errors=errors)

    @strawberry.mutation(permission_classes=[IsAdmin])
    async def update_shop(self, info: Info, id: strawberry.ID, input: UpdateShopInput) -> ShopPayload:
        try:
            pk = ids.decode_as(id, "Shop")
        except BadInput as exc:
            return ShopPayload(shop=None, user_errors=refuse(exc))
        shop, errors = await attempt(info, _update, info.context.runtime, pk, input,
                                     paths=INPUT_PATHS, not_found=["id"])
        return ShopPayload(shop=Shop.from_record(shop) if shop is not None else None, user_errors=errors)

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
