"""Read-only units of work, and the batch lookups the API's DataLoaders use.

``storage.read()`` sees what writers committed, never takes a write lock (a reader can start
while a writer holds one), reads one snapshot, and refuses writes. Every batch lookup answers
many ids in one call and leaves unknown ids out.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from core import (
    ApiToken,
    Job,
    JobRunStatus,
    NewShop,
    OrderQuery,
    RunTrigger,
    Schedule,
    Shop,
    Storage,
    StorageError,
    StorageTx,
    TokenRole,
)

from ..factories import T0, at, judged, line, order


def test_a_read_sees_committed_work_and_satisfies_the_protocol(storage: Storage, shop: Shop) -> None:
    with storage.read() as tx:
        assert isinstance(tx, StorageTx)
        assert tx.get_shop_by_name("north") == shop  # an ORM lookup
        assert tx.list_orders(OrderQuery(), first=5).items == ()  # a Core listing
        assert tx.get_shop(404) is None


def test_a_read_refuses_writes_and_changes_nothing(storage: Storage, shop: Shop) -> None:
    with pytest.raises(StorageError), storage.read() as tx:
        tx.add_shop(NewShop(name="sneaky", url="https://sneaky.myshopify.com", api_version="2026-07"))
    with pytest.raises(StorageError), storage.read() as tx:
        tx.apply_page(shop_id=shop.id, run_id=None, verdicts=judged(order(1, line(10))), now=T0)
    with storage.read() as tx:
        assert [s.name for s in tx.list_shops()] == ["north"]
        assert tx.count_orders(OrderQuery()) == 0
    with storage.transaction() as tx:  # writers are not affected by the readers before them
        tx.add_shop(NewShop(name="fine", url="https://fine.myshopify.com", api_version="2026-07"))
    with storage.read() as tx:
        assert [s.name for s in tx.list_shops()] == ["north", "fine"]


def test_a_read_does_not_wait_for_a_writer(storage: Storage, shop: Shop) -> None:
    holding, release = threading.Event(), threading.Event()

    def writer() -> None:
        with storage.transaction() as tx:
            tx.apply_page(shop_id=shop.id, run_id=None, verdicts=judged(order(1, line(10))), now=T0)
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert holding.wait(10)
        with storage.read() as tx:  # on SQLite a BEGIN IMMEDIATE here would wait for the writer
            assert tx.count_orders(OrderQuery()) == 0  # its work is not committed yet
    finally:
        release.set()
        thread.join(10)
    with storage.read() as tx:
        assert tx.count_orders(OrderQuery()) == 1


def test_a_read_is_one_snapshot(storage: Storage, shop: Shop) -> None:
    with storage.transaction() as tx:
        tx.apply_page(shop_id=shop.id, run_id=None, verdicts=judged(order(1, line(10))), now=T0)
    with storage.read() as tx:
        assert tx.count_orders(OrderQuery()) == 1
        writer = threading.Thread(target=lambda: _store(storage, shop, order(2, line(20))))
        writer.start()
        writer.join(10)
        assert tx.count_orders(OrderQuery()) == 1  # committed meanwhile, after this read began
    with storage.read() as tx:
        assert tx.count_orders(OrderQuery()) == 2


def _store(storage: Storage, shop: Shop, source_order) -> None:  # type: ignore[no-untyped-def]
    with storage.transaction() as tx:
        tx.apply_page(shop_id=shop.id, run_id=None, verdicts=judged(source_order), now=T0)


def test_jobs_and_runs_in_batches(storage: Storage, shop: Shop, job: Job, other_shop: Shop) -> None:
    with storage.transaction() as tx:
        other = tx.create_job(shop_id=other_shop.id, kind="canceled-items", schedule=Schedule(every_seconds=600),
                              next_run_at=T0)  # fmt: skip
        idle = tx.create_job(shop_id=shop.id, kind="other-kind", schedule=Schedule(every_seconds=600),
                             next_run_at=T0)  # fmt: skip
        runs = [tx.create_run(job_id=job.id, trigger=RunTrigger.SCHEDULE) for _ in range(4)]
        tx.update_run(runs[0].id, status=JobRunStatus.SUCCEEDED, finished_at=at(1))
        tx.update_run(runs[1].id, status=JobRunStatus.SUCCEEDED, finished_at=at(2))
        tx.update_run(runs[2].id, status=JobRunStatus.RUNNING, started_at=at(3))
        other_run = tx.create_run(job_id=other.id, trigger=RunTrigger.MANUAL)
        tx.set_watermark(job.id, at(10))
    with storage.read() as tx:
        jobs = tx.get_jobs([job.id, other.id, idle.id, 404])
        assert jobs == {j: tx.get_job(j) for j in (job.id, other.id, idle.id)}
        assert jobs[other.id].shop == "south"
        assert tx.get_runs([runs[0].id, other_run.id, 404]) == {
            runs[0].id: tx.get_run(runs[0].id), other_run.id: tx.get_run(other_run.id)}
        latest = tx.latest_runs([job.id, other.id, idle.id, 404])
        assert {j: r.id for j, r in latest.items()} == {job.id: runs[3].id, other.id: other_run.id}
        assert latest[job.id] == tx.latest_run(job.id)
        succeeded = tx.latest_runs([job.id, other.id], status=JobRunStatus.SUCCEEDED)
        assert {j: r.id for j, r in succeeded.items()} == {job.id: runs[1].id}
        active = tx.active_runs_for_jobs([job.id, other.id, idle.id, 404])
        assert {j: [r.id for r in found] for j, found in active.items()} == {
            job.id: [runs[2].id, runs[3].id], other.id: [other_run.id], idle.id: [], 404: []}
        assert active[job.id] == tx.active_runs(job.id)
        assert tx.all_active_runs() == [*active[job.id], *active[other.id]]  # every job's, oldest first
        assert tx.get_watermarks([job.id, other.id, 404]) == {job.id: at(10)}
        assert tx.get_jobs([]) == {} and tx.latest_runs([]) == {} and tx.get_watermarks([]) == {}


def test_cancellations_and_tokens_by_id(storage: Storage, shop: Shop) -> None:
    with storage.transaction() as tx:
        stored = tx.apply_page(shop_id=shop.id, run_id=None, now=T0,
                               verdicts=judged(order(1, line(10, quantity=3, canceled=2)),
                                               order(2, line(20, quantity=2, canceled=1))))  # fmt: skip
        token = tx.create_api_token(name="ci", role=TokenRole.READ, token_hash="sha256:abc")
        revoked = tx.create_api_token(name="old", role=TokenRole.ADMIN, token_hash="sha256:def")
        revoked = tx.revoke_api_token(revoked.id, now=T0 + timedelta(minutes=1))
    first, second = stored.cancellations
    with storage.read() as tx:
        assert tx.get_cancellations([second.id, first.id, 404]) == {first.id: first, second.id: second}
        history = tx.list_cancellations(first=10).items
        assert tx.get_cancellations([c.id for c in history]) == {c.id: c for c in history}
        assert tx.get_api_token(token.id) == token
        found: ApiToken | None = tx.get_api_token(revoked.id)
        assert found == revoked and found.revoked_at is not None  # revoked ones too, unlike find_api_token
        assert tx.get_api_token(404) is None


