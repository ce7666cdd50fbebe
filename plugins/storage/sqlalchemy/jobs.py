"""Jobs and their schedules: the database is the source of truth the schedulers read.

Several schedulers may run at once (two API processes, a worker). They never coordinate other
than through :meth:`JobsMixin.advance_job`, one compare-and-set UPDATE: whoever moves
``next_run_at`` away from the value it read wins the slot; every other scheduler sees a row
count of zero. Under PostgreSQL's READ COMMITTED the losing UPDATE waits for the winner's
commit and then re-checks its WHERE against the new row; SQLite serialises writers outright.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError

from core import Job, NotFoundError, Schedule, ValidationError

from .base import TxBase, aware, check_changes, chunks, utcnow
from .convert import to_job
from .tables import JobRow, ShopRow, jobs, shops

JOB_CHANGES = ("schedule", "paused", "skip_next", "next_run_at")


def _with_shop_name() -> Select[JobRow, str]:
    return select(JobRow, ShopRow.name).join(ShopRow, ShopRow.id == JobRow.shop_id)


class JobsMixin(TxBase):
    def create_job(self, *, shop_id: int, kind: str, schedule: Schedule, next_run_at: datetime | None) -> Job:
        self._require(shops, shop_id, "shop")
        if next_run_at is not None:
            aware(next_run_at, "next_run_at")
        now = utcnow()
        row = JobRow(
            shop_id=shop_id,
            kind=kind,
            cron=schedule.cron,
            every_seconds=schedule.every_seconds,
            timezone=schedule.timezone,
            paused=False,
            skip_next=False,
            next_run_at=next_run_at,
            created_at=now,
            updated_at=now,
        )
        try:
            with self._session.begin_nested():
                self._session.add(row)
        except IntegrityError:
            raise ValidationError(f"shop {shop_id} already has a {kind!r} job", field="kind") from None
        return self._job(row)

    def get_job(self, job_id: int) -> Job | None:
        found = self._session.execute(_with_shop_name().where(JobRow.id == job_id)).one_or_none()
        return to_job(found[0], found[1]) if found is not None else None

    def get_jobs(self, job_ids: Sequence[int]) -> dict[int, Job]:
        found: dict[int, Job] = {}
        for chunk in chunks(job_ids):
            for row, name in self._session.execute(_with_shop_name().where(JobRow.id.in_(chunk))):
                found[row.id] = to_job(row, name)
        return found

    def find_job(self, shop_id: int, kind: str) -> Job | None:
        stmt = _with_shop_name().where(JobRow.shop_id == shop_id, JobRow.kind == kind)
        found = self._session.execute(stmt).one_or_none()
        return to_job(found[0], found[1]) if found is not None else None

    def list_jobs(self, shop_id: int | None = None) -> list[Job]:
        stmt = _with_shop_name().order_by(JobRow.id)
        if shop_id is not None:
            stmt = stmt.where(JobRow.shop_id == shop_id)
        found = [to_job(row, name) for row, name in self._session.execute(stmt)]
        if not found and shop_id is not None:
            self._require(shops, shop_id, "shop")
        return found

    def update_job(self, job_id: int, **changes: Any) -> Job:
        check_changes(changes, JOB_CHANGES, "job")
        row = self._session.get(JobRow, job_id)
        if row is None:
            raise NotFoundError(f"job {job_id} does not exist")
        if "schedule" in changes:
            schedule: Schedule = changes.pop("schedule")
            row.cron, row.every_seconds, row.timezone = schedule.cron, schedule.every_seconds, schedule.timezone
        if changes.get("next_run_at") is not None:
            aware(changes["next_run_at"], "next_run_at")
        for key, value in changes.items():
            setattr(row, key, value)
        row.updated_at = utcnow()
        self._session.flush()
        return self._job(row)

    def due_jobs(self, now: datetime) -> list[Job]:
        aware(now, "now")
        stmt = (
            _with_shop_name()
            .where(JobRow.paused.is_(False), JobRow.next_run_at.is_not(None), JobRow.next_run_at <= now)
            .order_by(JobRow.next_run_at, JobRow.id)
        )
        return [to_job(row, name) for row, name in self._session.execute(stmt)]

    def advance_job(
        self, job_id: int, *, expected_next_run_at: datetime, next_run_at: datetime, skip_next: bool = False
    ) -> bool:
        aware(expected_next_run_at, "expected_next_run_at")
        aware(next_run_at, "next_run_at")
        stmt = (
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.next_run_at == expected_next_run_at)
            .values(next_run_at=next_run_at, skip_next=skip_next, updated_at=utcnow())
        )
        won = self._rowcount(stmt) == 1
        if not won:
            self._require(jobs, job_id, "job")
        return won

    def _job(self, row: JobRow) -> Job:
        shop_name = self._session.scalar(select(ShopRow.name).where(ShopRow.id == row.shop_id))
        assert shop_name is not None
        return to_job(row, shop_name)
