"""The cancellation history integrators poll: in commit order, a page at a time, and a poller
resuming from its last cursor never misses a row, however the writers' commits interleave."""

from __future__ import annotations

import pytest

from core import Cancellation, Shop, Storage, ValidationError

from ..factories import at, judged, line, order


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


def _resume(storage: Storage, after: str | None) -> tuple[list[Cancellation], str | None]:
    """One poll as an integrator makes it: everything after its cursor, and its new cursor."""
    with storage.read() as tx:
        page = tx.list_cancellations(first=100, after=after)
    return list(page.items), page.cursors[-1] if page.cursors else after


def _apply(storage: Storage, shop: Shop, n: int, minute: float) -> tuple[Cancellation, ...]:
    with storage.transaction() as tx:
        return tx.apply_page(shop_id=shop.id, run_id=None, verdicts=judged(order(n, line(n * 10, canceled=1))),
                             now=at(minute)).cancellations


def test_a_poller_resuming_from_its_last_cursor_sees_only_newer_rows(
    storage: Storage, shop: Shop, history: list[Cancellation]
) -> None:
    seen, cursor = _resume(storage, None)
    assert len(seen) == len(history)
    assert _resume(storage, cursor) == ([], cursor)
    new = _apply(storage, shop, 90, 40)
    assert _resume(storage, cursor)[0] == list(new)


def test_removing_the_newest_rows_does_not_let_new_ones_hide_behind_a_cursor(
    storage: Storage, shop: Shop, other_shop: Shop
) -> None:
    _apply(storage, shop, 1, 1)
    _apply(storage, other_shop, 2, 2)  # the newest rows belong to other_shop...
    _, cursor = _resume(storage, None)
    with storage.transaction() as tx:
        tx.remove_shop(other_shop.id)  # ...which goes with its history
    new = _apply(storage, shop, 3, 3)
    assert _resume(storage, cursor)[0] == list(new)  # ids are not handed out twice


def test_a_malformed_history_cursor_is_a_validation_error(storage: Storage, history: list[Cancellation]) -> None:
    with storage.transaction() as tx, pytest.raises(ValidationError) as caught:
        tx.list_cancellations(first=5, after="garbage")
    assert caught.value.field == "after"


def _page_back(storage: Storage, size: int, **filters: object) -> list[Cancellation]:
    """Newest first, page after page, as the job manager's Cancellations screen reads it."""
    seen: list[Cancellation] = []
    after = None
    with storage.read() as tx:
        while True:
            page = tx.list_cancellations(first=size, after=after, reverse=True, **filters)  # type: ignore[arg-type]
            assert page.has_previous is (after is not None)
            seen += page.items
            if not page.has_next:
                return seen
            after = page.cursors[-1]


def test_newest_first_lists_the_history_in_reverse_commit_order_exactly_once(
    storage: Storage, history: list[Cancellation]
) -> None:
    oldest_first = _poll(storage, 100)
    for size in (1, 5, 100):
        assert _page_back(storage, size) == oldest_first[::-1]


def test_newest_first_keeps_the_shop_and_time_filters(
    storage: Storage, shop: Shop, other_shop: Shop, history: list[Cancellation]
) -> None:
    assert _page_back(storage, 3, shop_id=shop.id) == _poll(storage, 3, shop_id=shop.id)[::-1]
    assert _page_back(storage, 3, since=at(10), until=at(30)) == _poll(storage, 3, since=at(10), until=at(30))[::-1]
    assert _page_back(storage, 3, shop_id=other_shop.id, until=at(30)) == []


def test_rows_recorded_while_paging_back_do_not_shift_the_older_pages(
    storage: Storage, shop: Shop, history: list[Cancellation]
) -> None:
    with storage.read() as tx:
        first = tx.list_cancellations(first=5, reverse=True)
    _apply(storage, shop, 90, 40)  # newer than the page being read back from
    with storage.read() as tx:
        second = tx.list_cancellations(first=100, after=first.cursors[-1], reverse=True)
    assert [*first.items, *second.items] == _poll(storage, 100)[:-1][::-1]


def test_a_cursor_from_newest_first_pages_back_and_one_past_the_oldest_row_is_empty(
    storage: Storage, history: list[Cancellation]
) -> None:
    with storage.read() as tx:
        oldest = tx.list_cancellations(first=100, reverse=True)
        assert not oldest.has_next
        beyond = tx.list_cancellations(first=100, after=oldest.cursors[-1], reverse=True)
    assert (beyond.items, beyond.has_next, beyond.has_previous) == ((), False, True)
