"""What admins do to shops and jobs; the GraphQL mutations and the CLI both call these.

Every function validates first and changes nothing when it raises
(:class:`ValidationError` with the offending field, or :class:`NotFoundError`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from . import validation
from .errors import JobError, NotFoundError, ValidationError
from .models import Job, JobRun, JobRunStatus, NewShop, RunTrigger, Schedule, Shop
from .runtime import Runtime
from .schedules import next_fire, schedule_offset, validate_schedule
from .storage import StorageTx

log = logging.getLogger("sync_gateway.jobcontrol")

class Enqueue(Protocol):
    """Puts a stored run on the queue and returns the queue's job id. A BACKFILL run is passed
    ``backfill=True`` (:meth:`core.queues.QueueBackend.enqueue_run` queues it behind other work);
    other runs are passed the run id alone, so a one-argument callable serves the scheduler."""

    def __call__(self, run_id: int, *, backfill: bool = False) -> str: ...

SHOP_CHANGES = ("url", "api_version", "token", "token_env")


def add_shop(runtime: Runtime, new: NewShop, *, check_env: bool = False) -> tuple[Shop, list[Job]]:
    """Create a shop and one job per per-shop job kind, scheduled at the default interval.

    Every value is checked by :mod:`core.validation` (surrounding spaces dropped, blank optional
    values read as absent, the URL normalised) before anything is written. The access token is
    never quoted back. ``check_env``: refuse a ``token_env`` that is not set in this process
    (the CLI's ``shops add``; an API server may not share the worker's environment).
    """
    today = validation.release_calendar_day(runtime.now())
    new = replace(new, name=validation.shop_name(new.name), url=validation.shop_url(new.url),
                  source=validation.text(new.source, field="source", limit=validation.Limits.SHOP_SOURCE,
                                         what="a source name"),
                  api_version=validation.api_version(new.api_version, today=today),
                  token=validation.shop_token(new.token), token_env=validation.token_env(new.token_env))
    validation.credentials(new.token, new.token_env)
    if check_env and new.token_env is not None:
        validation.token_env_is_set(new.token_env)
    if new.source not in runtime.sources:
        raise ValidationError(f"unknown source {validation.shown(new.source)}; installed: "
                              f"{', '.join(sorted(runtime.sources))}", field="source")
    schedule = Schedule(every_seconds=runtime.settings.default_every_seconds)
    now = runtime.now()
    with runtime.storage.transaction() as tx:
        shop = tx.add_shop(new)
        jobs = [
            tx.create_job(shop_id=shop.id, kind=kind.name, schedule=schedule,
                          next_run_at=next_fire(schedule, after=now, offset=schedule_offset(
                              shop.name, kind.name, runtime.settings.schedule_jitter_seconds)))
            for kind in runtime.job_kinds.values()
            if kind.create_per_shop
        ]
    return shop, jobs


def update_shop(runtime: Runtime, shop_id: int, **changes: Any) -> Shop:
    """Change a shop's ``url``, ``api_version``, ``token`` or ``token_env``; keys left out stay as
    they are. A blank or None ``token``/``token_env`` removes it; ``url`` and ``api_version``
    cannot be emptied."""
    clean: dict[str, Any] = {}
    for key, value in changes.items():
        if key not in SHOP_CHANGES:
            raise ValidationError(f"cannot change {key!r} of a shop", field=key,
                                  suggestion=f"changeable: {', '.join(SHOP_CHANGES)}")
        if key == "url":
            if not isinstance(value, str) or not value.strip():
                raise ValidationError("url cannot be empty", field="url")
            clean[key] = validation.shop_url(value)
        elif key == "api_version":
            if value is None:
                raise ValidationError("api_version cannot be null", field="api_version")
            clean[key] = validation.api_version(value, today=validation.release_calendar_day(runtime.now()))
        elif key == "token":
            clean[key] = validation.shop_token(value)
        else:
            clean[key] = validation.token_env(value)
    validation.credentials(clean.get("token"), clean.get("token_env"))
    with runtime.storage.transaction() as tx:
        shop = _shop(tx, shop_id)
        # Credentials come from one place: a change may not leave both a token and a variable.
        has_token = clean["token"] is not None if "token" in clean else shop.has_token
        env = clean["token_env"] if "token_env" in clean else shop.token_env
        if has_token and env is not None:
            field = "token_env" if "token_env" in clean else "token"
            raise ValidationError("the shop would have both a stored access token and a token variable",
                                  field=field, suggestion="remove one in the same change (accessToken: null or "
                                                          "accessTokenEnv: null)")
        return tx.update_shop(shop_id, **clean) if clean else shop


def remove_shop(runtime: Runtime, shop_id: int) -> None:
    """Delete a shop with its jobs, runs, orders and cancellation history."""
    with runtime.storage.transaction() as tx:
        _shop(tx, shop_id)
        tx.remove_shop(shop_id)


def find_shop(tx: StorageTx, name: str) -> Shop:
    shop = tx.get_shop_by_name(name)
    if shop is None:
        raise NotFoundError(f"no shop named {name!r}", suggestion="list shops with `sync-gateway shops list`")
    return shop


def update_schedule(runtime: Runtime, job_id: int, *, cron: str | None = None, every_seconds: int | None = None,
                    timezone: str | None = None) -> Job:
    """Replace a job's schedule; the new next run time applies at the scheduler's next tick."""
    schedule = validate_schedule(cron=cron, every_seconds=every_seconds, timezone=timezone,
                                 min_interval_seconds=runtime.settings.min_interval_seconds)
    with runtime.storage.transaction() as tx:
        job = _job(tx, job_id)
        offset = schedule_offset(job.shop, job.kind, runtime.settings.schedule_jitter_seconds)
        return tx.update_job(job_id, schedule=schedule, next_run_at=next_fire(schedule, after=runtime.now(),
                                                                              offset=offset))


def pause_job(runtime: Runtime, job_id: int) -> Job:
    """Stop scheduling the job; a run already in progress finishes."""
    with runtime.storage.transaction() as tx:
        _job(tx, job_id)
        return tx.update_job(job_id, paused=True)


def resume_job(runtime: Runtime, job_id: int) -> Job:
    """Schedule the job again from now on (missed slots are not replayed)."""
    with runtime.storage.transaction() as tx:
        job = _job(tx, job_id)
        offset = schedule_offset(job.shop, job.kind, runtime.settings.schedule_jitter_seconds)
        return tx.update_job(job_id, paused=False, next_run_at=next_fire(job.schedule, after=runtime.now(),
                                                                          offset=offset))


def skip_next_run(runtime: Runtime, job_id: int) -> Job:
    """The next scheduled slot is recorded as SKIPPED instead of running; later slots run."""
    with runtime.storage.transaction() as tx:
        job = _job(tx, job_id)
        if job.paused:
            raise ValidationError("the job is paused; resume it before skipping a run", field="jobId")
        return tx.update_job(job_id, skip_next=True)


def run_job_now(runtime: Runtime, enqueue: Enqueue, job_id: int, *, window_from: datetime | None = None,
                window_thru: datetime | None = None, trigger: RunTrigger = RunTrigger.MANUAL) -> JobRun:
    """Queue a run at once, outside the schedule (optionally over an explicit window)."""
    window_from, window_thru = validation.window(window_from, window_thru, now=runtime.now())
    with runtime.storage.transaction() as tx:
        _job(tx, job_id)
        run = tx.create_run(job_id=job_id, trigger=trigger, status=JobRunStatus.QUEUED,
                            window_from=window_from, window_thru=window_thru)
        run = tx.update_run(run.id, queued_at=runtime.now())
    try:
        rq_id = enqueue(run.id, backfill=True) if trigger is RunTrigger.BACKFILL else enqueue(run.id)
    except Exception as exc:
        # The run would otherwise sit QUEUED until the scheduler declared it lost, an hour on.
        log.warning("run %s of job %s could not be queued", run.id, job_id, exc_info=True)
        reason = f"the queue did not accept the run ({type(exc).__name__}: {exc})"
        with runtime.storage.transaction() as tx:
            tx.update_run(run.id, status=JobRunStatus.FAILED, finished_at=runtime.now(), error=reason)
        raise JobError(f"run {run.id} of job {job_id} could not be queued: {reason}; it is recorded as "
                       "FAILED", suggestion="check that the queue (Redis) is reachable, then run it again") from exc
    with runtime.storage.transaction() as tx:
        return tx.update_run(run.id, rq_job_id=rq_id)


def backfill_window(runtime: Runtime, since: datetime, until: datetime | None = None) -> tuple[datetime, datetime]:
    """The window of a backfill from ``since``: up to ``until``, by default now minus the settle
    buffer (the newest orders are the scheduled job's). Both must carry a timezone.

    Raises:
        ValidationError: a naive time, or a window that is empty or reaches into the future.
    """
    now = runtime.now()
    validation.window_time(since, field="since", latest=None)  # a future start: the empty window below
    until = validation.window_time(until, field="until", latest=now)
    end = until or now - timedelta(seconds=runtime.settings.window_settle_seconds)
    if since >= end:
        raise ValidationError(f"the backfill window is empty: since {since.isoformat()} is not before "
                              f"{end.isoformat()}", field="since")
    return since, end


def backfill_job(runtime: Runtime, enqueue: Enqueue, job_id: int, *, since: datetime,
                 until: datetime | None = None) -> JobRun:
    """Queue a BACKFILL run of ``[since, until)``: the job's source reads it its fastest way for
    long windows (Shopify: a bulk query). See :func:`backfill_window` and :func:`run_job_now`."""
    since, end = backfill_window(runtime, since, until)
    return run_job_now(runtime, enqueue, job_id, window_from=since, window_thru=end, trigger=RunTrigger.BACKFILL)


def _job(tx: StorageTx, job_id: int) -> Job:
    job = tx.get_job(job_id)
    if job is None:
        raise NotFoundError(f"job {job_id} does not exist", suggestion="list jobs with the `jobs` query")
    return job


def _shop(tx: StorageTx, shop_id: int) -> Shop:
    shop = tx.get_shop(shop_id)
    if shop is None:
        raise NotFoundError(f"shop {shop_id} does not exist", suggestion="list shops with the `shops` query")
    return shop
