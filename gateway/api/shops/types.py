"""Shops we sync. The access token is write-only: no type has a field that could return it."""

from __future__ import annotations

from datetime import datetime

import strawberry

from core import Shop as CoreShop

from .. import ids
from ..context import Info
from ..jobs.types import Job
from ..system.types import Node


@strawberry.type(description="A shop the gateway syncs.")
class Shop(Node):
    id: strawberry.ID
    name: str
    source: str = strawberry.field(description="The source plugin that reads it, e.g. shopify.")
    url: str
    api_version: str
    has_token: bool = strawberry.field(description="An access token is stored (it is never shown).")
    token_env: str | None = strawberry.field(description="Environment variable the token is read from instead.")
    created_at: datetime
    pk: strawberry.Private[int]

    @classmethod
    def from_record(cls, s: CoreShop) -> Shop:
        return cls(id=strawberry.ID(ids.encode("Shop", s.id)), name=s.name, source=s.source, url=s.url,
                   api_version=s.api_version, has_token=s.has_token, token_env=s.token_env,
                   created_at=s.created_at, pk=s.id)

    @strawberry.field
    async def jobs(self, info: Info) -> list[Job]:
        return [Job.from_record(j) for j in await info.context.loaders.jobs_by_shop.load(self.pk)]


@strawberry.input
class AddShopInput:
    name: str = strawberry.field(description="Lower-case letters, digits, '-' or '_'.")
    url: str = strawberry.field(description="https://<shop>.myshopify.com")
    api_version: str | None = strawberry.field(default=strawberry.UNSET, description="Default: the gateway's setting.")
    access_token: str | None = strawberry.field(default=strawberry.UNSET, description="Write-only; never returned.")
    access_token_env: str | None = strawberry.field(default=strawberry.UNSET,
                                                    description="Read the token from this environment variable.")
    source: str = strawberry.field(default="shopify", description="The source plugin.")


@strawberry.input(description="Fields left out stay as they are; accessToken: null removes the stored token.")
class UpdateShopInput:
    url: str | None = strawberry.UNSET
    api_version: str | None = strawberry.UNSET
    access_token: str | None = strawberry.field(default=strawberry.UNSET, description="Write-only; never returned.")
    access_token_env: str | None = strawberry.UNSET
