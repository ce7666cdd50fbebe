"""The GraphQL operations of the Shopify source, kept as ``.graphql`` files beside this module.

An operation file holds one named operation; the fragments it spreads live in
``fragments.graphql`` and are appended on load, only those it uses (GraphQL rejects unused
fragments). ``tests/shopify/test_queries.py`` validates every loaded document against the real
Admin API schemas.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    Visitor,
    parse,
    print_ast,
    visit,
)

FRAGMENTS_FILE = "fragments.graphql"

ORDERS_WINDOW = "orders_window"
ORDERS_WINDOW_COUNTED = "orders_window_counted"
ORDER = "order"
ORDER_LINE_ITEMS = "order_line_items"
ORDER_REFUNDS = "order_refunds"
REFUND_LINE_ITEMS = "refund_line_items"
CONNECTION_CHECK = "connection_check"
ORDERS_COUNT = "orders_count"
BULK_RUN = "bulk_run"
BULK_POLL = "bulk_poll"
ORDERS_BULK = "orders_bulk"
"""Not executed: its text is the query a bulk operation runs (see :mod:`plugins.shopify.bulk`)."""

OPERATIONS = (
    ORDERS_WINDOW,
    ORDERS_WINDOW_COUNTED,
    ORDER,
    ORDER_LINE_ITEMS,
    ORDER_REFUNDS,
    REFUND_LINE_ITEMS,
    CONNECTION_CHECK,
    ORDERS_COUNT,
    BULK_RUN,
    BULK_POLL,
    ORDERS_BULK,
)


def read(filename: str) -> str:
    """The text of one ``.graphql`` file of this folder."""
    return resources.files(__package__).joinpath(filename).read_text(encoding="utf-8")


@cache
def load(name: str) -> str:
    """Operation ``name`` with the fragments it spreads (transitively) appended."""
    operation = read(f"{name}.graphql")
    fragments = _fragments()
    needed: list[str] = []
    pending = _spreads(parse(operation))
    while pending:
        fragment = pending.pop(0)
        if fragment in needed:
            continue
        if fragment not in fragments:
            raise KeyError(f"{name}.graphql spreads unknown fragment {fragment!r}")
        needed.append(fragment)
        pending.extend(_spreads(fragments[fragment]))
    return "\n".join([operation.rstrip(), *(print_ast(fragments[f]) for f in needed)]) + "\n"


@cache
def _fragments() -> dict[str, FragmentDefinitionNode]:
    document = parse(read(FRAGMENTS_FILE))
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def _spreads(node: DocumentNode | FragmentDefinitionNode) -> list[str]:
    names: list[str] = []

    class Collect(Visitor):
        def enter_fragment_spread(self, spread: FragmentSpreadNode, *_: object) -> None:
            names.append(spread.name.value)

    visit(node, Collect())
    return names
