"""Orders, their items and the append-only history of canceled units."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from core import Cancellation, Limits, OrderQuery, StoredItem, StoredOrder
from core import OrderItemStatus as CoreOrderItemStatus
from core import OrderStatus as CoreOrderStatus

from .. import ids
from ..context import Info
from ..execution import prefetched
from ..pagination import PageInfo
from ..system.types import Node

OrderStatus = strawberry.enum(CoreOrderStatus, name="OrderStatus",
                              description="CANCELED once the platform reports the whole order canceled.")
OrderItemStatus = strawberry.enum(CoreOrderItemStatus, name="OrderItemStatus",
                                  description="OPEN: no unit canceled; CANCELED: every unit canceled.")


@strawberry.enum(description="How `orders` sorts; ties are broken by id.")
class OrderSortKey(enum.Enum):
    UPDATED_AT = "UPDATED_AT"
    CREATED_AT = "CREATED_AT"
    ID = "ID"
    NAME = "NAME"


@strawberry.input(description="Every condition given must hold.")
class OrderFilter:
    shop: str | None = strawberry.field(default=strawberry.UNSET, description="Shop name.")
    status: OrderStatus | None = strawberry.UNSET
    has_canceled_items: bool | None = strawberry.field(default=strawberry.UNSET, description="At least one canceled unit.")
    updated_after: datetime | None = strawberry.UNSET
    updated_before: datetime | None = strawberry.UNSET
    canceled_after: datetime | None = strawberry.field(default=strawberry.UNSET, description="A unit was canceled after this.")
    canceled_before: datetime | None = strawberry.UNSET
    search: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Orders whose name contains this text, or with an item whose SKU starts with it; case does not "
                    f"matter and % and _ match themselves. At most {Limits.SEARCH} characters, no control characters "
                    "(else a BAD_USER_INPUT error). The customer's email is not stored, so it is not searched.")


@strawberry.type(description="An order as last synced from its shop.")
class Order(Node):
    id: strawberry.ID
    shop: str = strawberry.field(description="The shop's name.")
    shopify_id: strawberry.ID = strawberry.field(description="The platform's id (a Shopify GID).")
    name: str
    status: OrderStatus
    created_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None
    cancel_reason: str | None
    synced_at: datetime = strawberry.field(description="When the gateway last stored this order.")
    pk: strawberry.Private[int]
    prefetched_items: strawberry.Private[list[OrderItem] | None] = None
    """Set by a listing that read the page's items with the page (see gateway.api.selection)."""
    prefetched_canceled_quantity: strawberry.Private[int | None] = None

    @classmethod
    def from_record(cls, r: StoredOrder, items: list[OrderItem] | None = None) -> Order:
        return cls(id=strawberry.ID(ids.encode("Order", r.id)), shop=r.shop, shopify_id=strawberry.ID(r.source_id),
                   name=r.name, status=r.status, created_at=r.created_at, updated_at=r.updated_at,
                   cancelled_at=r.cancelled_at, cancel_reason=r.cancel_reason, synced_at=r.synced_at, pk=r.id,
                   prefetched_items=items,
                   prefetched_canceled_quantity=sum(i.canceled_quantity for i in items) if items is not None else None)

    # The executor reads a prefetched value straight from its attribute (gateway.api.execution);
    # these resolvers run only when nothing was prefetched. They return an awaitable instead of
    # being coroutines, so a prefetched value never costs a coroutine.

    @strawberry.field(metadata=prefetched("prefetched_items"))
    def items(self, info: Info) -> list[OrderItem]:
        if self.prefetched_items is not None:
            return self.prefetched_items
        return self._load_items(info)  # type: ignore[return-value]

    @strawberry.field(description="Canceled units over all items.", metadata=prefetched("prefetched_canceled_quantity"))
    def canceled_quantity(self, info: Info) -> int:
        if self.prefetched_canceled_quantity is not None:
            return self.prefetched_canceled_quantity
        return self._load_canceled_quantity(info)  # type: ignore[return-value]

    async def _load_items(self, info: Info) -> list[OrderItem]:
        return [OrderItem.from_record(r) for r in await info.context.loaders.items_by_order.load(self.pk)]

    async def _load_canceled_quantity(self, info: Info) -> int:
        return sum(r.canceled_quantity for r in await info.context.loaders.items_by_order.load(self.pk))


@strawberry.type(description="One line of an order.")
class OrderItem(Node):
    id: strawberry.ID
    shopify_id: strawberry.ID
    sku: str | None
    title: str
    quantity: int
    fulfilled_quantity: int
    canceled_quantity: int
    status: OrderItemStatus
    pk: strawberry.Private[int]
    order_pk: strawberry.Private[int]
    prefetched_cancellations: strawberry.Private[list[ItemCancellation] | None] = None

    @classmethod
    def from_record(cls, r: StoredItem, cancellations: list[ItemCancellation] | None = None) -> OrderItem:
        return cls(id=strawberry.ID(ids.encode("OrderItem", r.id)), shopify_id=strawberry.ID(r.source_id), sku=r.sku,
                   title=r.title, quantity=r.quantity, fulfilled_quantity=r.fulfilled_quantity,
                   canceled_quantity=r.canceled_quantity, status=r.status, pk=r.id, order_pk=r.order_id,
                   prefetched_cancellations=cancellations)

    @strawberry.field(description="Each time more units were found canceled, oldest first.",
                      metadata=prefetched("prefetched_cancellations"))
    def cancellations(self, info: Info) -> list[ItemCancellation]:
        if self.prefetched_cancellations is not None:
            return self.prefetched_cancellations
        return self._load_cancellations(info)  # type: ignore[return-value]

    async def _load_cancellations(self, info: Info) -> list[ItemCancellation]:
        return [ItemCancellation.from_record(c) for c in await info.context.loaders.cancellations_by_item.load(self.pk)]

    @strawberry.field
    async def order(self, info: Info) -> Order:
        return Order.from_record(await _must(info.context.loaders.orders.load(self.order_pk), "order", self.order_pk))


@strawberry.type(description="Units of an item newly found canceled (append-only history).")
class ItemCancellation(Node):
    id: strawberry.ID
    quantity: int = strawberry.field(description="Units added by this record (not the cumulative total).")
    canceled_at: datetime = strawberry.field(description="When the platform canceled them.")
    recorded_at: datetime = strawberry.field(description="When the gateway recorded it.")
    run_id: strawberry.ID | None = strawberry.field(description="The JobRun that found it; null for webhooks.")
    reason: str | None
    evidence: JSON | None = strawberry.field(description="The quantities and refund lines the verdict rests on.")
    pk: strawberry.Private[int]
    item_pk: strawberry.Private[int]
    order_pk: strawberry.Private[int]
    shop_pk: strawberry.Private[int]

    @classmethod
    def from_record(cls, c: Cancellation) -> ItemCancellation:
        run_id = strawberry.ID(ids.encode("JobRun", c.run_id)) if c.run_id is not None else None
        return cls(id=strawberry.ID(ids.encode("ItemCancellation", c.id)), quantity=c.quantity,
                   canceled_at=c.canceled_at, recorded_at=c.recorded_at, run_id=run_id, reason=c.reason,
                   evidence=c.evidence, pk=c.id, item_pk=c.item_id, order_pk=c.order_id, shop_pk=c.shop_id)

    @strawberry.field
    async def item(self, info: Info) -> OrderItem:
        return OrderItem.from_record(await _must(info.context.loaders.items.load(self.item_pk), "item", self.item_pk))

    @strawberry.field
    async def order(self, info: Info) -> Order:
        return Order.from_record(await _must(info.context.loaders.orders.load(self.order_pk), "order", self.order_pk))

    @strawberry.field(description="The shop's name.")
    async def shop(self, info: Info) -> str:
        shop = await _must(info.context.loaders.shops.load(self.shop_pk), "shop", self.shop_pk)
        return shop.name


@strawberry.type
class OrderEdge:
    cursor: str
    node: Order


@strawberry.type
class ItemCancellationEdge:
    cursor: str
    node: ItemCancellation


@strawberry.type
class ItemCancellationConnection:
    edges: list[ItemCancellationEdge]
    nodes: list[ItemCancellation]
    page_info: PageInfo


async def _must(awaitable, what: str, pk: int):  # type: ignore[no-untyped-def]
    """A parent's reference must resolve; a dangling one is a storage bug, reported as unexpected."""
    record = await awaitable
    if record is None:
        raise LookupError(f"{what} {pk} referenced but missing")
    return record


@strawberry.type
class OrderConnection:
    edges: list[OrderEdge]
    nodes: list[Order]
    page_info: PageInfo
    query: strawberry.Private[OrderQuery | None]
    counted: strawberry.Private[int | None] = None
    """Counted with the page, in the same read, when the document selects totalCount."""

    @strawberry.field(description="Orders matching the filter, over all pages.", metadata=prefetched("counted"))
    def total_count(self, info: Info) -> int:
        if self.counted is not None:
            return self.counted
        return self._count(info)  # type: ignore[return-value]

    async def _count(self, info: Info) -> int:
        query = self.query
        if query is None:
            return 0
        return await info.context.read(lambda tx: tx.count_orders(query))
