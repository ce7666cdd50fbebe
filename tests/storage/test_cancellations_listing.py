"""The cancellation history integrators poll: oldest first by (recorded_at, id), a page at a time."""

from __future__ import annotations

import pytest

from core import Cancellation, Shop, Storage, ValidationError

from .factories import at, judged, line, order


@pytest.fixture
def history(storage: Storage, shop: Shop, other_shop: Shop) -> list[Cancellation]:
    """Three pages recorded at minutes 10, 20 and 30 (the first two of north, the last of south)."""
    recorded: list[Cancellation] = []
    with storage.transaction() as tx:
        for minute, target, first in ((10, shop, 1), (20, shop, 20), (30, other_shop, 40)):
            page = judged(*(order(n, line(n * 10, quantity=3, canceled=1), line(n * 10 + 1, quantity=2, canceled=2))
                            for n in range(first, first + 4)))  # fmt: skip
            recorded += tx.apply_page(shop_id=target.id, run_id=None, verdicts=page, now=at(minute)).cancellations
    return recorded


def _poll(storage: Storage, size: int, **filters: object) -> list[Cancellation]:
    seen: list[Cancellation] = []
    after = None
    with storage.transaction() as tx:
        while True:
            page = tx.list_cancellations(first=size, after=after, **filters)  # type: ignore[arg-type]
            seen += page.items
            if not page.has_next:
                return seen
            after = page.cursors[-1]


def test_history_is_listed_oldest_first_exactly_once(storage: Storage, history: list[Cancellation]) -> None:
    expected = sorted(history, key=lambda c: (c.recorded_at, c.id))
    for size in (1, 5, 100):
        assert _poll(storage, size) == expected


def test_history_can_be_narrowed_to_a_shop_and_a_half_open_time_range(
    storage: Storage, shop: Shop, other_shop: Shop, history: list[Cancellation]
) -> None:
    assert {c.shop_id for c in _poll(storage, 3, shop_id=other_shop.id)} == {other_shop.id}
    assert len(_poll(storage, 3, shop_id=shop.id)) == 16
    assert {c.recorded_at for c in _poll(storage, 3, since=at(20))} == {at(20), at(30)}
    assert {c.recorded_at for c in _poll(storage, 3, since=at(10), until=at(30))} == {at(10), at(20)}
    assert _poll(storage, 3, shop_id=other_shop.id, until=at(30)) == []


def test_a_poller_resuming_from_its_last_cursor_sees_only_newer_rows(
    storage: Storage, shop: Shop, history: list[Cancellation]
) -> None:
    with storage.transaction() as tx:
        everything = tx.list_cancellations(first=100)
        resume_from = everything.cursors[-1]
        assert tx.list_cancellations(first=100, after=resume_from).items == ()
        new = tx.apply_page(shop_id=shop.id, run_id=None, verdicts=judged(order(90, line(900, canceled=1))), now=at(40))
        assert tx.list_cancellations(first=100, after=resume_from).items == new.cancellations


def test_a_malformed_history_cursor_is_a_validation_error(storage: Storage, history: list[Cancellation]) -> None:
    with storage.transaction() as tx, pytest.raises(ValidationError) as caught:
        tx.list_cancellations(first=5, after="garbage")
    assert caught.value.field == "after"
