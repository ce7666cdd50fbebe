"""Order search on large stores: PostgreSQL answers it from pg_trgm GIN indexes (migration
0003), other databases have none; whoever builds the query, the storage refuses a term the API
would refuse (core.check_search_term). Timings are in bench/search.py."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, inspect, text

from core import Limits, OrderQuery, Shop, Storage, ValidationError
from core.testing.storage.factories import judged, line, order

TRIGRAM_INDEXES = {"ix_orders_name_trgm": "orders", "ix_order_items_sku_trgm": "order_items"}


def test_the_trigram_indexes_exist_on_postgresql_only(storage: Storage) -> None:
    engine = storage.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        found = {ix["name"] for table in TRIGRAM_INDEXES.values() for ix in inspect(conn).get_indexes(table)}
        if engine.dialect.name != "postgresql":
            assert not found & set(TRIGRAM_INDEXES)
            return
        definitions = dict(conn.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN ('ix_orders_name_trgm', "
            "'ix_order_items_sku_trgm')")).all())
    assert set(definitions) == set(TRIGRAM_INDEXES)
    assert all("USING gin" in d and "gin_trgm_ops" in d and "fastupdate=off" in d.replace("'", "")
               for d in definitions.values()), definitions


def test_the_search_statement_can_use_both_indexes(storage: Storage, shop: Shop) -> None:
    engine = storage.engine  # type: ignore[attr-defined]
    if engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL index; SQLite and MariaDB scan")
    with storage.transaction() as tx:
        tx.apply_page(shop_id=shop.id, run_id=None, verdicts=judged(order(1, line(1, sku="TEE-RED"))),
                      now=shop.created_at)
    seen: list[tuple[str, Any]] = []

    def capture(_conn: object, _cursor: object, sql: str, params: Any, *_args: object) -> None:
        if "ILIKE" in sql:
            seen.append((sql, params))

    engines = storage.engines  # type: ignore[attr-defined]  # reads may have an engine of their own
    for each in engines:
        event.listen(each, "before_cursor_execute", capture)
    try:
        with storage.read() as tx:
            assert [o.name for o in tx.list_orders(OrderQuery(search="tee-r"), first=10).items] == ["#1001"]
    finally:
        for each in engines:
            event.remove(each, "before_cursor_execute", capture)
    (sql, params), *_ = seen
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("SET enable_seqscan = off")  # a table this small would be scanned otherwise
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    finally:
        raw.rollback()
        raw.close()
    assert "ix_orders_name_trgm" in plan and "ix_order_items_sku_trgm" in plan, plan


@pytest.mark.parametrize("term", ["x" * (Limits.SEARCH + 1), "TEE\x00"])
def test_the_storage_refuses_a_term_the_api_would(storage: Storage, term: str) -> None:
    with storage.read() as tx, pytest.raises(ValidationError) as refused:
        tx.list_orders(OrderQuery(search=term), first=10)
    assert refused.value.field == "search"
