"""Shops: created, changed, listed and removed with everything that belongs to them."""

from __future__ import annotations

import pytest

from core import (
    JobRunStatus,
    NewShop,
    NotFoundError,
    RunTrigger,
    Schedule,
    Shop,
    Storage,
    ValidationError,
)

from ..factories import T0, at, judged, line, order


def test_a_new_shop_is_stored_with_its_settings(storage: Storage) -> None:
    with storage.transaction() as tx:
        shop = tx.add_shop(
            NewShop(name="north", url="https://north.myshopify.com", api_version="2026-04", options={"page_size": 100})
        )
    with storage.transaction() as tx:
        assert tx.get_shop(shop.id) == shop
        assert tx.get_shop_by_name("north") == shop
        assert tx.list_shops() == [shop]
    assert (shop.name, shop.source, shop.url, shop.api_version) == (
        "north",
        "shopify",
        "https://north.myshopify.com",
        "2026-04",
    )
    assert shop.options == {"page_size": 100}
    assert shop.created_at.tzinfo is not None


def test_shop_names_are_unique_and_the_transaction_stays_usable(storage: Storage, shop: Shop) -> None:
    with storage.transaction() as tx:
        with pytest.raises(ValidationError) as caught:
            tx.add_shop(NewShop(name=shop.name, url="https://elsewhere.myshopify.com", api_version="2026-07"))
        assert caught.value.field == "name"
        tx.add_shop(NewShop(name="east", url="https://east.myshopify.com", api_version="2026-07"))
    with storage.transaction() as tx:
        assert [s.name for s in tx.list_shops()] == ["north", "east"]


def test_a_shop_without_an_api_version_is_refused_and_nothing_is_stored(storage: Storage) -> None:
    # NewShop leaves the version to the caller (the source's default); a store must not guess.
    with storage.transaction() as tx:
        with pytest.raises(ValidationError) as caught:
            tx.add_shop(NewShop(name="east", url="https://east.myshopify.com"))
        assert caught.value.field == "api_version"
    with storage.read() as tx:
        assert tx.list_shops() == []


def test_the_access_token_is_never_part_of_a_shop_record(storage: Storage, shop: Shop) -> None:
    assert shop.has_token
    assert not hasattr(shop, "token")
    assert "shpat_north" not in repr(shop)
    with storage.transaction() as tx:
        credentials = tx.shop_credentials(shop.id)
    assert credentials.token == "shpat_north"
    assert "shpat_north" not in repr(credentials)


def test_a_shop_reading_its_token_from_the_environment_has_no_stored_token(storage: Storage, other_shop: Shop) -> None:
    assert not other_shop.has_token
    with storage.transaction() as tx:
        credentials = tx.shop_credentials(other_shop.id)
    assert (credentials.token, credentials.token_env) == (None, "SOUTH_TOKEN")


def test_url_version_token_and_options_can_change(storage: Storage, other_shop: Shop) -> None:
    with storage.transaction() as tx:
        changed = tx.update_shop(
            other_shop.id, url="https://new.myshopify.com", api_version="2026-10", token="shpat_new", options={"x": 1}
        )
    assert (changed.url, changed.api_version, changed.has_token, changed.options) == (
        "https://new.myshopify.com", "2026-10", True, {"x": 1},
    )  # fmt: skip
    with storage.transaction() as tx:
        assert tx.get_shop(other_shop.id) == changed
        assert tx.shop_credentials(other_shop.id).token == "shpat_new"
        assert not tx.update_shop(other_shop.id, token=None).has_token


def test_a_shops_name_cannot_change(storage: Storage, shop: Shop) -> None:
    with storage.transaction() as tx, pytest.raises(ValidationError) as caught:
        tx.update_shop(shop.id, name="renamed")
    assert caught.value.field == "name"


def test_unknown_shop_ids_are_named_in_the_error(storage: Storage) -> None:
    with storage.transaction() as tx:
        assert tx.get_shop(404) is None
        assert tx.get_shop_by_name("nobody") is None
        for call in (
            lambda: tx.update_shop(404, url="https://x"),
            lambda: tx.remove_shop(404),
            lambda: tx.shop_credentials(404),
        ):
            with pytest.raises(NotFoundError, match="shop 404"):
                call()


def test_removing_a_shop_removes_its_jobs_runs_orders_history_and_deliveries(
    storage: Storage, shop: Shop, other_shop: Shop
) -> None:
    def populate(target: Shop, first_order: int) -> tuple[int, int, int]:
        with storage.transaction() as tx:
            job = tx.create_job(
                shop_id=target.id, kind="canceled-items", schedule=Schedule(every_seconds=60), next_run_at=T0
            )
            run = tx.create_run(job_id=job.id, trigger=RunTrigger.MANUAL, status=JobRunStatus.RUNNING)
            tx.set_watermark(job.id, T0)
            result = tx.apply_page(
                shop_id=target.id,
                run_id=run.id,
                verdicts=judged(order(first_order, line(first_order, canceled=1))),
                now=at(5),
            )
            tx.record_delivery(shop_id=target.id, delivery_id="d-1", topic="orders/updated", received_at=T0)
        return job.id, run.id, result.cancellations[0].item_id

    job_id, run_id, item_id = populate(shop, 1)
    kept_job_id, _, kept_item_id = populate(other_shop, 2)

    with storage.transaction() as tx:
        tx.remove_shop(shop.id)
    with storage.transaction() as tx:
        assert tx.get_shop(shop.id) is None
        assert tx.get_job(job_id) is None
        assert tx.get_run(run_id) is None
        assert tx.get_watermark(job_id) is None
        assert tx.get_order_by_source_id(shop.id, "gid://shopify/Order/1") is None
        assert tx.get_items([item_id]) == {}
        assert tx.cancellations_for_items([item_id]) == {item_id: []}
        assert tx.list_cancellations(shop_id=shop.id, first=10).items == ()
        # a new shop of the same name starts clean: its delivery ids are not "seen"
        again = tx.add_shop(NewShop(name=shop.name, url=shop.url, api_version="2026-07"))
        assert tx.record_delivery(shop_id=again.id, delivery_id="d-1", topic="orders/updated", received_at=T0)
        # the other shop is untouched
        assert tx.get_job(kept_job_id) is not None
        assert len(tx.cancellations_for_items([kept_item_id])[kept_item_id]) == 1


def test_shop_names_differ_by_case_and_keep_every_character(storage: Storage) -> None:
    """Names are compared exactly, as PostgreSQL and SQLite compare text (MySQL's default
    collations ignore case), and characters outside the Basic Multilingual Plane survive."""
    with storage.transaction() as tx:
        upper = tx.add_shop(NewShop(name="North", url="https://north-upper.myshopify.com", api_version="2026-07"))
        lower = tx.add_shop(NewShop(name="north", url="https://north.myshopify.com", api_version="2026-07"))
        emoji = tx.add_shop(NewShop(name="north 🛍️ straße", url="https://emoji.myshopify.com", api_version="2026-07"))
    with storage.transaction() as tx:
        assert tx.get_shop_by_name("North") == upper
        assert tx.get_shop_by_name("north") == lower
        assert tx.get_shop_by_name("NORTH") is None
        assert tx.get_shop_by_name("north 🛍️ straße") == emoji
        assert sorted(s.name for s in tx.list_shops()) == ["North", "north", "north 🛍️ straße"]
