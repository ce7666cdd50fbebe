"""Field resolvers for the object types an order importer reads.

A resolver is ``fn(source, args, ctx) -> value`` where ``args`` are graphql-core-coerced
arguments and the value is already in its JSON form (ids and ``UnsignedInt64`` as strings,
``DateTime`` as ``2026-08-03T04:03:50Z``, enums as their names). Object-typed fields return a
record, a :class:`~.paging.Page` (connections), an ``(cursor, node)`` tuple (edges) or a plain
dict (small value types such as ``MoneyBag``). :mod:`.registry` maps schema fields to these.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLError

from .clock import format_timestamp
from .context import RequestContext
from .gids import gid
from .paging import InvalidCursor, Page, PageRequest, decode_cursor, encode_cursor, page_list
from .records import (
    RESTOCKED_TYPES,
    FulfillmentLineRecord,
    FulfillmentRecord,
    LineItemRecord,
    OrderRecord,
    RefundLineRecord,
    RefundRecord,
)

__all__ = ["Resolver", "TYPE_RESOLVERS", "page_request", "money_bag", "money_amount"]

Resolver = Callable[[Any, dict[str, Any], RequestContext], Any]
CURRENCY = "USD"


# -- values ------------------------------------------------------------------------------------------


def money_amount(cents: int) -> str:
    """Shopify's ``Decimal`` rendering: ``"12.5"``, ``"10.0"``, ``"12.99"``."""
    whole, frac = divmod(cents, 100)
    return f"{whole}.{frac:02d}".rstrip("0").rstrip(".") + (".0" if frac == 0 else "")


def money(cents: int) -> dict[str, str]:
    return {"amount": money_amount(cents), "currencyCode": CURRENCY}


def money_bag(cents: int) -> dict[str, dict[str, str]]:
    value = money(cents)
    return {"shopMoney": value, "presentmentMoney": value}


def _ts(seconds: int | None) -> str | None:
    return None if seconds is None else format_timestamp(seconds)


# -- paging ------------------------------------------------------------------------------------------


def page_request(args: dict[str, Any], *, timestamp: bool) -> PageRequest:
    """Relay arguments of a connection field; cursors decoded for the connection's sort key."""
    try:
        after = decode_cursor(args["after"], timestamp=timestamp) if args.get("after") else None
        before = decode_cursor(args["before"], timestamp=timestamp) if args.get("before") else None
    except InvalidCursor as exc:
        raise GraphQLError(str(exc), extensions={"code": "BAD_REQUEST"}) from None
    first, last = args.get("first"), args.get("last")
    return PageRequest(first=first, last=last, after=after, before=before, reverse=bool(args.get("reverse")))


def _id_cursor(item: Any) -> str:
    return encode_cursor(item.id, item.id, timestamp=False)


def _id_key(item: Any) -> tuple[int, int]:
    return item.id, item.id


def nested_page(items: list[Any], args: dict[str, Any], ctx: RequestContext) -> Page[Any]:
    """A connection over a list owned by one record (line items, refund lines), in id order."""
    if ctx.unbounded:
        return Page(list(items), False, False, _id_cursor)
    # Every parent row of this field asks with the same arguments in one request: decode once.
    key = (args.get("first"), args.get("last"), args.get("after"), args.get("before"), args.get("reverse"))
    request = ctx.page_requests.get(key)
    if request is None:
        request = page_request(args, timestamp=False)
        if request.first is None and request.last is None:  # the cost check rejects this before execution
            raise GraphQLError("you must provide one of first or last", extensions={"code": "BAD_REQUEST"})
        ctx.page_requests[key] = request
    rows, has_prev, has_next = page_list(items, request, _id_key)
    return Page(rows, has_next, has_prev, _id_cursor)


def _empty_page(source: Any, args: dict[str, Any], ctx: RequestContext) -> Page[Any]:
    return Page([], False, False, _id_cursor)


def _first(items: list[Any], args: dict[str, Any]) -> list[Any]:
    first = args.get("first")
    return items if first is None else items[:first]


def _const(value: Any) -> Resolver:
    return lambda source, args, ctx: value


# -- Order -------------------------------------------------------------------------------------------

ORDER: dict[str, Resolver] = {
    "id": lambda o, a, c: gid("Order", o.id),
    "legacyResourceId": lambda o, a, c: str(o.id),
    "name": lambda o, a, c: o.name,
    "createdAt": lambda o, a, c: format_timestamp(o.created_at),
    "updatedAt": lambda o, a, c: format_timestamp(o.updated_at),
    "processedAt": lambda o, a, c: format_timestamp(o.processed_at),
    "cancelledAt": lambda o, a, c: _ts(o.cancelled_at),
    "cancelReason": lambda o, a, c: o.cancel_reason,
    "closed": lambda o, a, c: o.closed,
    "closedAt": lambda o, a, c: _ts(o.closed_at),
    "edited": lambda o, a, c: o.edited,
    "confirmed": _const(True),
    "test": _const(False),
    "fullyPaid": _const(True),
    "unpaid": _const(False),
    "capturable": _const(False),
    "canMarkAsPaid": _const(False),
    "tags": _const([]),
    "currencyCode": _const(CURRENCY),
    "presentmentCurrencyCode": _const(CURRENCY),
    "displayFulfillmentStatus": lambda o, a, c: o.display_fulfillment_status(),
    "displayFinancialStatus": lambda o, a, c: o.display_financial_status(),
    "requiresShipping": lambda o, a, c: any(line.requires_shipping for line in o.lines),
    "restockable": lambda o, a, c: any(line.current_quantity > 0 for line in o.lines),
    "refundable": lambda o, a, c: o.current_total_cents() > 0,
    "fulfillable": lambda o, a, c: o.cancelled_at is None and any(line.unfulfilled_quantity for line in o.lines),
    "subtotalLineItemsQuantity": lambda o, a, c: sum(line.quantity for line in o.lines),
    "currentSubtotalLineItemsQuantity": lambda o, a, c: sum(line.current_quantity for line in o.lines),
    "totalPriceSet": lambda o, a, c: money_bag(o.total_cents()),
    "subtotalPriceSet": lambda o, a, c: money_bag(o.total_cents()),
    "currentTotalPriceSet": lambda o, a, c: money_bag(o.current_total_cents()),
    "currentSubtotalPriceSet": lambda o, a, c: money_bag(o.current_total_cents()),
    "totalRefundedSet": lambda o, a, c: money_bag(o.refunded_cents()),
    "lineItems": lambda o, a, c: nested_page(o.lines, a, c),
    "refunds": lambda o, a, c: _first(o.refunds, a),
    "fulfillments": lambda o, a, c: _first(o.fulfillments, a),
}

# -- LineItem ----------------------------------------------------------------------------------------


def _line_name(line: LineItemRecord) -> str:
    return line.title if not line.variant_title else f"{line.title} - {line.variant_title}"


LINE_ITEM: dict[str, Resolver] = {
    "id": lambda li, a, c: gid("LineItem", li.id),
    "sku": lambda li, a, c: li.sku,
    "name": lambda li, a, c: _line_name(li),
    "title": lambda li, a, c: li.title,
    "variantTitle": lambda li, a, c: li.variant_title,
    "quantity": lambda li, a, c: li.quantity,
    "currentQuantity": lambda li, a, c: li.current_quantity,
    "refundableQuantity": lambda li, a, c: li.current_quantity,
    "unfulfilledQuantity": lambda li, a, c: li.unfulfilled_quantity,
    "fulfillableQuantity": lambda li, a, c: li.unfulfilled_quantity,
    "nonFulfillableQuantity": lambda li, a, c: li.non_fulfillable_quantity,
    "fulfillmentStatus": lambda li, a, c: li.fulfillment_status,
    "requiresShipping": lambda li, a, c: li.requires_shipping,
    "restockable": lambda li, a, c: li.current_quantity > 0,
    "canRestock": lambda li, a, c: li.current_quantity > 0,
    "merchantEditable": lambda li, a, c: li.unfulfilled_quantity > 0,
    "isGiftCard": _const(False),
    "taxable": _const(True),
    "customAttributes": _const([]),
    "discountAllocations": _const([]),
    "duties": _const([]),
    "taxLines": _const([]),
    "originalUnitPriceSet": lambda li, a, c: money_bag(li.unit_price),
    "discountedUnitPriceSet": lambda li, a, c: money_bag(li.unit_price),
    "discountedUnitPriceAfterAllDiscountsSet": lambda li, a, c: money_bag(li.unit_price),
    "originalTotalSet": lambda li, a, c: money_bag(li.unit_price * li.quantity),
    "discountedTotalSet": lambda li, a, c: money_bag(li.unit_price * li.quantity),
    "totalDiscountSet": lambda li, a, c: money_bag(0),
    "unfulfilledOriginalTotalSet": lambda li, a, c: money_bag(li.unit_price * li.unfulfilled_quantity),
    "unfulfilledDiscountedTotalSet": lambda li, a, c: money_bag(li.unit_price * li.unfulfilled_quantity),
    "priceAfterAllDiscountsBeforeTaxesSet": lambda li, a, c: money_bag(li.unit_price * li.current_quantity),
    "originalUnitPrice": lambda li, a, c: money_amount(li.unit_price),
    "discountedUnitPrice": lambda li, a, c: money_amount(li.unit_price),
    "originalTotal": lambda li, a, c: money_amount(li.unit_price * li.quantity),
    "discountedTotal": lambda li, a, c: money_amount(li.unit_price * li.quantity),
}

# -- Refund / RefundLineItem ---------------------------------------------------------------------------


def _refund_order(r: RefundRecord, a: dict[str, Any], c: RequestContext) -> OrderRecord:
    return c.store.orders[r.order_id]


REFUND: dict[str, Resolver] = {
    "id": lambda r, a, c: gid("Refund", r.id),
    "legacyResourceId": lambda r, a, c: str(r.id),
    "createdAt": lambda r, a, c: format_timestamp(r.created_at),
    "updatedAt": lambda r, a, c: format_timestamp(r.created_at),
    "processedAt": lambda r, a, c: format_timestamp(r.created_at),
    "note": lambda r, a, c: r.note,
    "order": _refund_order,
    "refundLineItems": lambda r, a, c: nested_page(r.lines, a, c),
    "totalRefundedSet": lambda r, a, c: money_bag(sum(rl.line.unit_price * rl.quantity for rl in r.lines)),
    "totalRefunded": lambda r, a, c: money(sum(rl.line.unit_price * rl.quantity for rl in r.lines)),
    # A refund record need not move money (research note A.3): no transactions is a truthful answer.
    "transactions": _empty_page,
    "orderAdjustments": _empty_page,
    "refundShippingLines": _empty_page,
    "duties": _const([]),
}


def _subtotal(rl: RefundLineRecord) -> int:
    return rl.line.unit_price * rl.quantity


REFUND_LINE_ITEM: dict[str, Resolver] = {
    "id": lambda rl, a, c: gid("RefundLineItem", rl.id),
    "quantity": lambda rl, a, c: rl.quantity,
    "restockType": lambda rl, a, c: rl.restock_type,
    "restocked": lambda rl, a, c: rl.restock_type in RESTOCKED_TYPES,
    "lineItem": lambda rl, a, c: rl.line,
    "priceSet": lambda rl, a, c: money_bag(rl.line.unit_price),
    "subtotalSet": lambda rl, a, c: money_bag(_subtotal(rl)),
    "totalTaxSet": lambda rl, a, c: money_bag(0),
    "price": lambda rl, a, c: money_amount(rl.line.unit_price),
    "subtotal": lambda rl, a, c: money_amount(_subtotal(rl)),
    "totalTax": lambda rl, a, c: money_amount(0),
}

# -- Fulfillment / FulfillmentLineItem -------------------------------------------------------------------


def _fulfillment_order(f: FulfillmentRecord, a: dict[str, Any], c: RequestContext) -> OrderRecord:
    return c.store.orders[f.order_id]


FULFILLMENT: dict[str, Resolver] = {
    "id": lambda f, a, c: gid("Fulfillment", f.id),
    "legacyResourceId": lambda f, a, c: str(f.id),
    "name": lambda f, a, c: f.name,
    "createdAt": lambda f, a, c: format_timestamp(f.created_at),
    "updatedAt": lambda f, a, c: format_timestamp(f.created_at),
    "status": _const("SUCCESS"),
    "displayStatus": _const("FULFILLED"),
    "totalQuantity": lambda f, a, c: sum(fl.quantity for fl in f.lines),
    "requiresShipping": lambda f, a, c: any(fl.line.requires_shipping for fl in f.lines),
    "order": _fulfillment_order,
    "fulfillmentLineItems": lambda f, a, c: nested_page(f.lines, a, c),
    "trackingInfo": _const([]),
}


def _fl_total(fl: FulfillmentLineRecord) -> int:
    return fl.line.unit_price * fl.quantity


FULFILLMENT_LINE_ITEM: dict[str, Resolver] = {
    "id": lambda fl, a, c: gid("FulfillmentLineItem", fl.id),
    "quantity": lambda fl, a, c: fl.quantity,
    "lineItem": lambda fl, a, c: fl.line,
    "originalTotalSet": lambda fl, a, c: money_bag(_fl_total(fl)),
    "discountedTotalSet": lambda fl, a, c: money_bag(_fl_total(fl)),
    "originalTotal": lambda fl, a, c: money_amount(_fl_total(fl)),
    "discountedTotal": lambda fl, a, c: money_amount(_fl_total(fl)),
}

# -- connections, edges, page info -------------------------------------------------------------------------

CONNECTION: dict[str, Resolver] = {
    "nodes": lambda p, a, c: p.items,
    "edges": lambda p, a, c: p.edges(),
    "pageInfo": lambda p, a, c: p,
}
EDGE: dict[str, Resolver] = {
    "cursor": lambda e, a, c: e[0],
    "node": lambda e, a, c: e[1],
}
PAGE_INFO: dict[str, Resolver] = {
    "hasNextPage": lambda p, a, c: p.has_next_page,
    "hasPreviousPage": lambda p, a, c: p.has_previous_page,
    "startCursor": lambda p, a, c: p.start_cursor,
    "endCursor": lambda p, a, c: p.end_cursor,
}

TYPE_RESOLVERS: dict[str, dict[str, Resolver]] = {
    "Order": ORDER,
    "LineItem": LINE_ITEM,
    "Refund": REFUND,
    "RefundLineItem": REFUND_LINE_ITEM,
    "Fulfillment": FULFILLMENT,
    "FulfillmentLineItem": FULFILLMENT_LINE_ITEM,
    "PageInfo": PAGE_INFO,
}
