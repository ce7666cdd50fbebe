"""What admins do to shops and jobs; the GraphQL mutations and the CLI both call these.

Every function validates first and changes nothing when it raises
(:class:`ValidationError` with the offending field, or :class:`NotFoundError`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from .errors import InvalidWindow, JobError, NotFoundError, ValidationError
from .models import Job, JobRun, JobRunStatus, NewShop, RunTrigger, Schedule, Shop
from .runtime import Runtime
from .schedules import next_fire, schedule_offset, validate_schedule
from .storage import StorageTx

log = logging.getLogger("sync_gateway.jobcontrol")

Enqueue = Callable[[int], str]
"""Puts a stored run on the queue and returns the queue's job id."""

SHOP_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_")
API_VERSION = re.compile(r"^(\d{4}-\d{2}|unstable)$")
SHOP_CHANGES = ("url", "api_version", "token", "token_env")


def add_shop(runtime: Runtime, new: NewShop) -> tuple[Shop, list[Job]]:
    """Create a shop and one job per per-shop job kind, scheduled at the default interval.

    Surrounding spaces are dropped and blank optional values read as absent. The access token
    must not contain spaces or control characters (it goes into an HTTP header; PostgreSQL
    cannot even store a NUL), and is never quoted back.
    """
    new = replace(new, name=new.name.strip(), url=new.url.strip(), api_version=new.api_version.strip(),
                  token=_token(new.token), token_env=_blank(new.token_env))
    if not new.name or set(new.name) - SHOP_NAME_CHARS:
        raise ValidationError(
            f"shop name {new.name!r} must be lower-case letters, digits, '-' or '_'", field="name"
        )
    if not new.url:
        raise ValidationError("a shop needs a URL or myshopify domain", field="url")
    if new.source not in runtime.sources:
        raise ValidationError(f"unknown source {new.source!r}; installed: {', '.join(sorted(runtime.sources))}",
                              field="source")
    _check_api_version(new.api_version)
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
            if not _blank(value):
                raise ValidationError("url cannot be empty", field="url")
            clean[key] = value.strip()
        elif key == "api_version":
            if value is None:
                raise ValidationError("api_version cannot be null", field="api_version")
            _check_api_version(value.strip())
            clean[key] = value.strip()
        elif key == "token":
            clean[key] = _token(value)
        else:
            clean[key] = _blank(value)
    with runtime.storage.transaction() as tx:
        shop = _shop(tx, shop_id)
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
    for name, value in (("windowFrom", window_from), ("windowThru", window_thru)):
        if value is not None and value.tzinfo is None:
            raise ValidationError(f"{name} must carry a timezone", field=name)
    if window_from and window_thru and window_thru <= window_from:
        raise InvalidWindow("windowThru must be after windowFrom", field="windowThru")
    if window_thru and window_thru > runtime.now():
        raise ValidationError("windowThru cannot be in the future", field="windowThru")
    with runtime.storage.transaction() as tx:
        _job(tx, job_id)
        run = tx.create_run(job_id=job_id, trigger=trigger, status=JobRunStatus.QUEUED,
                            window_from=window_from, window_thru=window_thru)
        run = tx.update_run(run.id, queued_at=runtime.now())
    try:
        rq_id = enqueue(run.id)
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
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise ValidationError(f"{name} must carry a timezone", field=name)
    now = runtime.now()
    if until is not None and until > now:
        raise ValidationError("until cannot be in the future", field="until")
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


def _blank(value: str | None) -> str | None:
    """None for a missing or blank value, else the value without surrounding spaces."""
    return (value.strip() or None) if isinstance(value, str) else None


def _token(value: str | None) -> str | None:
    """A write-only access token; refused, never quoted, if it holds spaces or control characters."""
    token = _blank(value)
    if token is not None and (not token.isprintable() or any(c.isspace() for c in token)):
        raise ValidationError("the access token must not contain spaces or control characters", field="token")
    return token


def _check_api_version(value: str) -> None:
    if not API_VERSION.match(value):
        raise ValidationError(f"the API version must look like 2026-07 (or be 'unstable'), got {value!r}",
                              field="api_version")
