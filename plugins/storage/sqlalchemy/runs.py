"""Job runs: one history row per attempt, with its window, counts and live progress."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select

from core import JobRun, JobRunStatus, NotFoundError, RunProgress, RunTrigger, Slice, ValidationError

from .base import TxBase, aware, check_changes, check_first, chunks, utcnow
from .convert import RUN_FIELDS, to_run
from .tables import JobRunRow, jobs

RUN_CHANGES = (*RUN_FIELDS, "status", "progress")
ACTIVE = (JobRunStatus.QUEUED.value, JobRunStatus.RUNNING.value)
TIMESTAMPS = ("window_from", "window_thru", "queued_at", "started_at", "finished_at")
FINISHED = tuple(status.value for status in JobRunStatus if status.finished)


class RunsMixin(TxBase):
    def create_run(
        self,
        *,
        job_id: int,
        trigger: RunTrigger,
        status: JobRunStatus = JobRunStatus.QUEUED,
        slot: str | None = None,
        window_from: datetime | None = None,
        window_thru: datetime | None = None,
    ) -> JobRun:
        self._require(jobs, job_id, "job")
        for key, value in (("window_from", window_from), ("window_thru", window_thru)):
            if value is not None:
                aware(value, key)
        row = JobRunRow(
            job_id=job_id,
            status=JobRunStatus(status).value,
            trigger=RunTrigger(trigger).value,
            slot=slot,
            window_from=window_from,
            window_thru=window_thru,
            queued_at=utcnow(),
            orders_seen=0,
            items_canceled=0,
            units_canceled=0,
            orders_canceled=0,
            pages=0,
            api_cost=0.0,
            throttled=0,
            retries=0,
            progress={},
        )
        self._session.add(row)
        self._session.flush()
        return to_run(row)

    def get_run(self, run_id: int) -> JobRun | None:
        row = self._session.get(JobRunRow, run_id)
        return to_run(row) if row is not None else None

    def get_runs(self, run_ids: Sequence[int]) -> dict[int, JobRun]:
        found: dict[int, JobRun] = {}
        for chunk in chunks(run_ids):
            found.update((row.id, to_run(row)) for row in self._session.scalars(
                select(JobRunRow).where(JobRunRow.id.in_(chunk))))
        return found

    def update_run(self, run_id: int, **changes: Any) -> JobRun:
        check_changes(changes, RUN_CHANGES, "run")
        row = self._session.get(JobRunRow, run_id)
        if row is None:
            raise NotFoundError(f"run {run_id} does not exist")
        for key, value in changes.items():
            if key == "status":
                value = _status(value).value
            elif key == "progress":
                value = _progress_json(value)
            elif key in TIMESTAMPS and value is not None:
                aware(value, key)
            setattr(row, key, value)
        self._session.flush()
        return to_run(row)

    def list_runs(
        self, job_id: int, *, first: int, after: int | None = None, status: JobRunStatus | None = None,
        since: datetime | None = None, until: datetime | None = None,
    ) -> Slice[JobRun]:
        check_first(first)
        stmt = select(JobRunRow).where(JobRunRow.job_id == job_id).order_by(JobRunRow.id.desc()).limit(first + 1)
        if after is not None:
            stmt = stmt.where(JobRunRow.id < after)
        if status is not None:
            stmt = stmt.where(JobRunRow.status == _status(status).value)
        if since is not None or until is not None:
            when = func.coalesce(JobRunRow.started_at, JobRunRow.queued_at, JobRunRow.finished_at)
            if since is not None:
                stmt = stmt.where(when >= aware(since, "since"))
            if until is not None:
                stmt = stmt.where(when < aware(until, "until"))
        rows = list(self._session.scalars(stmt))
        if not rows and after is None:
            self._require(jobs, job_id, "job")
        page = [to_run(row) for row in rows[:first]]
        return Slice(
            items=tuple(page),
            cursors=tuple(str(run.id) for run in page),
            has_next=len(rows) > first,
            has_previous=after is not None,
        )

    def latest_run(self, job_id: int, *, status: JobRunStatus | None = None) -> JobRun | None:
        stmt = select(JobRunRow).where(JobRunRow.job_id == job_id).order_by(JobRunRow.id.desc()).limit(1)
        if status is not None:
            stmt = stmt.where(JobRunRow.status == _status(status).value)
        row = self._session.scalars(stmt).first()
        return to_run(row) if row is not None else None

    def latest_runs(self, job_ids: Sequence[int], *, status: JobRunStatus | None = None) -> dict[int, JobRun]:
        """The newest run of each job (of ``status`` if given): one max(id) per job, found through
        the (job_id, id) index."""
        found: dict[int, JobRun] = {}
        for chunk in chunks(job_ids):
            newest = select(func.max(JobRunRow.id)).where(JobRunRow.job_id.in_(chunk)).group_by(JobRunRow.job_id)
            if status is not None:
                newest = newest.where(JobRunRow.status == _status(status).value)
            rows = self._session.scalars(select(JobRunRow).where(JobRunRow.id.in_(newest.scalar_subquery())))
            found.update((row.job_id, to_run(row)) for row in rows)
        return found

    def active_runs(self, job_id: int) -> list[JobRun]:
        stmt = select(JobRunRow).where(JobRunRow.job_id == job_id, JobRunRow.status.in_(ACTIVE)).order_by(JobRunRow.id)
        found = [to_run(row) for row in self._session.scalars(stmt)]
        if not found:
            self._require(jobs, job_id, "job")
        return found

    def active_runs_for_jobs(self, job_ids: Sequence[int]) -> dict[int, list[JobRun]]:
        found: dict[int, list[JobRun]] = {job_id: [] for job_id in job_ids}
        for chunk in chunks(job_ids):
            stmt = (select(JobRunRow).where(JobRunRow.job_id.in_(chunk), JobRunRow.status.in_(ACTIVE))
                    .order_by(JobRunRow.id))  # fmt: skip
            for row in self._session.scalars(stmt):
                found[row.job_id].append(to_run(row))
        return found

    def all_active_runs(self) -> list[JobRun]:
        # The (status, finished_at) index serves it: no scan of the finished history.
        stmt = select(JobRunRow).where(JobRunRow.status.in_(ACTIVE)).order_by(JobRunRow.id)
        return [to_run(row) for row in self._session.scalars(stmt)]

    def prune_runs(self, *, finished_before: datetime) -> int:
        aware(finished_before, "finished_before")
        # History rows of a pruned run keep their data; their run_id becomes NULL (ON DELETE SET NULL).
        stmt = delete(JobRunRow).where(
            JobRunRow.status.in_(FINISHED), JobRunRow.finished_at.is_not(None), JobRunRow.finished_at < finished_before
        )
        pruned = self._rowcount(stmt.execution_options(synchronize_session=False))
        self._session.expunge_all()  # pruned rows may still sit in the identity map
        return int(pruned)


def _status(value: JobRunStatus | str) -> JobRunStatus:
    try:
        return JobRunStatus(value)
    except ValueError:
        raise ValidationError(f"unknown run status {value!r}", field="status") from None


def _progress_json(progress: object) -> dict[str, Any]:
    """The stored form of a run's progress: a new dict each time, so the ORM sees the JSON change."""
    if progress is None:
        return {}
    if not isinstance(progress, RunProgress):
        raise ValidationError(f"a run's progress is a RunProgress, not {type(progress).__name__}", field="progress")
    return progress.to_json()
