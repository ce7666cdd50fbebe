"""What the SQLAlchemy storage sends: a page costs a fixed number of statements whatever its
size, and a batch lookup is one query whatever the number of ids; its cursors are checked."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from core import OrderQuery, OrderVerdict, Shop, Storage, StoredOrder, ValidationError
from core.testing.storage.cases.orders_listing import catalogue  # noqa: F401  (a fixture)
from core.testing.storage.factories import T0, at, canceled_whole, judged, line, order
from plugins.storage.sqlalchemy.cursors import encode_cursor


def test_a_page_costs_the_same_statements_whatever_its_size(storage: Storage, shop: Shop) -> None:
    statements: list[str] = []
    engine = storage.engine  # type: ignore[attr-defined]

    def count(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        statements.append(sql)

    def page(first: int, size: int) -> list[OrderVerdict]:
        return judged(*(
            order(n, line(n * 10, quantity=3, canceled=1), line(n * 10 + 1, quantity=2))
            if n % 2 else canceled_whole(n, quantity=2)
            for n in range(first, first + size)
        ))  # fmt: skip

    def apply(verdicts: list[OrderVerdict]) -> None:
        with storage.transaction() as tx:
            tx.apply_page(shop_id=shop.id, run_id=None, verdicts=verdicts, now=at(120))

    event.listen(engine, "before_cursor_execute", count)
    try:
        apply(page(1, 5))
        small = len(statements)
        statements.clear()
        apply(page(100, 120))
        large = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert small == large, statements
    # MySQL: the shop's lock, a locked read after each upsert and the history's commit number
    assert large <= (16 if engine.dialect.name == "mysql" else 12)


def test_batch_lookups_answer_many_ids_in_one_query(storage: Storage, catalogue: dict[str, StoredOrder]) -> None:  # noqa: F811
    ids = [o.id for o in catalogue.values()]
    statements: list[str] = []
    engine = storage.engine  # type: ignore[attr-defined]

    def count(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        if sql.lstrip().upper().startswith("SELECT"):
            statements.append(sql)

    with storage.transaction() as tx:
        event.listen(engine, "before_cursor_execute", count)
        try:
            tx.get_orders([*ids, 404])
            assert len(statements) == 1
            items = tx.items_for_orders([*ids, 404])
            assert len(statements) == 2
            item_ids = [item.id for found in items.values() for item in found]
            tx.get_items([*item_ids, 404])
            assert len(statements) == 3
            tx.cancellations_for_items([*item_ids, 404])
            assert len(statements) == 4
        finally:
            event.remove(engine, "before_cursor_execute", count)


@pytest.mark.parametrize(
    "cursor",
    [
        "WyJ4Il0",  # ["x"]: no id
        encode_cursor("yesterday", 1),  # not a timestamp, for the UPDATED_AT default sort
        encode_cursor(T0.replace(tzinfo=None), 1),  # a naive timestamp
        encode_cursor(T0, "1"),  # type: ignore[arg-type]  # the id is not an integer
    ],
)
def test_a_cursor_in_our_encoding_with_a_wrong_value_is_a_validation_error(
    storage: Storage, catalogue: dict[str, StoredOrder], cursor: str  # noqa: F811
) -> None:
    with storage.transaction() as tx, pytest.raises(ValidationError) as caught:
        tx.list_orders(OrderQuery(), first=5, after=cursor)
    assert caught.value.field == "after"
