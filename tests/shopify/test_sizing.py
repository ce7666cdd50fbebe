"""Requested-cost estimates and the adaptive page plan."""

from __future__ import annotations

import pytest

from plugins.shopify import sizing
from plugins.shopify.sizing import MAX_QUERY_COST, PagePlan, Sizer


def test_multiplier_reproduces_shopifys_measured_costs() -> None:
    # research/shopify-api.md §C.21: 250 flat orders cost 13; with lineItems(first: 250) { id } 156
    assert sizing.connection(250, 1) == 13
    assert sizing.connection(250, 1 + sizing.connection(250, 1)) == 156
    assert [sizing.k(n) for n in (0, 1, 2, 5, 10, 50, 100, 250)] == [0, 1, 2, 5, 7, 9, 10, 11]


@pytest.mark.parametrize("page_size", [1, 10, 50, 100, 150, 250])
def test_default_plan_fits_the_single_query_limit_at_full_page_size(page_size: int) -> None:
    plan = Sizer(page_size).plan()
    assert plan.first == page_size
    assert plan.estimate <= MAX_QUERY_COST
    assert plan.line_items_first >= 50 and plan.refunds_first >= 5 and plan.refund_lines_first >= 5


def test_plans_at_100_and_250() -> None:
    assert Sizer(100).plan() == PagePlan(100, 50, 5, 10)
    assert Sizer(100).plan().estimate == 972
    assert Sizer(250).plan() == PagePlan(250, 50, 5, 5)
    assert Sizer(250).plan().estimate == 849


def test_a_costlier_shop_shrinks_the_next_plan() -> None:
    sizer = Sizer(100)
    plan = sizer.plan()
    sizer.observe(plan, plan.estimate * 2)  # the shop prices our query at twice our estimate
    smaller = sizer.plan()
    assert smaller.estimate * 2 <= MAX_QUERY_COST
    assert smaller.first == 100  # nested sizes give way before the page size


def test_too_expensive_halves_at_least() -> None:
    sizer = Sizer(250)
    plan = sizer.plan()
    retry = sizer.too_expensive(plan, cost=5000, limit=1000)
    assert retry.first <= plan.first // 2 or retry.estimate * sizer.scale <= MAX_QUERY_COST
    assert retry.first <= plan.first and retry.line_items_first <= plan.line_items_first
    assert retry != plan
    # the smaller plan sticks for the rest of the window
    assert sizer.plan() == retry


def test_too_expensive_all_the_way_down() -> None:
    sizer = Sizer(250)
    plan = sizer.plan()
    while not plan.smallest:
        plan = sizer.too_expensive(plan, cost=None, limit=None)
    with pytest.raises(ValueError):
        sizer.too_expensive(plan, cost=None, limit=None)


def test_small_bucket_lowers_the_budget() -> None:
    sizer = Sizer(100)
    sizer.limit_to_bucket(300)
    assert sizer.plan().estimate <= 300


def test_page_size_is_bounded() -> None:
    with pytest.raises(ValueError):
        Sizer(251)
    with pytest.raises(ValueError):
        Sizer(0)


# --- the estimate agrees with the simulator's cost calculator ------------------------------------

PLANS = [PagePlan(100, 50, 5, 10), PagePlan(250, 50, 5, 5), PagePlan(1, 1, 1, 1), PagePlan(37, 13, 3, 7)]


def simulated_cost(operation: str, variables: dict[str, int]) -> int:
    from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse

    from plugins.shopify import queries
    from plugins.shopify.schema import load_schema
    from plugins.shopify.simulator.cost import compile_cost_plan

    document = parse(queries.load(operation))
    (op,) = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    cost, errors = compile_cost_plan(load_schema("2026-07"), op, fragments, variables).requested(variables)
    assert not errors
    return cost


@pytest.mark.parametrize("plan", PLANS, ids=str)
def test_page_estimates_match_the_simulator(plan: PagePlan) -> None:
    from plugins.shopify import queries

    assert plan.estimate == simulated_cost(queries.ORDERS_WINDOW, plan.variables())
    assert sizing.order_plan_estimate(plan) == simulated_cost(queries.ORDER, plan.variables())


def test_follow_up_estimates_match_the_simulator() -> None:
    from plugins.shopify import queries

    assert sizing.line_items_estimate(250) == simulated_cost(queries.ORDER_LINE_ITEMS, {"first": 250})
    assert sizing.refund_lines_estimate(250) == simulated_cost(queries.REFUND_LINE_ITEMS, {"first": 250})
    assert sizing.refunds_estimate(250, 10) == simulated_cost(
        queries.ORDER_REFUNDS, {"refundsFirst": 250, "refundLinesFirst": 10}
    )
    assert sizing.CONNECTION_CHECK_ESTIMATE == simulated_cost(queries.CONNECTION_CHECK, {})


def _order(lines: int, refunds: list[int], *, more_lines: bool = False) -> dict:
    return {
        "lineItems": {"nodes": [{}] * lines, "pageInfo": {"hasNextPage": more_lines, "endCursor": "c" if more_lines else None}},
        "refunds": [{"refundLineItems": {"nodes": [{}] * n, "pageInfo": {"hasNextPage": False}}} for n in refunds],
    }


def test_a_learned_window_shape_asks_for_the_cheapest_plan_that_holds_it() -> None:
    sizer = Sizer(250)
    generous = sizer.plan()
    sizer.learn([_order(4, [1]), _order(2, [4, 1]), _order(1, [])])
    learned = sizer.plan()
    assert sizer.seen == (4, 2, 4)
    # every order seen fits without a follow-up; a refunds list one longer than seen is asked for,
    # because a full list may have been cut
    assert (learned.line_items_first, learned.refunds_first, learned.refund_lines_first) == (4, 3, 4)
    assert learned.first == 250
    assert learned.estimate < generous.estimate / 1.5


def test_a_connection_with_more_pages_counts_as_longer_than_it_came() -> None:
    sizer = Sizer(100)
    sizer.learn([_order(10, [], more_lines=True)])
    assert sizer.seen == (11, 0, 0)
    assert sizer.plan().line_items_first >= 11


def test_a_shape_too_big_to_hold_falls_back_to_the_ladder() -> None:
    sizer = Sizer(250)
    sizer.learn([_order(300, [30] * 12)])
    assert sizer.plan() == Sizer(250).plan()
