"""On SQLite the outbox shares the gateway's database file: reading it never waits for a writer."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from cancellation_webhooks import outbox


def test_reading_the_outbox_does_not_wait_for_a_writer(tmp_path: Path) -> None:
    path = tmp_path / "gateway.db"
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")  # as the gateway's storage sets it (it stays with the file)
    engine = outbox.open_outbox(f"sqlite:///{path}")
    writer.execute("BEGIN IMMEDIATE")  # the gateway in the middle of storing a page
    try:
        started = time.monotonic()
        assert outbox.counts(engine) == {"pending": 0, "delivered": 0, "dead": 0}
        assert outbox.listing(engine) == []
        assert time.monotonic() - started < 5  # a write lock taken to read would wait out its 30 s
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        engine.dispose()
