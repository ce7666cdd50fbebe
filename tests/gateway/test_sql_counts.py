"""No N+1: a page of orders with items and cancellations costs the same few statements at any size."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from .conftest import Api
from .seed import new_shop, seed

PAGE = """query($first: Int) { orders(first: $first) { totalCount pageInfo { hasNextPage endCursor } nodes {
  id name status canceledQuantity
  items { id sku quantity canceledQuantity status
          cancellations { id quantity canceledAt reason evidence runId shop item { id sku } order { id name } } } } } }"""


@contextmanager
def counting(api: Api) -> Iterator[list[str]]:
    engine = api.runtime.storage.engine  # the SQLAlchemy storage exposes its engine for tooling
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith("BEGIN"):  # SQLite's storage sends BEGIN itself
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


SIMPLE_PAGE = """query($first: Int) { orders(first: $first) { nodes { id name
  items { id sku canceledQuantity cancellations { id quantity canceledAt } } } } }"""


async def statements_for(api: Api, first: int, document: str = PAGE) -> list[str]:
    with counting(api) as statements:
        data = await api.data(document, {"first": first})
    nodes = data["orders"]["nodes"]
    assert len(nodes) == first
    assert sum(len(i["cancellations"]) for o in nodes for i in o["items"]) > 0
    return list(statements)


async def test_a_page_of_orders_costs_a_constant_number_of_statements(api: Api) -> None:
    alpha, _ = new_shop(api.runtime, "alpha")
    beta, _ = new_shop(api.runtime, "beta")
    seed(api.runtime, alpha, 40)
    seed(api.runtime, beta, 30)
    await statements_for(api, 5)  # warm the connection pool (SQLite runs its PRAGMAs on connect)
    small = await statements_for(api, 10)
    large = await statements_for(api, 50)
    print(f"\nSQL statements per request: 10 orders -> {len(small)}, 50 orders -> {len(large)}")
    for statement in large:
        print("  ", " ".join(statement.split())[:110])
    assert len(small) == len(large)
    # authenticate (find + touch the token), the page, its count, items, cancellations, and the
    # shops the cancellations name (one listing); their items and orders are already loaded
    assert len(large) == 7
    # orders with items and cancellations only: authentication plus one statement per level
    assert len(await statements_for(api, 10, SIMPLE_PAGE)) == len(await statements_for(api, 50, SIMPLE_PAGE)) == 5
