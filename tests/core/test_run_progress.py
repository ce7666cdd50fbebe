"""A run's progress is one typed record (core.RunProgress); its stored JSON form is the one
rows and queue entries have always had, so rows written before the record existed still read."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core import RunProgress, RunTrigger, ValidationError
from core.jobcontrol import add_shop
from core.models import NewShop
from core.runtime import Runtime

from ..harness import fast_settings

STORED_BEFORE = {  # what core/canceled_items.py wrote as a dict, key for key
    "pages": 3, "ordersSeen": 120, "itemsCanceled": 4, "unitsCanceled": 6, "ordersCanceled": 1,
    "checkpoint": "2026-11-02T11:59:00+00:00", "apiCost": 310.0, "throttled": 1, "retries": 2,
    "bucketAvailable": 1650.5, "bucketMaximum": 2000.0, "elapsedSeconds": 2.75,
}


def test_the_stored_form_keeps_every_key_it_had() -> None:
    progress = RunProgress.from_json(STORED_BEFORE)
    assert progress == RunProgress(pages=3, orders_seen=120, items_canceled=4, units_canceled=6, orders_canceled=1,
                                   checkpoint=datetime(2026, 11, 2, 11, 59, tzinfo=UTC), api_cost=310.0,
                                   throttled=1, retries=2, bucket_available=1650.5, bucket_maximum=2000.0,
                                   elapsed_seconds=2.75)
    assert progress is not None and progress.to_json() == STORED_BEFORE


def test_older_rows_missing_keys_read_with_defaults_and_unknown_keys_are_ignored() -> None:
    assert RunProgress.from_json({"pages": 1, "ordersSeen": 50, "phase": "fetch"}) == RunProgress(
        pages=1, orders_seen=50)
    assert RunProgress.from_json({}) is None  # a run that never reported
    assert RunProgress.from_json(None) is None


def test_a_store_reads_a_row_written_in_the_old_form(tmp_path: Path, sqlite_url: str) -> None:
    import sqlalchemy

    runtime = Runtime.build(fast_settings(tmp_path, sqlite_url))
    try:
        _, (job,) = add_shop(runtime, NewShop(name="old", url="old.myshopify.com", token="t"))
        with runtime.storage.transaction() as tx:
            run = tx.create_run(job_id=job.id, trigger=RunTrigger.MANUAL)
        engine = sqlalchemy.create_engine(sqlite_url)
        with engine.begin() as db:  # as a version that stored dicts left it
            db.execute(sqlalchemy.text("UPDATE job_runs SET progress = :p WHERE id = :id"),
                       {"p": json.dumps(STORED_BEFORE), "id": run.id})
        engine.dispose()
        with runtime.storage.transaction() as tx:
            stored = tx.get_run(run.id)
        assert stored is not None and stored.progress == RunProgress.from_json(STORED_BEFORE)
    finally:
        runtime.close()


def test_a_store_refuses_progress_that_is_not_a_run_progress(tmp_path: Path, sqlite_url: str) -> None:
    runtime = Runtime.build(fast_settings(tmp_path, sqlite_url))
    try:
        _, (job,) = add_shop(runtime, NewShop(name="shop", url="shop.myshopify.com", token="t"))
        with runtime.storage.transaction() as tx:
            run = tx.create_run(job_id=job.id, trigger=RunTrigger.MANUAL)
        with pytest.raises(ValidationError, match="RunProgress, not dict") as caught:
            with runtime.storage.transaction() as tx:
                tx.update_run(run.id, pages=9, progress={"pages": 9})
        assert caught.value.field == "progress"
        with runtime.storage.transaction() as tx:
            unchanged = tx.get_run(run.id)
        assert unchanged is not None and (unchanged.pages, unchanged.progress) == (0, None)
    finally:
        runtime.close()
