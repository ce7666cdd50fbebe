"""The plugin listing and ``node(id:)``."""

from __future__ import annotations

import strawberry

from core.plugins import describe_plugins

from .. import ids
from ..context import Info
from ..permissions import IsAuthenticated, require_admin
from .types import Node, Plugin


async def resolve_node(info: Info, gid: str) -> Node | None:
    """Any object by global id; None if it does not exist. BadInput if the id is malformed."""
    from ..jobs.types import Job, JobRun
    from ..orders.types import ItemCancellation, Order, OrderItem
    from ..shops.types import Shop
    from ..tokens.types import ApiToken

    type_name, pk = ids.decode(gid)
    loaders = info.context.loaders
    if type_name == "Order":
        order = await loaders.orders.load(pk)
        return Order.from_record(order) if order else None
    if type_name == "OrderItem":
        item = await loaders.items.load(pk)
        return OrderItem.from_record(item) if item else None
    if type_name == "ItemCancellation":
        cancellation = await info.context.read(lambda tx: tx.get_cancellations([pk]).get(pk))
        return ItemCancellation.from_record(cancellation) if cancellation else None
    if type_name == "Job":
        job = await loaders.jobs.load(pk)
        return Job.from_record(job) if job else None
    if type_name == "JobRun":
        run = await loaders.runs.load(pk)
        return JobRun.from_record(run) if run else None
    if type_name == "Shop":
        shop = await loaders.shops.load(pk)
        return Shop.from_record(shop) if shop else None
    if type_name == "ApiToken":
        require_admin(info.context)
        token = await info.context.read(lambda tx: tx.get_api_token(pk))
        return ApiToken.from_record(token) if token is not None else None
    raise AssertionError(type_name)  # ids.decode admits only the types above


@strawberry.type
class SystemQueries:
    @strawberry.field(permission_classes=[IsAuthenticated], description="Loaded plugins and the hooks they implement.")
    async def plugins(self, info: Info) -> list[Plugin]:
        return [Plugin.from_info(p) for p in describe_plugins(info.context.runtime.pm)]

    @strawberry.field(permission_classes=[IsAuthenticated], description="Any object by its global id.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await resolve_node(info, id)
