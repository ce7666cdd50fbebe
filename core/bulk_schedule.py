"""One schedule applied to many jobs at once, all or none (HotWax's bulk scheduling).

The schedule is validated once; every job is looked up in the same transaction that updates
them, so either every job gets the schedule or, if any is refused, none does and each refused
job is named.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .errors import ValidationError
from .models import Job
from .runtime import Runtime
from .schedules import next_fire, schedule_offset, validate_schedule

MAX_JOBS = 500


@dataclass(frozen=True, slots=True)
class JobRefusal:
    """Why one job of a bulk change was refused (``index``: its position in the request)."""

    index: int
    job_id: int
    message: str


class BulkScheduleRefused(ValidationError):
    """Some jobs were refused; nothing was changed. ``refusals`` names each."""

    def __init__(self, refusals: Sequence[JobRefusal]) -> None:
        self.refusals = tuple(refusals)
        super().__init__(f"{len(self.refusals)} of the jobs were refused; no schedule was changed", field="jobIds")


def schedule_jobs(runtime: Runtime, job_ids: Sequence[int], *, cron: str | None = None,
                  every_seconds: int | None = None, timezone: str | None = None) -> list[Job]:
    """Give every job in ``job_ids`` the same schedule in one transaction, in the order given.

    Raises:
        ValidationError: the schedule is invalid, or ``job_ids`` is empty or too long.
        BulkScheduleRefused: a job does not exist or is named twice; no job was changed.
    """
    schedule = validate_schedule(cron=cron, every_seconds=every_seconds, timezone=timezone,
                                 min_interval_seconds=runtime.settings.min_interval_seconds)
    if not job_ids:
        raise ValidationError("name at least one job", field="jobIds")
    if len(job_ids) > MAX_JOBS:
        raise ValidationError(f"at most {MAX_JOBS} jobs at once, got {len(job_ids)}", field="jobIds")
    now = runtime.now()
    with runtime.storage.transaction() as tx:
        found = tx.get_jobs(job_ids)
        refusals: list[JobRefusal] = []
        seen: set[int] = set()
        for index, job_id in enumerate(job_ids):
            if job_id in seen:
                refusals.append(JobRefusal(index, job_id, f"job {job_id} is named twice"))
            elif job_id not in found:
                refusals.append(JobRefusal(index, job_id, f"job {job_id} does not exist"))
            seen.add(job_id)
        if refusals:
            raise BulkScheduleRefused(refusals)
        spread = runtime.settings.schedule_jitter_seconds
        return [tx.update_job(job_id, schedule=schedule, next_run_at=next_fire(
                    schedule, after=now, offset=schedule_offset(found[job_id].shop, found[job_id].kind, spread)))
                for job_id in job_ids]
