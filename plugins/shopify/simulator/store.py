"""The simulated shop's state and the "story" operations that change it.

Every operation does what the Shopify admin (or the matching Admin API mutation) does to the data
an order importer reads, bumps the order's ``updatedAt`` and re-positions it in the keyset
indexes (see :mod:`.paging`). Ground truth is recorded by the operations themselves, independently
of the quantity fields, so that tests can check an importer against what really happened rather
than against the simulator's own rendering of it.

Time arguments are epoch seconds (``at``); the public :class:`~.shop.ShopSimulator` passes the clock.
"""

from __future__ import annotations

import gc
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from .gids import IdSequence, gid, parse_gid
from .paging import Key, PageRequest, SortedIndex, page_keys
from .records import (
    FulfillmentLineRecord,
    FulfillmentRecord,
    LineItemRecord,
    OrderRecord,
    RefundLineRecord,
    RefundRecord,
)

__all__ = ["GroundTruth", "ShopStore", "LineSpec", "CATALOGUE", "SORT_FIELDS"]

LineSpec = tuple[str, int]
"""``(sku, quantity)`` as given to ``create_order``."""

CATALOGUE: dict[str, tuple[str, str | None, int]] = {
    # sku: (product title, variant title, unit price in cents)
    "SKU-1": ("Canvas Tote", "Natural", 2400),
    "SKU-2": ("Enamel Mug", "White", 1650),
    "SKU-3": ("Wool Beanie", "Charcoal", 2900),
    "SKU-4": ("Linen Apron", None, 3800),
    "SKU-5": ("Notebook Set", "A5", 1250),
    "SKU-6": ("Ceramic Planter", "Small", 3100),
    "SKU-7": ("Cotton Socks", "M", 900),
    "SKU-8": ("Leather Wallet", "Brown", 5600),
    "SKU-9": ("Scented Candle", "Cedar", 2200),
    "SKU-10": ("Water Bottle", "750 ml", 2750),
    "GIFT-WRAP": ("Gift Wrapping", None, 500),
}

SORT_FIELDS = {"UPDATED_AT": "updated_at", "CREATED_AT": "created_at", "PROCESSED_AT": "created_at", "ID": "id"}
"""Supported ``OrderSortKeys`` and the order attribute (and index) each sorts by."""


@dataclass(slots=True)
class GroundTruth:
    """What the story operations did, recorded as they did it (a snapshot; gids as keys).

    Attributes:
        orders: every order gid.
        canceled_units: line gid -> units removed *before fulfilment* (partial cancels refunded as
            CANCEL or NO_RESTOCK, order-edit removals) plus every unit still unfulfilled when its
            order was canceled as a whole, refunded or not.
        canceled_orders: gids of orders canceled as a whole (``cancelledAt`` set).
        open_units_at_cancel: line gid -> units still unfulfilled when its order was canceled
            (whether or not the cancel refunded them).
        returned_units: line gid -> fulfilled units refunded afterwards (returns; not cancellations).
    """

    orders: set[str] = field(default_factory=set)
    canceled_units: dict[str, int] = field(default_factory=dict)
    canceled_orders: set[str] = field(default_factory=set)
    open_units_at_cancel: dict[str, int] = field(default_factory=dict)
    returned_units: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class _TruthLog:
    """The store's running record behind :class:`GroundTruth`, keyed by numeric ids (cheap to keep
    for 200k orders; gids are rendered only when a snapshot is asked for)."""

    orders: list[int] = field(default_factory=list)
    canceled_units: dict[int, int] = field(default_factory=dict)
    canceled_orders: list[int] = field(default_factory=list)
    open_units_at_cancel: dict[int, int] = field(default_factory=dict)
    returned_units: dict[int, int] = field(default_factory=dict)

    @staticmethod
    def add(bucket: dict[int, int], line_id: int, qty: int) -> None:
        bucket[line_id] = bucket.get(line_id, 0) + qty

    def snapshot(self) -> GroundTruth:
        def lines(bucket: dict[int, int]) -> dict[str, int]:
            return {gid("LineItem", line_id): qty for line_id, qty in bucket.items()}

        return GroundTruth(
            {gid("Order", order_id) for order_id in self.orders},
            lines(self.canceled_units),
            {gid("Order", order_id) for order_id in self.canceled_orders},
            lines(self.open_units_at_cancel),
            lines(self.returned_units),
        )


class ShopStore:
    """Orders plus sorted indexes for keyset paging; every mutation goes through a method here."""

    def __init__(self) -> None:
        self.orders: dict[int, OrderRecord] = {}
        self.by_updated = SortedIndex()
        self.by_created = SortedIndex()  # also PROCESSED_AT: simulated orders are processed when created
        self.by_id = SortedIndex()
        self._seq = {
            name: IdSequence(name)
            for name in ("Order", "LineItem", "Refund", "RefundLineItem", "Fulfillment", "FulfillmentLineItem")
        }
        self._next_number = 1001
        # Line items of one order get consecutive ids, so "which order owns line N" is a bisect over
        # each order's first line id instead of a dict entry per line (200k orders ~ 500k lines).
        self._line_starts: list[int] = []
        self._line_owners: list[int] = []
        self.refund_owner: dict[int, int] = {}
        self.fulfillment_owner: dict[int, int] = {}
        self.truth = _TruthLog()
        self._deferred_reindex = False

    @contextmanager
    def batch(self, *, pause_gc: bool = False) -> Iterator[None]:
        """Apply many changes, then rebuild the UPDATED_AT index once (seeding): moving each order
        in a 200k-entry sorted list as it changes would cost a memmove per change.

        With ``pause_gc`` the cyclic garbage collector is paused meanwhile: millions of new records
        would trigger full collections that rescan every record made so far (seeding 200k orders
        turns quadratic). Small batches leave it alone: the closing full collection costs more
        than it saves when the process holds big structures such as the built schemas."""
        self._deferred_reindex = True
        collecting = pause_gc and gc.isenabled()
        if collecting:
            gc.disable()
        try:
            yield
        finally:
            self._deferred_reindex = False
            self.by_updated.keys = sorted([(o.updated_at, o.id) for o in self.orders.values()])
            if collecting:
                # Everything made meanwhile sits in the youngest generation; one full collection
                # moves it to the oldest at once, instead of letting it be rescanned generation by generation.
                gc.collect()
                gc.enable()

    # -- lookups ---------------------------------------------------------------------------------

    def order(self, order_gid: str) -> OrderRecord:
        _, number = parse_gid(order_gid, "Order")
        try:
            return self.orders[number]
        except KeyError:
            raise KeyError(f"no such order: {order_gid}") from None

    def order_of_line(self, line_id: int) -> OrderRecord | None:
        i = bisect_right(self._line_starts, line_id) - 1
        if i < 0:
            return None
        order = self.orders.get(self._line_owners[i])
        if order is None or not any(line.id == line_id for line in order.lines):
            return None
        return order

    def line(self, order: OrderRecord, line_gid: str) -> LineItemRecord:
        _, number = parse_gid(line_gid, "LineItem")
        try:
            return order.line(number)
        except KeyError:
            raise KeyError(f"{line_gid} is not a line item of {gid('Order', order.id)}") from None

    # -- creation --------------------------------------------------------------------------------

    def _build_order(
        self, lines: Sequence[LineSpec], at: int, requires_shipping: bool, number: int | None
    ) -> OrderRecord:
        if not lines:
            raise ValueError("an order needs at least one line")
        order_id = self._seq["Order"].next()
        line_ids = self._seq["LineItem"].take(len(lines))
        records = []
        for line_id, (sku, qty) in zip(line_ids, lines, strict=True):
            if qty < 1:
                raise ValueError(f"quantity must be positive, got {qty} for {sku}")
            title, variant, price = CATALOGUE.get(sku, (f"Product {sku}", None, 1000))
            records.append(LineItemRecord(line_id, order_id, sku, title, variant, price, qty, requires_shipping))
        if number is None:
            number = self._next_number
        self._next_number = max(self._next_number, number) + 1
        self._line_starts.append(line_ids[0])
        self._line_owners.append(order_id)
        return OrderRecord(order_id, number, at, at, records)

    def create_order(
        self, lines: Sequence[LineSpec], at: int, *, requires_shipping: bool = True, number: int | None = None
    ) -> OrderRecord:
        order = self._build_order(lines, at, requires_shipping, number)
        self.orders[order.id] = order
        self.by_updated.add(order.updated_at, order.id)
        self.by_created.add(order.created_at, order.id)
        self.by_id.add(order.id, order.id)
        self.truth.orders.append(order.id)
        return order

    def create_orders_bulk(self, specs: Iterable[tuple[Sequence[LineSpec], int, bool]]) -> list[OrderRecord]:
        """Create many orders, then sort the indexes once (seeding 200k orders one insort at a time
        would be quadratic). ``specs`` are ``(lines, created_at, requires_shipping)``."""
        created = [self._build_order(lines, at, shipping, None) for lines, at, shipping in specs]
        for order in created:
            self.orders[order.id] = order
            self.truth.orders.append(order.id)
        self.by_created.bulk_add([(o.created_at, o.id) for o in created])
        self.by_id.bulk_add([(o.id, o.id) for o in created])
        self.by_updated.bulk_add([(o.updated_at, o.id) for o in created])
        return created

    # -- change bookkeeping ----------------------------------------------------------------------

    def _touched(self, order: OrderRecord, at: int, *, reindex: bool = True) -> None:
        """Every change ends here: ``updatedAt`` moves and the order moves in the UPDATED_AT index."""
        old = order.updated_at
        order.updated_at = max(at, order.updated_at)  # a story told out of order never moves time back
        if order.closed_at is None and order.should_close():
            order.closed_at = order.updated_at
        if reindex and not self._deferred_reindex:
            self.by_updated.move(old, order.updated_at, order.id)

    def touch(self, order: OrderRecord, at: int) -> None:
        self._touched(order, at)

    def _refund(
        self, order: OrderRecord, at: int, note: str | None, parts: list[tuple[LineItemRecord, int, str]]
    ) -> RefundRecord:
        refund = RefundRecord(self._seq["Refund"].next(), order.id, at, note, [])
        for line, qty, restock_type in parts:
            refund.lines.append(RefundLineRecord(self._seq["RefundLineItem"].next(), line, qty, restock_type))
        order.refunds.append(refund)
        self.refund_owner[refund.id] = order.id
        return refund

    # -- story operations ------------------------------------------------------------------------

    def fulfil(
        self, order: OrderRecord, quantities: dict[LineItemRecord, int] | None, at: int
    ) -> FulfillmentRecord | None:
        """Ship units; ``None`` ships every unit still unfulfilled. Returns None if nothing was left."""
        if order.cancelled_at is not None:
            raise ValueError(f"order {gid('Order', order.id)} is canceled; nothing can be fulfilled")
        if quantities is None:
            quantities = {line: line.unfulfilled_quantity for line in order.lines if line.unfulfilled_quantity}
        for line, qty in quantities.items():
            _check_qty(qty, line.unfulfilled_quantity, "unfulfilled", line)
        if not quantities:
            return None
        fulfillment = FulfillmentRecord(
            self._seq["Fulfillment"].next(), order.id, f"{order.name}-F{len(order.fulfillments) + 1}", at, []
        )
        for line, qty in sorted(quantities.items(), key=lambda item: item[0].id):
            line.fulfilled += qty
            fulfillment.lines.append(FulfillmentLineRecord(self._seq["FulfillmentLineItem"].next(), line, qty))
        order.fulfillments.append(fulfillment)
        self.fulfillment_owner[fulfillment.id] = order.id
        self._touched(order, at)
        return fulfillment

    def cancel_units(
        self, order: OrderRecord, line: LineItemRecord, qty: int, restock_type: str, at: int, note: str | None = None
    ) -> RefundRecord:
        """Refund unfulfilled units (a partial cancel): a refund line with CANCEL or NO_RESTOCK."""
        if restock_type not in ("CANCEL", "NO_RESTOCK"):
            raise ValueError(f"unfulfilled units are refunded with CANCEL or NO_RESTOCK, not {restock_type}")
        _check_qty(qty, line.unfulfilled_quantity, "unfulfilled", line)
        line.refunded_unfulfilled += qty
        refund = self._refund(order, at, note, [(line, qty, restock_type)])
        if order.cancelled_at is None:  # on a canceled order these units were counted by the cancel
            self.truth.add(self.truth.canceled_units, line.id, qty)
        self._touched(order, at)
        return refund

    def return_units(
        self, order: OrderRecord, line: LineItemRecord, qty: int, restock_type: str, at: int, note: str | None = None
    ) -> RefundRecord:
        """Refund fulfilled units (a return): a refund line with RETURN or NO_RESTOCK."""
        if restock_type not in ("RETURN", "NO_RESTOCK"):
            raise ValueError(f"fulfilled units are refunded with RETURN or NO_RESTOCK, not {restock_type}")
        _check_qty(qty, line.returnable_quantity, "fulfilled and not yet returned", line)
        line.returned += qty
        refund = self._refund(order, at, note, [(line, qty, restock_type)])
        self.truth.add(self.truth.returned_units, line.id, qty)
        self._touched(order, at)
        return refund

    def edit_remove_units(self, order: OrderRecord, line: LineItemRecord, qty: int, at: int) -> None:
        """Order edit (``orderEditSetQuantity`` + commit): lowers an unfulfilled quantity, no refund line."""
        if order.cancelled_at is not None:
            raise ValueError(f"order {gid('Order', order.id)} is canceled and cannot be edited")
        _check_qty(qty, line.unfulfilled_quantity, "unfulfilled", line)
        line.edited_out += qty
        order.edited = True
        self.truth.add(self.truth.canceled_units, line.id, qty)
        self._touched(order, at)

    def cancel_order(self, order: OrderRecord, reason: str, refund: bool, at: int) -> RefundRecord | None:
        """Whole-order cancel (``orderCancel``): sets cancelledAt/cancelReason and closes the order;
        with ``refund`` every unfulfilled unit is refunded as a CANCEL refund line ("Order canceled")."""
        if order.cancelled_at is not None:
            raise ValueError(f"order {gid('Order', order.id)} is already canceled")
        open_lines = [(line, line.unfulfilled_quantity) for line in order.lines if line.unfulfilled_quantity > 0]
        for line, qty in open_lines:
            self.truth.add(self.truth.open_units_at_cancel, line.id, qty)
            # every unit never fulfilled is canceled with its order, refunded or not
            self.truth.add(self.truth.canceled_units, line.id, qty)
        record = None
        if refund and open_lines:
            for line, qty in open_lines:
                line.refunded_unfulfilled += qty
            record = self._refund(order, at, "Order canceled", [(line, qty, "CANCEL") for line, qty in open_lines])
        order.cancelled_at = at
        order.cancel_reason = reason
        self.truth.canceled_orders.append(order.id)
        self._touched(order, at)
        return record

    # -- queries ---------------------------------------------------------------------------------

    def index_for(self, sort_key: str) -> SortedIndex:
        attr = SORT_FIELDS[sort_key]
        return {"updated_at": self.by_updated, "created_at": self.by_created, "id": self.by_id}[attr]

    def page_orders(
        self,
        sort_key: str,
        request: PageRequest,
        accept: Callable[[OrderRecord], bool],
        bounds: tuple[int | None, int | None] = (None, None),
    ) -> tuple[list[OrderRecord], bool, bool]:
        """A keyset page of orders sorted by ``sort_key`` among those ``accept`` lets through.

        ``bounds`` is a range on the sort attribute that the index can apply (inclusive start,
        exclusive stop); the predicate is still applied to every row.
        """
        orders = self.orders

        def row(order_id: int) -> OrderRecord | None:
            order = orders[order_id]
            return order if accept(order) else None

        lo = None if bounds[0] is None else (bounds[0], 0)
        hi = None if bounds[1] is None else (bounds[1], 0)
        return page_keys(self.index_for(sort_key).keys, request, row, lo=lo, hi=hi)

    def scan_orders(
        self,
        sort_key: str,
        accept: Callable[[OrderRecord], bool],
        bounds: tuple[int | None, int | None] = (None, None),
        reverse: bool = False,
    ) -> Iterable[OrderRecord]:
        """Every accepted order in sort order (counting, bulk operations)."""
        keys: list[Key] = self.index_for(sort_key).keys
        start = 0 if bounds[0] is None else bisect_left(keys, (bounds[0], 0))
        stop = len(keys) if bounds[1] is None else bisect_left(keys, (bounds[1], 0))
        positions = range(start, stop) if not reverse else range(stop - 1, start - 1, -1)
        orders = self.orders
        for i in positions:
            order = orders[keys[i][1]]
            if accept(order):
                yield order


def _check_qty(qty: int, available: int, what: str, line: LineItemRecord) -> None:
    if not isinstance(qty, int) or qty < 1:
        raise ValueError(f"quantity must be a positive integer, got {qty!r}")
    if qty > available:
        raise ValueError(f"{gid('LineItem', line.id)} has only {available} {what} unit(s); asked for {qty}")
