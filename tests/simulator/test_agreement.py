"""Comparing a store with the ground truth: what the demo prints and the benchmarks report."""

from __future__ import annotations

from plugins.shopify.simulator import GroundTruth
from plugins.shopify.simulator.agreement import StoredState

TRUTH = GroundTruth(orders={"o1", "o2"}, canceled_units={"l1": 2, "l2": 0, "l3": 1}, canceled_orders={"o2"})


def test_a_store_holding_exactly_the_truth_agrees() -> None:
    stored = StoredState(orders=2, canceled_units={"l1": 2, "l3": 1}, canceled_orders=frozenset({"o2"}))
    assert stored.differing_lines(TRUTH) == 0
    assert stored.agrees_with(TRUTH)


def test_missing_extra_and_wrong_lines_each_count_once() -> None:
    stored = StoredState(orders=2, canceled_units={"l1": 1, "l2": 1}, canceled_orders=frozenset({"o2"}))
    assert stored.differing_lines(TRUTH) == 3  # l1 wrong, l2 extra (the truth says none), l3 missing
    assert not stored.agrees_with(TRUTH)


def test_a_missing_order_or_cancel_is_a_disagreement_even_when_the_lines_match() -> None:
    lines = {"l1": 2, "l3": 1}
    assert not StoredState(orders=1, canceled_units=lines, canceled_orders=frozenset({"o2"})).agrees_with(TRUTH)
    assert not StoredState(orders=2, canceled_units=lines, canceled_orders=frozenset()).agrees_with(TRUTH)
