"""The single-flight lease of a job, and the watermark its successful runs advance.

Each lease operation is one conditional UPDATE of the job row, so the database decides who holds
it: two workers racing for a free lease both run the same UPDATE, the row lock (PostgreSQL) or
the write lock (SQLite) orders them, and the second one's WHERE no longer matches.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select, update

from .base import TxBase, aware, chunks, utcnow
from .tables import JobRow, jobs, watermarks


class LeasesMixin(TxBase):
    def acquire_lease(self, job_id: int, *, run_id: int, holder: str, now: datetime, expires_at: datetime) -> bool:
        aware(now, "now")
        aware(expires_at, "expires_at")
        free = or_(
            JobRow.lease_run_id.is_(None),
            JobRow.lease_expires_at.is_(None),
            JobRow.lease_expires_at <= now,
            JobRow.lease_run_id == run_id,  # re-acquiring our own lease is a renewal
        )
        stmt = (
            update(JobRow)
            .where(JobRow.id == job_id, free)
            .values(lease_run_id=run_id, lease_holder=holder, lease_expires_at=expires_at)
        )
        return self._one_row_or_check(self._rowcount(stmt), job_id)

    def renew_lease(self, job_id: int, *, run_id: int, expires_at: datetime) -> bool:
        """Extend the lease while ``run_id`` still holds it (even if it lapsed and nobody took it)."""
        aware(expires_at, "expires_at")
        stmt = (
            update(JobRow).where(JobRow.id == job_id, JobRow.lease_run_id == run_id).values(lease_expires_at=expires_at)
        )
        return self._one_row_or_check(self._rowcount(stmt), job_id)

    def release_lease(self, job_id: int, *, run_id: int) -> None:
        """Give the lease up; a no-op when ``run_id`` no longer holds it."""
        stmt = (
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.lease_run_id == run_id)
            .values(lease_run_id=None, lease_holder=None, lease_expires_at=None)
        )
        self._one_row_or_check(self._rowcount(stmt), job_id)

    def get_watermark(self, job_id: int) -> datetime | None:
        return self._conn.scalar(select(watermarks.c.thru).where(watermarks.c.job_id == job_id))

    def get_watermarks(self, job_ids: Sequence[int]) -> dict[int, datetime]:
        found: dict[int, datetime] = {}
        for chunk in chunks(job_ids):
            stmt = select(watermarks.c.job_id, watermarks.c.thru).where(watermarks.c.job_id.in_(chunk))
            found.update((job_id, thru) for job_id, thru in self._conn.execute(stmt))
        return found

    def set_watermark(self, job_id: int, thru: datetime) -> None:
        aware(thru, "thru")
        self._require(jobs, job_id, "job")
        stmt = self._insert(watermarks).values(job_id=job_id, thru=thru, updated_at=utcnow())
        if self._is_mysql:
            from sqlalchemy import case

            later = watermarks.c.thru < stmt.inserted.thru  # never backwards
            # MySQL assigns left to right, each seeing the ones before: updated_at first
            self._session.execute(stmt.on_duplicate_key_update([
                ("updated_at", case((later, stmt.inserted.updated_at), else_=watermarks.c.updated_at)),
                ("thru", case((later, stmt.inserted.thru), else_=watermarks.c.thru)),
            ]))
            return
        stmt = stmt.on_conflict_do_update(
            index_elements=[watermarks.c.job_id],
            set_={"thru": stmt.excluded.thru, "updated_at": stmt.excluded.updated_at},
            where=watermarks.c.thru < stmt.excluded.thru,  # never backwards
        )
        self._session.execute(stmt)

    def _one_row_or_check(self, rowcount: int, job_id: int) -> bool:
        if rowcount == 1:
            return True
        self._require(jobs, job_id, "job")
        return False
