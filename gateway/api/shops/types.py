"""Shops we sync. The access token is write-only: no type has a field that could return it."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from core import ConnectionCheck
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


@strawberry.enum(description="Why a connection check failed.")
class ConnectionProblem(enum.Enum):
    NO_TOKEN = "NO_TOKEN"
    BAD_TOKEN = "BAD_TOKEN"
    MISSING_SCOPE = "MISSING_SCOPE"
    UNKNOWN_SHOP = "UNKNOWN_SHOP"
    API_VERSION = "API_VERSION"
    BAD_URL = "BAD_URL"
    UNREACHABLE = "UNREACHABLE"
    TIMEOUT = "TIMEOUT"
    THROTTLED = "THROTTLED"
    UPSTREAM_ERROR = "UPSTREAM_ERROR"
    BAD_REPLY = "BAD_REPLY"
    UNSUPPORTED = "UNSUPPORTED"


@strawberry.type(description="What a connection check learned: the shop, its plan and the token's scopes, "
                             "or the exact reason it failed.")
class ShopConnection:
    ok: bool = strawberry.field(description="The gateway can read this shop's orders.")
    problem: ConnectionProblem | None = strawberry.field(description="Why not, when ok is false.")
    message: str = strawberry.field(description="One line for a person: the summary, or what went wrong.")
    shop_name: str | None = strawberry.field(description="The shop's own name, as the upstream knows it.")
    domain: str | None
    api_version: str | None
    scopes: list[str] = strawberry.field(description="Access scopes the token holds.")
    missing_scopes: list[str] = strawberry.field(description="Scopes the gateway needs that the token lacks.")
    optional_missing_scopes: list[str] = strawberry.field(
        description="Scopes that would let it read more (read_all_orders: orders older than 60 days).")
    plan: str | None = strawberry.field(description="The shop's plan, e.g. Basic or Shopify Plus.")
    plan_premium: bool | None = strawberry.field(description="Shopify Plus (or above).")
    api_points: float | None = strawberry.field(description="The API budget's size in cost points.")
    api_restore_rate: float | None = strawberry.field(description="Cost points restored per second.")
    checked_at: datetime
    seconds: float = strawberry.field(description="How long the check took.")

    @classmethod
    def from_record(cls, c: ConnectionCheck) -> ShopConnection:
        assert c.checked_at is not None and c.seconds is not None
        return cls(ok=c.ok, problem=ConnectionProblem(c.problem.value) if c.problem else None, message=c.message,
                   shop_name=c.shop_name, domain=c.domain, api_version=c.api_version, scopes=list(c.scopes),
                   missing_scopes=list(c.missing_scopes), optional_missing_scopes=list(c.optional_missing_scopes),
                   plan=c.plan, plan_premium=c.plan_premium, api_points=c.api_points,
                   api_restore_rate=c.api_restore_rate, checked_at=c.checked_at, seconds=c.seconds)
