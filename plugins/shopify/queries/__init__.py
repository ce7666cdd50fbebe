"""The GraphQL operations of the Shopify source, kept as ``.graphql`` files beside this module.

An operation file holds one named operation; the fragments it spreads live in
``fragments.graphql`` and are appended on load, only those it uses (GraphQL rejects unused
fragments). Assembly is textual (these are our own, simple files), and the text is also what a
bulk operation is sent; ``tests/shopify/test_queries.py`` validates every loaded document against
the real Admin API schemas with graphql-core.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

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
BULK_CANCEL = "bulk_cancel"
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
    BULK_CANCEL,
    ORDERS_BULK,
)


def read(filename: str) -> str:
    """The text of one ``.graphql`` file of this folder."""
    return resources.files(__package__).joinpath(filename).read_text(encoding="utf-8")


@cache
def load(name: str) -> str:
    """Operation ``name`` with the fragments it spreads (transitively) appended."""
    operation = _strip_comments(read(f"{name}.graphql"))
    fragments = _fragments()
    needed: list[str] = []
    pending = _spreads(operation)
    while pending:
        fragment = pending.pop(0)
        if fragment in needed:
            continue
        if fragment not in fragments:
            raise KeyError(f"{name}.graphql spreads unknown fragment {fragment!r}")
        needed.append(fragment)
        pending.extend(_spreads(fragments[fragment]))
    return "\n\n".join([operation.strip(), *(fragments[f] for f in needed)]) + "\n"


_FRAGMENT = re.compile(r"^fragment\s+([A-Za-z_]\w*)\s+on\s+", re.MULTILINE)
_SPREAD = re.compile(r"\.\.\.\s*(?!on\b)([A-Za-z_]\w*)")


def _strip_comments(text: str) -> str:
    # Our files put comments on lines of their own; no string literal holds a '#'.
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


@cache
def _fragments() -> dict[str, str]:
    """Each fragment of ``fragments.graphql`` by name, as text (a fragment ends where the next begins)."""
    text = _strip_comments(read(FRAGMENTS_FILE))
    starts = list(_FRAGMENT.finditer(text))
    return {
        match.group(1): text[match.start() : starts[i + 1].start() if i + 1 < len(starts) else len(text)].strip()
        for i, match in enumerate(starts)
    }


def _spreads(text: str) -> list[str]:
    return _SPREAD.findall(text)
