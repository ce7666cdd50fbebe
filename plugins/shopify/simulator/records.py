"""In-memory records of the simulated shop, and the quantity rules Shopify documents for them.

A line item keeps five counters and never anything derived, so the schema's quantity fields
cannot drift apart. From the field descriptions (research notes A.5-A.8):

======================  ===================================================================
``quantity``            units ordered; never changes
``fulfilled``           units shipped
``returned``            fulfilled units refunded (RETURN / NO_RESTOCK)
``refunded_unfulfilled`` unfulfilled units refunded (CANCEL / NO_RESTOCK): a partial cancel
``edited_out``          unfulfilled units removed by an order edit (no refund line)
======================  ===================================================================

* ``currentQuantity = refundableQuantity = quantity - returned - refunded_unfulfilled - edited_out``
  ("excluding refunded and removed units")
* ``unfulfilledQuantity = fulfillableQuantity = quantity - fulfilled - refunded_unfulfilled - edited_out``
* ``nonFulfillableQuantity = refunded_unfulfilled + edited_out`` ("units that can't be fulfilled,
  for example refunded"), or ``quantity`` for a line that needs no shipping (a tip, a service).

So a unit canceled before fulfilment shows ``currentQuantity 0, nonFulfillableQuantity 1`` and a
returned unit ``currentQuantity 0, nonFulfillableQuantity 0``, as observed on real shops.

Times are integer epoch seconds (Shopify has whole-second precision); money is integer cents.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "LineItemRecord",
    "OrderRecord",
    "RefundRecord",
    "RefundLineRecord",
    "FulfillmentRecord",
    "FulfillmentLineRecord",
    "RESTOCKED_TYPES",
]

RESTOCKED_TYPES = frozenset({"CANCEL", "RETURN", "LEGACY_RESTOCK"})
"""``RefundLineItem.restocked`` is true for these restock types."""


@dataclass(slots=True, eq=False)
class LineItemRecord:
    id: int
    order_id: int
    sku: str
    title: str
    variant_title: str | None
    unit_price: int
    quantity: int
    requires_shipping: bool = True
    fulfilled: int = 0
    returned: int = 0
    refunded_unfulfilled: int = 0
    edited_out: int = 0

    TYPENAME = "LineItem"

    @property
    def current_quantity(self) -> int:
        return self.quantity - self.returned - self.refunded_unfulfilled - self.edited_out

    @property
    def unfulfilled_quantity(self) -> int:
        return self.quantity - self.fulfilled - self.refunded_unfulfilled - self.edited_out

    @property
    def non_fulfillable_quantity(self) -> int:
        if not self.requires_shipping:
            return self.quantity
        return self.refunded_unfulfilled + self.edited_out

    @property
    def returnable_quantity(self) -> int:
        """Fulfilled units not yet returned (what :meth:`store.return_units` may take)."""
        return self.fulfilled - self.returned

    @property
    def fulfillment_status(self) -> str:
        """The deprecated ``LineItem.fulfillmentStatus`` string.

        Its schema description ("'fulfilled' if fulfillableQuantity >= quantity") reads inverted:
        taken literally a brand-new line would be 'fulfilled'. Shopify's REST twin reports
        'fulfilled' for shipped lines, so the fulfilled count is used in place of fulfillableQuantity.
        """
        if self.fulfilled > 0 and self.unfulfilled_quantity == 0:
            return "fulfilled"
        if self.fulfilled > 0:
            return "partial"
        return "unfulfilled"


@dataclass(slots=True, eq=False)
class RefundLineRecord:
    id: int
    line: LineItemRecord
    quantity: int
    restock_type: str

    TYPENAME = "RefundLineItem"


@dataclass(slots=True, eq=False)
class RefundRecord:
    id: int
    order_id: int
    created_at: int
    note: str | None
    lines: list[RefundLineRecord]

    TYPENAME = "Refund"


@dataclass(slots=True, eq=False)
class FulfillmentLineRecord:
    id: int
    line: LineItemRecord
    quantity: int

    TYPENAME = "FulfillmentLineItem"


@dataclass(slots=True, eq=False)
class FulfillmentRecord:
    id: int
    order_id: int
    name: str
    created_at: int
    lines: list[FulfillmentLineRecord]

    TYPENAME = "Fulfillment"


@dataclass(slots=True, eq=False)
class OrderRecord:
    id: int
    number: int
    created_at: int
    updated_at: int
    lines: list[LineItemRecord]
    refunds: list[RefundRecord] = field(default_factory=list)
    fulfillments: list[FulfillmentRecord] = field(default_factory=list)
    cancelled_at: int | None = None
    cancel_reason: str | None = None
    closed_at: int | None = None
    edited: bool = False

    TYPENAME = "Order"

    @property
    def name(self) -> str:
        return f"#{self.number}"

    @property
    def processed_at(self) -> int:
        # Orders created through the simulator are processed when created (no imported history).
        return self.created_at

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    def line(self, line_id: int) -> LineItemRecord:
        for line in self.lines:
            if line.id == line_id:
                return line
        raise KeyError(line_id)

    # -- order-level summaries -------------------------------------------------------------------

    def display_fulfillment_status(self) -> str:
        fulfilled = open_units = 0
        for line in self.lines:  # one plain loop: this runs after every change to every order
            if line.requires_shipping:
                fulfilled += line.fulfilled
                open_units += line.quantity - line.fulfilled - line.refunded_unfulfilled - line.edited_out
        if fulfilled and not open_units:
            return "FULFILLED"
        if fulfilled:
            return "PARTIALLY_FULFILLED"
        return "UNFULFILLED"

    def refunded_units(self) -> int:
        return sum(line.returned + line.refunded_unfulfilled for line in self.lines)

    def display_financial_status(self) -> str:
        refunded = self.refunded_units()
        if not refunded:
            return "PAID"
        if all(line.current_quantity == 0 for line in self.lines):
            return "REFUNDED"
        return "PARTIALLY_REFUNDED"

    def should_close(self) -> bool:
        """Shopify archives (closes) an order when it is canceled or has nothing left to ship.

        This follows the default "automatically archive the order" store setting: closed once every
        remaining shippable unit is fulfilled and at least one was.
        """
        return self.cancelled_at is not None or self.display_fulfillment_status() == "FULFILLED"

    # -- money (integer cents) -------------------------------------------------------------------

    def total_cents(self) -> int:
        return sum(line.unit_price * line.quantity for line in self.lines)

    def current_total_cents(self) -> int:
        return sum(line.unit_price * line.current_quantity for line in self.lines)

    def refunded_cents(self) -> int:
        return sum(rl.line.unit_price * rl.quantity for refund in self.refunds for rl in refund.lines)
