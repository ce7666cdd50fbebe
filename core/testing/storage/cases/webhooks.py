"""Webhook deliveries are remembered per shop, so a retried delivery is processed once."""

from __future__ import annotations

import threading

import pytest

from core import NotFoundError, Shop, Storage

from ..factories import T0


def test_a_delivery_is_new_once_per_shop(storage: Storage, shop: Shop, other_shop: Shop) -> None:
    with storage.transaction() as tx:
        assert tx.record_delivery(shop_id=shop.id, delivery_id="abc", topic="orders/updated", received_at=T0)
        assert not tx.record_delivery(shop_id=shop.id, delivery_id="abc", topic="orders/updated", received_at=T0)
        assert tx.record_delivery(shop_id=other_shop.id, delivery_id="abc", topic="orders/updated", received_at=T0)
    with storage.transaction() as tx:
        assert not tx.record_delivery(shop_id=shop.id, delivery_id="abc", topic="orders/cancelled", received_at=T0)


def test_a_delivery_needs_an_existing_shop(storage: Storage) -> None:
    with storage.transaction() as tx, pytest.raises(NotFoundError, match="shop 404"):
        tx.record_delivery(shop_id=404, delivery_id="abc", topic="orders/updated", received_at=T0)


def test_two_requests_delivering_the_same_id_at_once_see_it_new_exactly_once(storage: Storage, shop: Shop) -> None:
    start = threading.Barrier(4)
    outcomes: list[bool] = []

    def receive() -> None:
        start.wait()
        with storage.transaction() as tx:
            outcomes.append(
                tx.record_delivery(shop_id=shop.id, delivery_id="dup", topic="orders/updated", received_at=T0)
            )

    threads = [threading.Thread(target=receive) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == [False, False, False, True]
