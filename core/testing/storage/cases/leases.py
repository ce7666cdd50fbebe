"""The single-flight lease of a job, and its watermark."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from core import Job, JobRun, NotFoundError, RunTrigger, Storage

from ..factories import T0

LEASE = timedelta(minutes=10)


@pytest.fixture
def runs(storage: Storage, job: Job) -> tuple[JobRun, JobRun]:
    with storage.transaction() as tx:
        return (tx.create_run(job_id=job.id, trigger=RunTrigger.SCHEDULE),
                tx.create_run(job_id=job.id, trigger=RunTrigger.MANUAL))  # fmt: skip


def test_a_free_lease_is_taken_and_then_refused_to_other_runs(
    storage: Storage, job: Job, runs: tuple[JobRun, JobRun]
) -> None:
    first, second = runs
    with storage.transaction() as tx:
        assert tx.acquire_lease(job.id, run_id=first.id, holder="worker-1", now=T0, expires_at=T0 + LEASE)
        assert not tx.acquire_lease(job.id, run_id=second.id, holder="worker-2", now=T0 + timedelta(minutes=1),
                                    expires_at=T0 + LEASE)  # fmt: skip
        # the holder may take it again (a retried start)
        assert tx.acquire_lease(job.id, run_id=first.id, holder="worker-1", now=T0, expires_at=T0 + LEASE)


def test_an_expired_lease_can_be_taken_over(storage: Storage, job: Job, runs: tuple[JobRun, JobRun]) -> None:
    first, second = runs
    with storage.transaction() as tx:
        tx.acquire_lease(job.id, run_id=first.id, holder="worker-1", now=T0, expires_at=T0 + LEASE)
        assert tx.acquire_lease(job.id, run_id=second.id, holder="worker-2", now=T0 + LEASE, expires_at=T0 + 2 * LEASE)
        # the old holder lost it: it can neither renew nor release the new holder's lease
        assert not tx.renew_lease(job.id, run_id=first.id, expires_at=T0 + 3 * LEASE)
        tx.release_lease(job.id, run_id=first.id)
        assert not tx.acquire_lease(
            job.id, run_id=first.id, holder="worker-1", now=T0 + LEASE, expires_at=T0 + 3 * LEASE
        )


def test_renewing_extends_and_releasing_frees_the_lease(
    storage: Storage, job: Job, runs: tuple[JobRun, JobRun]
) -> None:
    first, second = runs
    with storage.transaction() as tx:
        tx.acquire_lease(job.id, run_id=first.id, holder="worker-1", now=T0, expires_at=T0 + LEASE)
        assert tx.renew_lease(job.id, run_id=first.id, expires_at=T0 + 3 * LEASE)
        # renewed: still held after the original expiry
        assert not tx.acquire_lease(
            job.id, run_id=second.id, holder="w2", now=T0 + 2 * LEASE, expires_at=T0 + 4 * LEASE
        )
        tx.release_lease(job.id, run_id=first.id)
        assert tx.acquire_lease(job.id, run_id=second.id, holder="w2", now=T0 + 2 * LEASE, expires_at=T0 + 4 * LEASE)


def test_lease_calls_name_an_unknown_job(storage: Storage, runs: tuple[JobRun, JobRun]) -> None:
    with storage.transaction() as tx:
        with pytest.raises(NotFoundError, match="job 404"):
            tx.acquire_lease(404, run_id=runs[0].id, holder="w", now=T0, expires_at=T0 + LEASE)
        with pytest.raises(NotFoundError, match="job 404"):
            tx.renew_lease(404, run_id=runs[0].id, expires_at=T0 + LEASE)
        with pytest.raises(NotFoundError, match="job 404"):
            tx.release_lease(404, run_id=runs[0].id)


def test_two_workers_racing_for_a_free_lease_never_both_hold_it(
    storage: Storage, job: Job, runs: tuple[JobRun, JobRun]
) -> None:
    start = threading.Barrier(2)
    outcomes: dict[int, bool] = {}

    def worker(run: JobRun) -> None:
        start.wait()
        with storage.transaction() as tx:
            outcomes[run.id] = tx.acquire_lease(
                job.id, run_id=run.id, holder=f"w{run.id}", now=T0, expires_at=T0 + LEASE
            )

    threads = [threading.Thread(target=worker, args=(run,)) for run in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes.values()) == [False, True]


def test_a_worker_waits_for_an_uncommitted_lease_and_then_sees_it_taken(
    storage: Storage, job: Job, runs: tuple[JobRun, JobRun]
) -> None:
    first, second = runs
    taken = threading.Event()
    outcome: list[bool] = []

    def other_worker() -> None:
        taken.wait()
        with storage.transaction() as tx:
            outcome.append(tx.acquire_lease(job.id, run_id=second.id, holder="w2", now=T0, expires_at=T0 + LEASE))

    thread = threading.Thread(target=other_worker)
    thread.start()
    with storage.transaction() as tx:
        assert tx.acquire_lease(job.id, run_id=first.id, holder="w1", now=T0, expires_at=T0 + LEASE)
        taken.set()
        time.sleep(0.3)  # the other worker is now blocked on our row (PostgreSQL) or the write lock (SQLite)
        assert outcome == []
    thread.join(timeout=30)
    assert outcome == [False]


def test_the_watermark_starts_empty_and_never_moves_backwards(storage: Storage, job: Job) -> None:
    with storage.transaction() as tx:
        assert tx.get_watermark(job.id) is None
        tx.set_watermark(job.id, T0 + timedelta(hours=2))
        tx.set_watermark(job.id, T0 + timedelta(hours=1))
        assert tx.get_watermark(job.id) == T0 + timedelta(hours=2)
        tx.set_watermark(job.id, T0 + timedelta(hours=3))
    with storage.transaction() as tx:
        assert tx.get_watermark(job.id) == T0 + timedelta(hours=3)
        with pytest.raises(NotFoundError, match="job 404"):
            tx.set_watermark(404, T0)
