"""How big a page of orders can be: requested-cost estimates and the adaptive query plan.

Shopify rejects any single query whose *requested* (worst-case) cost exceeds 1000 points
(``MAX_COST_EXCEEDED``), and refuses to start one when the bucket holds less than its requested
cost (``THROTTLED``). Nested connections multiply, so the page size and the nested ``first``
values are chosen together. The estimate follows the calculated-cost rules Shopify documents and
the simulator implements (research/shopify-api.md §C.21, simulator/cost.py): scalars, enums and
``pageInfo`` cost 0, an object 1 plus its selection, a connection ``2 + k(first) × row``, a list
with ``first`` ``k(first) × element``, where ``k(n) = min(n, ceil(log2 n) + 3)`` (so 250 flat
orders cost 2 + 11 = 13, and with ``lineItems(first: 250) { id }`` 156, both as measured).

The estimate is only a starting point: each reply's ``requestedQueryCost`` corrects it through
:attr:`Sizer.scale`, and a ``MAX_COST_EXCEEDED`` halves the plan.

Nested sizes follow the data. Only the *actual* cost is charged, but a query starts only once the
bucket holds its *requested* cost, so on a busy window the pacer keeps about that many points in
the bucket, unspent, until the window's end: a paged window takes ``(actual total - bucket +
requested) / restore rate`` seconds. The first page asks generously (the ladder below); from then
on :meth:`Sizer.learn` records the most line items, refunds and refund lines an order of this
window has shown, and :meth:`Sizer.plan` picks the cheapest nested sizes that still hold them, so
follow-up queries stay as rare as with the generous plan. On the simulator's seeded shops this
cuts the requested cost of a 250-order page from 849 to about 440 points and a 20,000-order
Standard-plan window by about 5 s (docs/benchmarks.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MAX_QUERY_COST = 1000
"""Shopify's single-query limit on requested cost."""

MAX_FIRST = 250
"""Shopify's largest page of any connection."""

# Preferred nested sizes, best first. Line items come first because every order has them;
# most orders have no refund at all, and a refund rarely has many lines. What does not fit is
# fetched by follow-up queries, so these trade page cost against follow-up round trips.
NESTED_LADDER: tuple[tuple[int, int, int], ...] = (
    (50, 10, 20),
    (50, 10, 10),
    (50, 5, 10),
    (50, 5, 5),
    (25, 5, 5),
    (25, 3, 5),
    (10, 3, 3),
    (10, 2, 2),
    (5, 1, 1),
    (1, 1, 1),
)

LINE_ITEM_CHOICES = (1, 2, 3, 4, 5, 8, 10, 16, 25, 50)
REFUND_CHOICES = (1, 2, 3, 4, 5, 8, 10)
REFUND_LINE_CHOICES = (1, 2, 3, 4, 5, 8, 10, 20)
"""Nested sizes a learned plan chooses from (up to the generous ladder's largest)."""

FOLLOW_UP_REFUNDS = 250
"""Refunds asked for when an order's refund list came back full (the list cannot be paged)."""

FOLLOW_UP_REFUND_LINES = 10
"""Refund lines per refund in the refunds follow-up; longer refunds are paged on their own."""


def k(first: int) -> int:
    """Multiplier of a connection or list of ``first`` items."""
    if first <= 0:
        return 0
    return min(first, math.ceil(math.log2(first)) + 3)


def connection(first: int, node: float) -> float:
    return 2 + k(first) * node


def listing(first: int, node: float) -> float:
    return k(first) * node


# Node costs of the shapes in queries/*.graphql (objects 1, scalars and enums 0).
LINE_ITEM = 1.0  # LineItemFields: scalars only
REFUND_LINE = 2.0  # RefundLineItemFields: itself + lineItem { id }


def refund_cost(refund_lines_first: int) -> float:
    return 1 + connection(refund_lines_first, REFUND_LINE)


def order_tree_cost(line_items_first: int, refunds_first: int, refund_lines_first: int) -> float:
    """One ``Order`` with the ``OrderTree`` fragment."""
    return (
        1
        + connection(line_items_first, LINE_ITEM)
        + listing(refunds_first, refund_cost(refund_lines_first))
    )


@dataclass(frozen=True, slots=True)
class PagePlan:
    """The ``first`` values of one orders-window query."""

    first: int
    line_items_first: int
    refunds_first: int
    refund_lines_first: int

    @property
    def estimate(self) -> float:
        """Requested cost of ``orders_window.graphql`` with these values."""
        return connection(self.first, order_tree_cost(self.line_items_first, self.refunds_first, self.refund_lines_first))

    def variables(self) -> dict[str, int]:
        return {
            "first": self.first,
            "lineItemsFirst": self.line_items_first,
            "refundsFirst": self.refunds_first,
            "refundLinesFirst": self.refund_lines_first,
        }

    def halved(self) -> PagePlan:
        """Every size halved (at least 1): what to retry after ``MAX_COST_EXCEEDED``."""
        return PagePlan(
            first=max(1, self.first // 2),
            line_items_first=max(1, self.line_items_first // 2),
            refunds_first=max(1, self.refunds_first // 2),
            refund_lines_first=max(1, self.refund_lines_first // 2),
        )

    @property
    def smallest(self) -> bool:
        return self == PagePlan(1, 1, 1, 1)


def order_plan_estimate(plan: PagePlan) -> float:
    """Requested cost of ``order.graphql`` (one order, same nested sizes)."""
    return order_tree_cost(plan.line_items_first, plan.refunds_first, plan.refund_lines_first)


def line_items_estimate(first: int) -> float:
    """Requested cost of ``order_line_items.graphql``."""
    return 1 + connection(first, LINE_ITEM)


def refunds_estimate(refunds_first: int, refund_lines_first: int) -> float:
    """Requested cost of ``order_refunds.graphql``."""
    return 1 + listing(refunds_first, refund_cost(refund_lines_first))


def refund_lines_estimate(first: int) -> float:
    """Requested cost of ``refund_line_items.graphql`` (``node`` is an interface: 1)."""
    return 1 + connection(first, REFUND_LINE)


CONNECTION_CHECK_ESTIMATE = 4.0  # shop 1 + plan 1 + currentAppInstallation 1 + accessScopes (a list without first) 1


class Sizer:
    """Chooses page plans for one window, learning from the costs Shopify reports.

    Args:
        page_size: orders per page wanted (the engine's ``page_size``, at most 250).
        budget: the most a single query may request; lowered when the bucket is smaller.
    """

    def __init__(self, page_size: int, *, budget: float = MAX_QUERY_COST) -> None:
        if not 1 <= page_size <= MAX_FIRST:
            raise ValueError(f"page_size must be within 1..{MAX_FIRST}, got {page_size}")
        self.page_size = page_size
        self.budget = float(budget)
        self.scale = 1.0
        """Reported requested cost ÷ our estimate, from the latest reply (the shop's real formula)."""
        self._cap: PagePlan | None = None
        self.seen: tuple[int, int, int] | None = None
        """Most line items of an order, refunds of an order and lines of a refund seen so far."""
        self._learned_key: object = None
        self._learned_plan: PagePlan | None = None

    def learn(self, orders: Sequence[Any]) -> None:
        """Record the nested sizes a page of ``OrderTree`` replies showed (before completion)."""
        lines, refunds, refund_lines = self.seen or (0, 0, 0)
        for order in orders:
            if not isinstance(order, Mapping):
                continue
            lines = max(lines, _size(order.get("lineItems")))
            listed = order.get("refunds")
            if isinstance(listed, list):
                refunds = max(refunds, len(listed))
                for refund in listed:
                    if isinstance(refund, Mapping):
                        refund_lines = max(refund_lines, _size(refund.get("refundLineItems")))
        self.seen = (lines, refunds, refund_lines)

    def plan(self) -> PagePlan:
        """The plan for the next page: once the window's shape is known (:meth:`learn`), the
        cheapest nested sizes that hold it; before that, the biggest plan that fits the budget.

        Keeps the page size and shrinks the nested sizes down the ladder first (nested overflow
        costs a follow-up only for the rare large order), then halves the page size.
        """
        first = self.page_size if self._cap is None else min(self.page_size, self._cap.first)
        learned = self._learned(first)
        if learned is not None:
            return learned
        while True:
            for nested in NESTED_LADDER:
                plan = PagePlan(first, *nested)
                if self._cap is not None and not self._within_cap(plan):
                    continue
                if plan.estimate * self.scale <= self.budget:
                    return plan
            if first == 1:
                return PagePlan(1, 1, 1, 1)
            first = max(1, first // 2)

    def _learned(self, first: int) -> PagePlan | None:
        """The cheapest plan of ``first`` orders holding every nested size seen, if one fits."""
        if self.seen is None:
            return None
        key = (first, self.seen, self.scale, self.budget, self._cap)
        if key != self._learned_key:  # the search below is a few hundred estimates: once per shape
            self._learned_key, self._learned_plan = key, self._cheapest(first, self.seen)
        return self._learned_plan

    def _cheapest(self, first: int, seen: tuple[int, int, int]) -> PagePlan | None:
        lines, refunds, refund_lines = seen
        # A refunds list as long as asked for may have been cut (it has no pageInfo): ask one more.
        # Refunds are rare and uneven, so a little headroom over the first pages (3 refunds, 4
        # lines a refund) saves the follow-ups an unseen shape would cost, for a few points.
        wanted = (min(lines, 50), min(max(refunds + 1, 3), 10), min(max(refund_lines, 4), 20))
        best: PagePlan | None = None
        for li in LINE_ITEM_CHOICES:
            if li < wanted[0]:
                continue
            for rf in REFUND_CHOICES:
                if rf < wanted[1]:
                    continue
                for rl in REFUND_LINE_CHOICES:
                    if rl < wanted[2]:
                        continue
                    plan = PagePlan(first, li, rf, rl)
                    if not self._within_cap(plan) or plan.estimate * self.scale > self.budget:
                        continue
                    if best is None or plan.estimate < best.estimate:
                        best = plan
        return best

    def observe(self, plan: PagePlan, requested_cost: float | None) -> None:
        """Correct the estimate with the ``requestedQueryCost`` a reply to ``plan`` carried."""
        if requested_cost and requested_cost > 0:
            self.scale = min(64.0, max(0.05, requested_cost / plan.estimate))

    def too_expensive(self, plan: PagePlan, cost: float | None, limit: float | None) -> PagePlan:
        """``plan`` was refused as too expensive; return a strictly smaller plan to retry with.

        Raises:
            ValueError: ``plan`` is already the smallest possible.
        """
        if plan.smallest:
            raise ValueError("even a one-order page exceeds the query cost limit")
        if limit:
            self.budget = min(self.budget, float(limit))
        if cost:
            self.scale = max(self.scale, cost / plan.estimate)
        # With the reported cost and limit, re-planning usually finds the biggest plan that fits;
        # when it cannot shrink (no cost reported, or the estimate is off), halve everything.
        candidate = self.plan()
        if cost and candidate.estimate < plan.estimate:
            return candidate
        self._cap = plan.halved()
        candidate = self.plan()
        return candidate if self._within_cap(candidate) else self._cap

    def _within_cap(self, plan: PagePlan) -> bool:
        cap = self._cap
        if cap is None:
            return True
        return (
            plan.first <= cap.first
            and plan.line_items_first <= cap.line_items_first
            and plan.refunds_first <= cap.refunds_first
            and plan.refund_lines_first <= cap.refund_lines_first
        )

    def limit_to_bucket(self, maximum_available: float) -> None:
        """A bucket smaller than the cost limit can never start a bigger query."""
        if maximum_available > 0:
            self.budget = min(self.budget, float(maximum_available))


def _size(connection: Any) -> int:
    """Rows a nested connection returned, plus one when it says there are more."""
    if not isinstance(connection, Mapping):
        return 0
    nodes = connection.get("nodes")
    count = len(nodes) if isinstance(nodes, list) else 0
    info = connection.get("pageInfo")
    return count + 1 if isinstance(info, Mapping) and info.get("hasNextPage") is True else count
