"""Jobs and schedules; ``advance_job`` lets exactly one of several schedulers take a slot."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from core import Job, NotFoundError, Schedule, Shop, Storage, ValidationError

from ..factories import T0


def test_a_job_is_created_once_per_shop_and_kind(storage: Storage, shop: Shop) -> None:
    schedule = Schedule(cron="*/15 * * * *", timezone="Europe/Berlin")
    with storage.transaction() as tx:
        job = tx.create_job(shop_id=shop.id, kind="canceled-items", schedule=schedule, next_run_at=T0)
        with pytest.raises(ValidationError) as caught:
            tx.create_job(shop_id=shop.id, kind="canceled-items", schedule=schedule, next_run_at=None)
        assert caught.value.field == "kind"
    assert (job.shop_id, job.shop, job.kind, job.schedule) == (shop.id, "north", "canceled-items", schedule)
    assert (job.paused, job.skip_next, job.next_run_at) == (False, False, T0)
    with storage.transaction() as tx:
        assert tx.get_job(job.id) == job
        assert tx.find_job(shop.id, "canceled-items") == job
        assert tx.find_job(shop.id, "other") is None
        assert tx.list_jobs() == [job]
        assert tx.list_jobs(shop.id) == [job]


def test_jobs_need_an_existing_shop(storage: Storage) -> None:
    with storage.transaction() as tx:
        with pytest.raises(NotFoundError, match="shop 404"):
            tx.create_job(shop_id=404, kind="k", schedule=Schedule(), next_run_at=None)
        with pytest.raises(NotFoundError, match="shop 404"):
            tx.list_jobs(404)


def test_schedule_pause_skip_and_next_run_can_change(storage: Storage, job: Job) -> None:
    later = T0 + timedelta(hours=1)
    with storage.transaction() as tx:
        changed = tx.update_job(
            job.id, schedule=Schedule(cron="0 * * * *"), paused=True, skip_next=True, next_run_at=later
        )
    assert (changed.schedule, changed.paused, changed.skip_next, changed.next_run_at) == (
        Schedule(cron="0 * * * *"), True, True, later,
    )  # fmt: skip
    assert changed.updated_at >= job.updated_at
    with storage.transaction() as tx:
        assert tx.get_job(job.id) == changed
        with pytest.raises(ValidationError) as caught:
            tx.update_job(job.id, kind="renamed")
        assert caught.value.field == "kind"
        with pytest.raises(NotFoundError, match="job 404"):
            tx.update_job(404, paused=True)


def test_due_jobs_are_unpaused_jobs_whose_time_has_come(storage: Storage, shop: Shop, other_shop: Shop) -> None:
    with storage.transaction() as tx:
        due = tx.create_job(shop_id=shop.id, kind="a", schedule=Schedule(every_seconds=60), next_run_at=T0)
        exactly_now = tx.create_job(shop_id=other_shop.id, kind="a", schedule=Schedule(every_seconds=60),
                                    next_run_at=T0 + timedelta(minutes=5))  # fmt: skip
        tx.create_job(
            shop_id=shop.id, kind="later", schedule=Schedule(every_seconds=60), next_run_at=T0 + timedelta(hours=1)
        )
        tx.create_job(shop_id=shop.id, kind="unscheduled", schedule=Schedule(), next_run_at=None)
        paused = tx.create_job(shop_id=shop.id, kind="paused", schedule=Schedule(every_seconds=60), next_run_at=T0)
        tx.update_job(paused.id, paused=True)
    with storage.transaction() as tx:
        assert [j.id for j in tx.due_jobs(T0 + timedelta(minutes=5))] == [due.id, exactly_now.id]


def test_advancing_a_job_is_a_compare_and_set_on_next_run_at(storage: Storage, job: Job) -> None:
    slot, following = T0, T0 + timedelta(minutes=5)
    with storage.transaction() as tx:
        assert tx.advance_job(job.id, expected_next_run_at=slot, next_run_at=following, skip_next=False)
        # a second scheduler that read the old value loses
        assert not tx.advance_job(job.id, expected_next_run_at=slot, next_run_at=following)
        with pytest.raises(NotFoundError, match="job 404"):
            tx.advance_job(404, expected_next_run_at=slot, next_run_at=following)
    with storage.transaction() as tx:
        assert tx.get_job(job.id).next_run_at == following  # type: ignore[union-attr]


def test_advance_job_sets_skip_next(storage: Storage, job: Job) -> None:
    with storage.transaction() as tx:
        tx.update_job(job.id, skip_next=True)
        assert tx.advance_job(job.id, expected_next_run_at=T0, next_run_at=T0 + timedelta(minutes=5), skip_next=False)
        assert tx.get_job(job.id).skip_next is False  # type: ignore[union-attr]


def test_two_schedulers_racing_for_one_slot_exactly_one_wins(storage: Storage, job: Job) -> None:
    start = threading.Barrier(2)
    outcomes: list[bool] = []

    def scheduler(offset_minutes: int) -> None:
        start.wait()
        with storage.transaction() as tx:
            outcomes.append(
                tx.advance_job(job.id, expected_next_run_at=T0, next_run_at=T0 + timedelta(minutes=offset_minutes))
            )

    threads = [threading.Thread(target=scheduler, args=(minutes,)) for minutes in (5, 10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == [False, True]
