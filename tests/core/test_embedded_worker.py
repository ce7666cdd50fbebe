"""The embedded queue's worker thread (serve and demo without Redis) costs nothing while the queue
is empty, and still runs what is enqueued."""

from __future__ import annotations

import time
from pathlib import Path

from core.queues import QueueBackend
from core.settings import Settings


def test_an_idle_embedded_worker_starts_no_worker_and_still_runs_a_job(tmp_path: Path) -> None:
    queue = QueueBackend.from_settings(Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'q.db'}"))
    assert queue.embedded
    queue.start_embedded_worker(poll_seconds=0.02)
    try:
        time.sleep(0.5)  # 25 polls of an empty queue
        # every RQ worker life registers "rq:worker:<name>" (kept a while after its death)
        assert list(queue.connection.scan_iter("rq:worker:*")) == []
        job = queue.queue.enqueue("builtins.len", [1, 2, 3])
        deadline = time.monotonic() + 10
        while job.get_status(refresh=True) != "finished" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert job.get_status() == "finished" and job.return_value() == 3
    finally:
        queue.stop()


def test_the_embedded_worker_also_runs_what_waits_on_the_backfill_queue(tmp_path: Path) -> None:
    # Backfills wait on a queue of their own, taken when the main one is empty: the idle check
    # must look at both, or a backfill queued alone would wait for ever (seen on the merge).
    queue = QueueBackend.from_settings(Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'q.db'}"))
    assert queue.backfills is not None
    queue.start_embedded_worker(poll_seconds=0.02)
    try:
        job = queue.backfills.enqueue("builtins.len", [1, 2])
        deadline = time.monotonic() + 10
        while job.get_status(refresh=True) != "finished" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert job.get_status() == "finished" and job.return_value() == 2
    finally:
        queue.stop()
