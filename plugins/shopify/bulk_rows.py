"""Re-assembling an ungrouped bulk result in constant memory.

With ``groupObjects: false`` (Shopify's default from API 2026-01, and the faster setting: grouping
"is costly, causes bulk operations to take longer") a child row (``__parentId``) may arrive
anywhere in the file, before or after its parent and far from it. No order is known complete
before the last row, and 1,000,000 orders do not fit in memory, so the rows are spilled to a
temporary SQLite file as they download (raw bytes, with the parent's id and the row's position)
and read back afterwards one page of orders at a time, each with its children, roots in the
order the file gave them. Memory is SQLite's page cache and one page of orders; the disk holds
the result once (about its download size), and the file is deleted when the reader is done.

SQLite runs in a worker thread (``asyncio.to_thread``) a batch at a time, so the event loop keeps
the other slices and bulk queries of the run moving while rows are written.
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

BATCH_ROWS = 1_000
"""Rows written per transaction (and per hop to the worker thread): about 0.5 MB of rows held."""
CACHE_KIB = 16_384
"""SQLite's page cache for the spill: bounds its memory whatever the result's size."""
PARAMETERS = 500
"""Parent ids per ``IN (...)``: well under SQLite's bound on a statement's parameters."""


class RowSpill:
    """A temporary store of one result's rows: roots in file order, children by parent id."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="sync-gateway-bulk-")
        self._db = sqlite3.connect(Path(self._dir.name) / "rows.db", check_same_thread=False,
                                   isolation_level=None, cached_statements=8)
        # A scratch file: nothing to recover after a crash, so no journal and no fsync.
        for pragma in ("journal_mode=OFF", "synchronous=OFF", f"cache_size=-{CACHE_KIB}"):
            self._db.execute(f"PRAGMA {pragma}")
        self._db.execute("CREATE TABLE roots (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, row BLOB NOT NULL)")
        self._db.execute("CREATE TABLE children (seq INTEGER PRIMARY KEY, parent TEXT NOT NULL, row BLOB NOT NULL)")
        self._roots: list[tuple[str, bytes]] = []
        self._children: list[tuple[str, bytes]] = []

    async def add(self, raw: bytes, id_: str, parent: str | None) -> None:
        """Keep one row: a root (``parent`` None, ``id_`` its id) or a child of ``parent``."""
        if parent is None:
            self._roots.append((id_, raw))
        else:
            self._children.append((parent, raw))
        if len(self._roots) + len(self._children) >= BATCH_ROWS:
            await self._flush()

    async def _flush(self) -> None:
        roots, children, self._roots, self._children = self._roots, self._children, [], []
        if roots or children:
            await asyncio.to_thread(self._write, roots, children)

    def _write(self, roots: list[tuple[str, bytes]], children: list[tuple[str, bytes]]) -> None:
        self._db.execute("BEGIN")
        self._db.executemany("INSERT INTO roots (id, row) VALUES (?, ?)", roots)
        self._db.executemany("INSERT INTO children (parent, row) VALUES (?, ?)", children)
        self._db.execute("COMMIT")

    async def clear(self) -> None:
        """Forget every row (a broken download is read again from the start)."""
        self._roots, self._children = [], []
        await asyncio.to_thread(self._db.executescript, "DELETE FROM roots; DELETE FROM children;")

    async def finish(self) -> int:
        """Write what is buffered and index the children; returns the child rows whose parent
        is no root of the file (a result that cannot be trusted when not zero)."""
        await self._flush()
        return await asyncio.to_thread(self._finish)

    def _finish(self) -> int:
        self._db.execute("CREATE INDEX IF NOT EXISTS roots_by_id ON roots (id)")
        self._db.execute("CREATE INDEX IF NOT EXISTS children_by_parent ON children (parent, seq)")
        found = self._db.execute(
            "SELECT count(*) FROM children WHERE NOT EXISTS (SELECT 1 FROM roots WHERE roots.id = children.parent)"
        ).fetchone()
        return int(found[0])

    async def orders(self, per_page: int) -> AsyncIterator[list[tuple[bytes, list[bytes]]]]:
        """Every root row with its children's rows (in file order), ``per_page`` roots at a time
        (call :meth:`finish` first)."""
        after = 0
        while True:
            batch, after = await asyncio.to_thread(self._page, after, per_page)
            if not batch:
                return
            yield batch

    def _page(self, after: int, per_page: int) -> tuple[list[tuple[bytes, list[bytes]]], int]:
        roots = self._db.execute("SELECT seq, id, row FROM roots WHERE seq > ? ORDER BY seq LIMIT ?",
                                 (after, per_page)).fetchall()
        if not roots:
            return [], after
        kids: dict[str, list[bytes]] = {id_: [] for _, id_, _ in roots}
        ids = list(kids)
        for start in range(0, len(ids), PARAMETERS):
            chunk = ids[start:start + PARAMETERS]
            marks = ",".join("?" * len(chunk))
            for parent, row in self._db.execute(
                f"SELECT parent, row FROM children WHERE parent IN ({marks}) ORDER BY parent, seq", chunk
            ):
                kids[parent].append(row)
        return [(row, kids[id_]) for _, id_, row in roots], roots[-1][0]

    def close(self) -> None:
        self._db.close()
        self._dir.cleanup()
