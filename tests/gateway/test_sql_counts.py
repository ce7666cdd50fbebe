"""No N+1: a page of orders with items and cancellations costs the same few statements at any size."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import httpx2
from sqlalchemy import event

from core import TokenRole
from core.apitokens import TOUCH_INTERVAL, TokenCache, hash_token, issue_token
from gateway.api.app import create_app

from .conftest import Api
from .seed import new_shop, seed

PAGE = """query($first: Int) { orders(first: $first) { totalCount pageInfo { hasNextPage endCursor } nodes {
  id name status canceledQuantity
  items { id sku quantity canceledQuantity status
          cancellations { id quantity canceledAt reason evidence runId shop item { id sku } order { id name } } } } } }"""


@contextmanager
def counting(api: Api) -> Iterator[list[str]]:
    # the SQLAlchemy storage exposes its engines (writers', readers') for tooling
    engines = api.runtime.storage.engines  # type: ignore[attr-defined]
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        # SQLite's storage sends BEGIN itself; PostgreSQL reads open with SET LOCAL statement_timeout
        # (one per read transaction, not per record: not what this test counts)
        if not statement.lstrip().upper().startswith(("BEGIN", "SET LOCAL STATEMENT_TIMEOUT")):
            statements.append(statement)

    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        for engine in engines:
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
    # the page, its count, items, cancellations, and the shops the cancellations name (one
    # listing); their items and orders are already loaded. Authentication costs no statement:
    # the token was read by the warm-up request and touched less than a minute ago.
    assert len(large) == 5
    assert not [s for s in large if "api_tokens" in s]
    # orders with items and cancellations only: one statement per level
    assert len(await statements_for(api, 10, SIMPLE_PAGE)) == len(await statements_for(api, 50, SIMPLE_PAGE)) == 3


async def test_a_token_is_read_once_and_touched_at_most_once_a_minute(api: Api) -> None:
    """A new token costs one lookup and one touch; then the process's token cache answers until
    its entry is ttl seconds old, and last_used_at is written again only once it is a minute old."""
    _, plaintext = issue_token(api.runtime, name="fresh", role=TokenRole.READ)
    monotonic = [1000.0]
    app = create_app(api.runtime, api.queue, token_cache=TokenCache(5.0, clock=lambda: monotonic[0]))

    async def token_statements() -> list[str]:
        async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://test") as client:
            with counting(api) as statements:
                response = await client.post("/graphql", json={"query": "{ currentToken { name lastUsedAt } }"},
                                             headers={"Authorization": f"Bearer {plaintext}"})
        assert response.json()["data"]["currentToken"]["name"] == "fresh"
        return [" ".join(s.split())[:6] for s in statements if "api_tokens" in s]

    assert await token_statements() == ["SELECT", "UPDATE"]
    for _ in range(3):
        assert await token_statements() == []
    monotonic[0] += 5.0  # the cache entry expires: the token is read again, not touched
    assert await token_statements() == ["SELECT"]
    assert await token_statements() == []
    api.runtime.clock = lambda: datetime.now(UTC) + TOUCH_INTERVAL  # a minute later: touched again
    assert await token_statements() == ["UPDATE"]
    assert await token_statements() == []
    with api.runtime.storage.read() as tx:
        assert tx.find_api_token(hash_token(plaintext)).last_used_at > datetime.now(UTC)
