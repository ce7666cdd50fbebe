"""Scheduled jobs, their schedules and the history of their runs."""

from __future__ import annotations

from datetime import datetime

import strawberry

from core import Job as CoreJob
from core import JobRun as CoreJobRun
from core import JobRunStatus as CoreJobRunStatus
from core import RunProgress as CoreRunProgress
from core import RunTrigger as CoreRunTrigger
from core import Schedule as CoreSchedule
from core.schedules import describe, schedule_offset, upcoming

from .. import ids
from ..context import Info
from ..errors import BadInput
from ..pagination import PageInfo
from ..system.types import Node

JobRunStatus = strawberry.enum(CoreJobRunStatus, name="JobRunStatus")
RunTrigger = strawberry.enum(CoreRunTrigger, name="RunTrigger")

MAX_UPCOMING = 20
FINISHED = frozenset(status for status in CoreJobRunStatus if status.finished)


@strawberry.type(description="When a job runs: a cron expression in a timezone, or a fixed interval.")
class Schedule:
    cron: str | None
    every_seconds: int | None
    timezone: str
    description: str = strawberry.field(description="In words, e.g. 'Every hour' or 'At 02:30 AM (Europe/Rome)'.")

    @classmethod
    def from_record(cls, s: CoreSchedule) -> Schedule:
        return cls(cron=s.cron, every_seconds=s.every_seconds, timezone=s.timezone, description=describe(s))


@strawberry.input(description="Give exactly one of cron or everySeconds.")
class ScheduleInput:
    cron: str | None = strawberry.field(default=strawberry.UNSET, description="Five fields, e.g. '*/15 * * * *'.")
    every_seconds: int | None = strawberry.UNSET
    timezone: str | None = strawberry.field(default=strawberry.UNSET, description="IANA name for cron; default UTC.")


@strawberry.type(description="Live progress of a run: stored every half second, fresher from the queue while it runs.")
class RunProgress:
    pages: int
    orders_seen: int
    units_canceled: int
    items_canceled: int
    orders_canceled: int
    checkpoint: datetime | None = strawberry.field(description="updatedAt of the last order stored.")
    elapsed_seconds: float | None
    api_cost: float = strawberry.field(description="API points the source charged so far.")
    throttled: int = strawberry.field(description="Throttled replies so far.")
    retries: int = strawberry.field(description="Requests retried so far.")
    bucket_available: float | None = strawberry.field(
        description="Points left in the shop's rate-limit bucket at the last reply, when the source reports it.")
    bucket_maximum: float | None = strawberry.field(
        description="The bucket's ceiling at the last reply: the plan's (Shopify's maximumAvailable).")

    @classmethod
    def from_record(cls, p: CoreRunProgress) -> RunProgress:
        return cls(pages=p.pages, orders_seen=p.orders_seen, units_canceled=p.units_canceled,
                   items_canceled=p.items_canceled, orders_canceled=p.orders_canceled,
                   checkpoint=p.checkpoint, elapsed_seconds=p.elapsed_seconds, api_cost=p.api_cost,
                   throttled=p.throttled, retries=p.retries, bucket_available=p.bucket_available,
                   bucket_maximum=p.bucket_maximum)


def fresher(stored: CoreRunProgress | None, live: CoreRunProgress | None) -> CoreRunProgress | None:
    """The more advanced of the stored and the queue's progress (the queue's wins ties)."""
    if live is None:
        return stored
    if stored is None:
        return live

    def rank(p: CoreRunProgress) -> tuple[float, float]:
        return float(p.pages), p.elapsed_seconds or 0.0

    return live if rank(live) >= rank(stored) else stored


@strawberry.type(description="One execution of a job over a window of order updates.")
class JobRun(Node):
    id: strawberry.ID
    status: JobRunStatus = strawberry.field(
        description="FAILED: the run ended itself with an error. LOST: its worker vanished before ending it "
                    "(killed, cut off, or the queue lost it), so look at the workers and the queue. Both "
                    "leave the watermark; the next run reads the window again.")
    trigger: RunTrigger
    window_from: datetime | None
    window_thru: datetime | None
    queued_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    orders_seen: int
    items_canceled: int
    units_canceled: int
    orders_canceled: int
    pages: int
    api_cost: float
    throttled: int
    retries: int
    error: str | None
    record: strawberry.Private[CoreJobRun]
    live: strawberry.Private[CoreRunProgress | None]
    live_known: strawberry.Private[bool]

    @classmethod
    def from_record(cls, r: CoreJobRun, *, live: CoreRunProgress | None = None, live_known: bool = False) -> JobRun:
        """``live``: the queue's progress when the caller already fetched it (``live_known``)."""
        return cls(id=strawberry.ID(ids.encode("JobRun", r.id)), status=r.status, trigger=r.trigger,
                   window_from=r.window_from, window_thru=r.window_thru, queued_at=r.queued_at,
                   started_at=r.started_at, finished_at=r.finished_at, orders_seen=r.orders_seen,
                   items_canceled=r.items_canceled, units_canceled=r.units_canceled,
                   orders_canceled=r.orders_canceled, pages=r.pages, api_cost=r.api_cost, throttled=r.throttled,
                   retries=r.retries, error=r.error, record=r, live=live, live_known=live_known)

    @strawberry.field
    async def job(self, info: Info) -> Job:
        job = await info.context.loaders.jobs.load(self.record.job_id)
        if job is None:
            raise LookupError(f"job {self.record.job_id} of run {self.record.id} is missing")
        return Job.from_record(job)

    @strawberry.field(description="finishedAt - startedAt, or the time so far while running.")
    def duration_seconds(self, info: Info) -> float | None:
        r = self.record
        if r.started_at is None:
            return None
        end = r.finished_at or info.context.runtime.now()
        return max(0.0, (end - r.started_at).total_seconds())

    @strawberry.field
    async def progress(self, info: Info) -> RunProgress | None:
        live = self.live
        if not self.live_known and self.record.status is CoreJobRunStatus.RUNNING:
            live = await info.context.loaders.queue_progress.load(self.record.id)
        chosen = fresher(self.record.progress, live)
        return RunProgress.from_record(chosen) if chosen is not None else None


@strawberry.type
class JobRunEdge:
    cursor: str
    node: JobRun


@strawberry.type
class JobRunConnection:
    edges: list[JobRunEdge]
    nodes: list[JobRun]
    page_info: PageInfo


@strawberry.type(description="A kind of work done for one shop on a schedule (e.g. canceled-items).")
class Job(Node):
    id: strawberry.ID
    shop: str = strawberry.field(description="The shop's name.")
    kind: str
    schedule: Schedule
    paused: bool
    skip_next: bool = strawberry.field(description="The next scheduled slot will be recorded as SKIPPED.")
    next_run_at: datetime | None
    pk: strawberry.Private[int]
    record: strawberry.Private[CoreJob]

    @classmethod
    def from_record(cls, j: CoreJob) -> Job:
        return cls(id=strawberry.ID(ids.encode("Job", j.id)), shop=j.shop, kind=j.kind,
                   schedule=Schedule.from_record(j.schedule), paused=j.paused, skip_next=j.skip_next,
                   next_run_at=j.next_run_at, pk=j.id, record=j)

    @strawberry.field(description="The newest run, whatever its status.")
    async def last_run(self, info: Info) -> JobRun | None:
        return _run(await info.context.loaders.latest_run.load(self.pk))

    @strawberry.field(description="The run in progress, else the oldest queued one.")
    async def current_run(self, info: Info) -> JobRun | None:
        return _run(await info.context.loaders.current_run.load(self.pk))

    @strawberry.field
    async def last_successful_run(self, info: Info) -> JobRun | None:
        return _run(await info.context.loaders.last_successful_run.load(self.pk))

    @strawberry.field(description="End of the last window fully stored; the next run starts just before it.")
    async def watermark(self, info: Info) -> datetime | None:
        return await info.context.loaders.watermark.load(self.pk)

    @strawberry.field(description="Runs of this job, newest first; `since`/`until` keep runs started (else "
                                  "queued) in [since, until).")
    async def runs(self, info: Info, first: int | None = 20, after: str | None = strawberry.UNSET,
                   status: JobRunStatus | None = strawberry.UNSET, since: datetime | None = strawberry.UNSET,
                   until: datetime | None = strawberry.UNSET) -> JobRunConnection:
        from .queries import list_runs

        return await list_runs(info, self.pk, first=first, after=after, status=status, since=since, until=until)

    @strawberry.field(description="The next `count` (1 to 20) scheduled run times, in UTC, starting with "
                                  "nextRunAt; empty while paused. With skipNext the first is recorded SKIPPED.")
    def upcoming_runs(self, info: Info, count: int = 5) -> list[datetime]:
        if not 1 <= count <= MAX_UPCOMING:
            raise BadInput(f"count must be between 1 and {MAX_UPCOMING}, got {count}", field="count")
        if self.paused or self.next_run_at is None:
            return []
        offset = schedule_offset(self.record.shop, self.record.kind, info.context.runtime.settings.schedule_jitter_seconds)
        return upcoming(self.record.schedule, first=self.next_run_at, count=count, offset=offset)


def _run(record: CoreJobRun | None) -> JobRun | None:
    return JobRun.from_record(record) if record is not None else None
