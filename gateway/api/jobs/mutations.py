"""Job controls: the same core.jobcontrol functions the CLI calls; bad input comes back as userErrors."""

from __future__ import annotations

from datetime import datetime

import strawberry

from core import JobError, jobcontrol
from core.bulk_schedule import BulkScheduleRefused, schedule_jobs

from .. import ids
from ..context import Info
from ..errors import BadInput
from ..inputs import opt
from ..payloads import UserError, attempt, refuse
from ..permissions import IsAdmin
from .types import Job, JobRun, ScheduleInput

SCHEDULE_PATHS = {
    "schedule": ["schedule"],
    "cron": ["schedule", "cron"],
    "everySeconds": ["schedule", "everySeconds"],
    "timezone": ["schedule", "timezone"],
}


@strawberry.type
class JobPayload:
    job: Job | None
    user_errors: list[UserError]


@strawberry.type
class JobsPayload:
    jobs: list[Job] = strawberry.field(description="The jobs changed, in the order given; empty if refused.")
    user_errors: list[UserError] = strawberry.field(
        description="One per refused job, its field ['jobIds', '<index>']; or one for the schedule.")


@strawberry.type
class JobRunPayload:
    run: JobRun | None
    user_errors: list[UserError]


async def _queue_run(info: Info, job_id: strawberry.ID, queue, **window) -> JobRunPayload:  # type: ignore[no-untyped-def]
    """Queue a run of the job through ``queue`` (a :mod:`core.jobcontrol` function)."""
    try:
        pk = ids.decode_as(job_id, "Job", argument="jobId")
    except BadInput as exc:
        return JobRunPayload(run=None, user_errors=refuse(exc))
    context = info.context
    run, errors = await attempt(
        info,
        lambda: queue(context.runtime, context.queue.enqueue_run, pk, **window),
        not_found=["jobId"],
        also=(JobError,),  # the queue refused the run: it is recorded FAILED, the caller may retry
    )
    return JobRunPayload(run=JobRun.from_record(run) if run is not None else None, user_errors=errors)


async def _job_control(info: Info, job_id: strawberry.ID, control, *args, **kwargs) -> JobPayload:  # type: ignore[no-untyped-def]
    try:
        pk = ids.decode_as(job_id, "Job", argument="jobId")
    except BadInput as exc:
        return JobPayload(job=None, user_errors=refuse(exc))
    runtime = info.context.runtime
    job, errors = await attempt(info, lambda: control(runtime, pk, *args, **kwargs),
                                paths=SCHEDULE_PATHS, not_found=["jobId"])
    return JobPayload(job=Job.from_record(job) if job is not None else None, user_errors=errors)


@strawberry.type
class JobMutations:
    @strawberry.mutation(permission_classes=[IsAdmin],
                         description="Replace a job's schedule; the next run time is recomputed from now.")
    async def update_job_schedule(self, info: Info, job_id: strawberry.ID, schedule: ScheduleInput) -> JobPayload:
        return await _job_control(info, job_id, jobcontrol.update_schedule, cron=opt(schedule.cron),
                                  every_seconds=opt(schedule.every_seconds), timezone=opt(schedule.timezone))

    @strawberry.mutation(permission_classes=[IsAdmin], description="Stop scheduling; a run in progress finishes.")
    async def pause_job(self, info: Info, job_id: strawberry.ID) -> JobPayload:
        return await _job_control(info, job_id, jobcontrol.pause_job)

    @strawberry.mutation(permission_classes=[IsAdmin], description="Schedule again from now (missed slots are not replayed).")
    async def resume_job(self, info: Info, job_id: strawberry.ID) -> JobPayload:
        return await _job_control(info, job_id, jobcontrol.resume_job)

    @strawberry.mutation(permission_classes=[IsAdmin], description="Record the next scheduled slot as SKIPPED.")
    async def skip_next_run(self, info: Info, job_id: strawberry.ID) -> JobPayload:
        return await _job_control(info, job_id, jobcontrol.skip_next_run)

    @strawberry.mutation(permission_classes=[IsAdmin],
                         description="Queue a run now, optionally over an explicit window; follow it with jobRunUpdated.")
    async def run_job_now(self, info: Info, job_id: strawberry.ID, window_from: datetime | None = strawberry.UNSET,
                          window_thru: datetime | None = strawberry.UNSET) -> JobRunPayload:
        return await _queue_run(info, job_id, jobcontrol.run_job_now, window_from=opt(window_from),
                                window_thru=opt(window_thru))

    @strawberry.mutation(permission_classes=[IsAdmin],
                         description="Queue a BACKFILL run over a long past window, from `since` to `until` (default: "
                                     "now minus the settle buffer). The source reads it its fastest way for long "
                                     "windows (Shopify: a bulk query, no rate limit). Follow it with jobRunUpdated.")
    async def backfill_job(self, info: Info, job_id: strawberry.ID, since: datetime,
                           until: datetime | None = strawberry.UNSET) -> JobRunPayload:
        return await _queue_run(info, job_id, jobcontrol.backfill_job, since=since, until=opt(until))

    @strawberry.mutation(permission_classes=[IsAdmin],
                         description="Give several jobs (say, the same job of several shops) one schedule, in one "
                                     "transaction: all of them or, if any is refused, none.")
    async def schedule_jobs(self, info: Info, job_ids: list[strawberry.ID], schedule: ScheduleInput) -> JobsPayload:
        pks: list[int] = []
        errors: list[UserError] = []
        for index, job_id in enumerate(job_ids):
            try:
                pks.append(ids.decode_as(job_id, "Job", argument="jobIds"))
            except BadInput as exc:
                errors.append(UserError(field=["jobIds", str(index)], message=exc.message, code="INVALID"))
        if errors:
            return JobsPayload(jobs=[], user_errors=errors)
        runtime = info.context.runtime

        def work():  # type: ignore[no-untyped-def]
            try:
                return schedule_jobs(runtime, pks, cron=opt(schedule.cron), every_seconds=opt(schedule.every_seconds),
                                     timezone=opt(schedule.timezone)), []
            except BulkScheduleRefused as exc:
                return [], [UserError(field=["jobIds", str(r.index)], code="NOT_FOUND",
                                      message=r.message.replace(f"job {r.job_id}", f"job {job_ids[r.index]}"))
                            for r in exc.refusals]

        result, refused = await attempt(info, work, paths=SCHEDULE_PATHS)
        if refused:
            return JobsPayload(jobs=[], user_errors=refused)
        assert result is not None
        jobs, per_job = result
        return JobsPayload(jobs=[Job.from_record(j) for j in jobs], user_errors=per_job)
