"""Units of work (commit, roll back, upgrade) and timestamps (aware in, the same instant out)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core import (
    NewShop,
    Schedule,
    Storage,
    StorageTx,
    ValidationError,
)

from ..factories import T0


def test_an_opened_store_and_its_transactions_satisfy_the_protocols(storage: Storage) -> None:
    assert isinstance(storage, Storage)
    with storage.transaction() as tx:
        assert isinstance(tx, StorageTx)


def test_upgrade_twice_is_harmless(storage: Storage) -> None:
    storage.upgrade()
    with storage.transaction() as tx:
        assert tx.list_shops() == []


def test_a_transaction_commits_when_its_block_ends(storage: Storage) -> None:
    with storage.transaction() as tx:
        tx.add_shop(NewShop(name="kept", url="https://kept.myshopify.com", api_version="2026-07"))
    with storage.transaction() as tx:
        assert tx.get_shop_by_name("kept") is not None


def test_a_transaction_rolls_back_when_its_block_raises(storage: Storage) -> None:
    with pytest.raises(RuntimeError), storage.transaction() as tx:
        tx.add_shop(NewShop(name="lost", url="https://lost.myshopify.com", api_version="2026-07"))
        raise RuntimeError("boom")
    with storage.transaction() as tx:
        assert tx.get_shop_by_name("lost") is None


def test_timestamps_come_back_as_the_same_instant_in_utc(storage: Storage) -> None:
    in_berlin = datetime(2026, 3, 2, 10, 30, 15, 123456, tzinfo=timezone(timedelta(hours=1)))
    with storage.transaction() as tx:
        shop = tx.add_shop(NewShop(name="tz", url="https://tz.myshopify.com", api_version="2026-07"))
        job = tx.create_job(shop_id=shop.id, kind="k", schedule=Schedule(every_seconds=60), next_run_at=in_berlin)
    with storage.transaction() as tx:
        stored = tx.get_job(job.id)
    assert stored is not None and stored.next_run_at == in_berlin
    assert stored.next_run_at.tzinfo is not None and stored.next_run_at.utcoffset() == timedelta(0)
    assert stored.created_at.tzinfo is not None and stored.created_at.utcoffset() == timedelta(0)


def test_naive_timestamps_are_refused(storage: Storage) -> None:
    with storage.transaction() as tx:
        shop = tx.add_shop(NewShop(name="naive", url="https://naive.myshopify.com", api_version="2026-07"))
        with pytest.raises(ValidationError) as caught:
            tx.create_job(shop_id=shop.id, kind="k", schedule=Schedule(), next_run_at=T0.replace(tzinfo=None))
    assert caught.value.field == "next_run_at"
