"""Job runs: history rows with counts and progress, listed newest first, pruned by age."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core import Job, JobRunStatus, NotFoundError, RunProgress, RunTrigger, Shop, Storage, ValidationError

from ..factories import T0, at, judged, line, order


def test_a_run_is_created_queued_with_its_window(storage: Storage, job: Job) -> None:
    with storage.transaction() as tx:
        run = tx.create_run(job_id=job.id, trigger=RunTrigger.SCHEDULE, slot="2026-03-02T09:00Z",
                            window_from=T0 - timedelta(hours=1), window_thru=T0)  # fmt: skip
    assert (run.job_id, run.status, run.trigger, run.slot) == (
        job.id,
        JobRunStatus.QUEUED,
        RunTrigger.SCHEDULE,
        "2026-03-02T09:00Z",
    )
    assert (run.window_from, run.window_thru) == (T0 - timedelta(hours=1), T0)
    assert run.queued_at is not None and run.started_at is None and run.progress is None
    assert (run.orders_seen, run.units_canceled, run.api_cost) == (0, 0, 0.0)
    with storage.transaction() as tx:
        assert tx.get_run(run.id) == run
        assert tx.get_run(404) is None
        with pytest.raises(NotFoundError, match="job 404"):
            tx.create_run(job_id=404, trigger=RunTrigger.MANUAL)


PROGRESS = RunProgress(pages=1, orders_seen=250, items_canceled=3, units_canceled=4, orders_canceled=1,
                       checkpoint=T0 + timedelta(minutes=1), api_cost=152.5, throttled=2, retries=1,
                       bucket_available=480.0, bucket_maximum=2000.0, elapsed_seconds=119.5)
"""Every field set, so the round trip proves each one is stored."""


def test_a_run_records_status_counts_progress_and_error(storage: Storage, job: Job) -> None:
    with storage.transaction() as tx:
        run = tx.create_run(job_id=job.id, trigger=RunTrigger.MANUAL)
        tx.update_run(run.id, status=JobRunStatus.RUNNING, started_at=T0, progress=RunProgress(pages=1, orders_seen=250))
        done = tx.update_run(
            run.id, status="FAILED", finished_at=T0 + timedelta(minutes=2), orders_seen=250, items_canceled=3,
            units_canceled=4, orders_canceled=1, pages=1, api_cost=152.5, throttled=2, retries=1,
            error="upstream unavailable", rq_job_id="rq-1", progress=PROGRESS,
        )  # fmt: skip
    with storage.transaction() as tx:
        assert tx.get_run(run.id) == done
    assert done.status is JobRunStatus.FAILED
    assert (done.started_at, done.orders_seen, done.api_cost, done.error) == (T0, 250, 152.5, "upstream unavailable")
    assert done.progress == PROGRESS


def test_only_run_fields_can_change(storage: Storage, job: Job) -> None:
    with storage.transaction() as tx:
        run = tx.create_run(job_id=job.id, trigger=RunTrigger.MANUAL)
        with pytest.raises(ValidationError) as caught:
            tx.update_run(run.id, job_id=999)
        assert caught.value.field == "job_id"
        with pytest.raises(ValidationError) as caught:
            tx.update_run(run.id, status="EXPLODED")
        assert caught.value.field == "status"
        with pytest.raises(NotFoundError, match="run 404"):
            tx.update_run(404, pages=1)


def test_runs_are_listed_newest_first_a_page_at_a_time(storage: Storage, job: Job) -> None:
    with storage.transaction() as tx:
        ids = [tx.create_run(job_id=job.id, trigger=RunTrigger.SCHEDULE).id for _ in range(7)]
        tx.update_run(ids[1], status=JobRunStatus.SUCCEEDED)
        tx.update_run(ids[4], status=JobRunStatus.SUCCEEDED)
    seen: list[int] = []
    after = None
    with storage.transaction() as tx:
        while True:
            page = tx.list_runs(job.id, first=3, after=after)
            seen += [run.id for run in page.items]
            assert page.cursors == tuple(str(run.id) for run in page.items)
            assert page.has_previous == (after is not None)
            if not page.has_next:
                break
            after = page.items[-1].id
        assert seen == list(reversed(ids))
        succeeded = tx.list_runs(job.id, first=10, status=JobRunStatus.SUCCEEDED)
        assert [run.id for run in succeeded.items] == [ids[4], ids[1]] and not succeeded.has_next
        assert tx.latest_run(job.id).id == ids[-1]  # type: ignore[union-attr]
        assert tx.latest_run(job.id, status=JobRunStatus.SUCCEEDED).id == ids[4]  # type: ignore[union-attr]
        assert tx.latest_run(job.id, status=JobRunStatus.FAILED) is None
        with pytest.raises(NotFoundError, match="job 404"):
            tx.list_runs(404, first=3)


def test_active_runs_are_the_queued_and_running_ones(storage: Storage, job: Job) -> None:
    with storage.transaction() as tx:
        queued = tx.create_run(job_id=job.id, trigger=RunTrigger.SCHEDULE)
        running = tx.create_run(job_id=job.id, trigger=RunTrigger.MANUAL, status=JobRunStatus.RUNNING)
        tx.create_run(job_id=job.id, trigger=RunTrigger.MANUAL, status=JobRunStatus.SKIPPED)
        assert [run.id for run in tx.active_runs(job.id)] == [queued.id, running.id]


def test_pruning_deletes_finished_runs_before_the_cutoff_and_keeps_their_history(
    storage: Storage, shop: Shop, job: Job
) -> None:
    with storage.transaction() as tx:
        old = tx.create_run(job_id=job.id, trigger=RunTrigger.SCHEDULE)
        tx.update_run(old.id, status=JobRunStatus.SUCCEEDED, finished_at=T0)
        recent = tx.create_run(job_id=job.id, trigger=RunTrigger.SCHEDULE)
        tx.update_run(recent.id, status=JobRunStatus.FAILED, finished_at=T0 + timedelta(days=2))
        still_running = tx.create_run(job_id=job.id, trigger=RunTrigger.SCHEDULE, status=JobRunStatus.RUNNING)
        result = tx.apply_page(
            shop_id=shop.id, run_id=old.id, verdicts=judged(order(1, line(1, canceled=1))), now=at(1)
        )
    with storage.transaction() as tx:
        assert tx.prune_runs(finished_before=T0 + timedelta(days=1)) == 1
        assert tx.get_run(old.id) is None
        assert tx.get_run(recent.id) is not None and tx.get_run(still_running.id) is not None
        [kept] = tx.cancellations_for_items([result.cancellations[0].item_id])[result.cancellations[0].item_id]
        assert kept.run_id is None and kept.quantity == 1
