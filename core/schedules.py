"""Job schedules: validation, human descriptions and the next fire time (pure functions).

A schedule is either an interval (``every_seconds``) or a 5-field cron expression evaluated
in an IANA timezone. Daylight-saving changes neither skip nor double a run: croniter moves a
slot that falls into a spring-forward gap to the first valid instant, and a wall-clock slot
that occurs twice at fall-back fires once (the second occurrence is dropped) for fixed-hour
expressions, while wildcard-hour expressions (``0 * * * *``) keep firing every real hour, as
Vixie cron does.

Jitter: hundreds of shops on one schedule would all start in the same second. Each job's slots
are shifted by its own offset (:func:`schedule_offset`, a hash of its shop and kind, so the same
on every restart and every scheduler), below the setting ``schedule_jitter_seconds`` and below
the schedule's period: ``0 * * * *`` fires at, say, 10:03:17, 11:03:17, ... for one shop and
10:00:41, 11:00:41, ... for another. An interval schedule keeps the cadence it has; its first
slot (a new job, a changed or resumed schedule) gets the offset.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, croniter

from .errors import ValidationError
from .models import Schedule
from .validation import Limits, shown, text

MIN_INTERVAL_SECONDS = 60
MAX_INTERVAL_SECONDS = 31 * 24 * 3600
FIRES_WITHIN_YEARS = 5
"""A cron must fire within this many years (``0 0 29 2 *`` does; ``0 0 31 2 *`` never does)."""


def validate_schedule(
    *,
    cron: str | None = None,
    every_seconds: int | None = None,
    timezone: str | None = None,
    min_interval_seconds: int = MIN_INTERVAL_SECONDS,
) -> Schedule:
    """Return a valid :class:`Schedule` or raise :class:`ValidationError` naming the field."""
    cron = text(cron, field="cron", limit=Limits.CRON, what="a cron expression") if cron is not None else None
    if (cron is None) == (every_seconds is None):
        raise ValidationError("give exactly one of cron or everySeconds", field="schedule")
    tz = timezone or "UTC"
    try:
        tz = text(tz, field="timezone", limit=Limits.TIMEZONE, what="a timezone")
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, ValidationError):
        raise ValidationError(
            f"unknown timezone {shown(tz)}", field="timezone",
            suggestion="use an IANA name such as Europe/Rome or UTC") from None
    if every_seconds is not None:
        if every_seconds < min_interval_seconds:
            raise ValidationError(
                f"everySeconds must be at least {min_interval_seconds}, got {every_seconds}", field="everySeconds"
            )
        if every_seconds > MAX_INTERVAL_SECONDS:
            raise ValidationError(f"everySeconds must be at most {MAX_INTERVAL_SECONDS} (31 days)", field="everySeconds")
        return Schedule(every_seconds=every_seconds, timezone=tz)
    assert cron is not None
    if len(cron.split()) != 5 or not croniter.is_valid(cron):
        raise ValidationError(
            f"invalid cron expression {shown(cron)}",
            field="cron",
            suggestion="use five fields: minute hour day-of-month month day-of-week, e.g. '0 * * * *'",
        )
    try:
        croniter(cron, datetime.now(zone), max_years_between_matches=FIRES_WITHIN_YEARS).get_next(datetime)
    except CroniterBadDateError:
        raise ValidationError(f"the cron expression {cron!r} never fires (no such day within "
                              f"{FIRES_WITHIN_YEARS} years)", field="cron",
                              suggestion="check the day of the month against the month, e.g. 31 in February") from None
    return Schedule(cron=cron, timezone=tz)


def describe(schedule: Schedule) -> str:
    """A sentence an admin reads in the job manager, e.g. ``Every hour`` or ``At 02:30 AM (Europe/Rome)``."""
    if schedule.every_seconds is not None:
        return _describe_interval(schedule.every_seconds)
    from cron_descriptor import get_description

    assert schedule.cron is not None
    text = get_description(schedule.cron)
    return text if schedule.timezone == "UTC" else f"{text} ({schedule.timezone})"


def schedule_offset(shop: str, kind: str, spread_seconds: int) -> timedelta:
    """The stable offset of the job ``kind`` of ``shop``: whole seconds in ``[0, spread_seconds)``."""
    if spread_seconds <= 0:
        return timedelta(0)
    digest = hashlib.sha256(f"{shop}\x00{kind}".encode()).digest()
    return timedelta(seconds=int.from_bytes(digest[:8], "big") % spread_seconds)


def next_fire(schedule: Schedule, *, after: datetime, previous: datetime | None = None,
              offset: timedelta = timedelta(0)) -> datetime:
    """The first fire time strictly after ``after``, in UTC.

    Args:
        after: find the next slot later than this instant (the scheduler passes "now", so a
            scheduler that was down runs once and moves on instead of replaying a backlog).
        previous: the slot that just fired, if any; a cron slot with the same local wall-clock
            time (the repeated hour at a DST fall-back) is skipped.
        offset: the job's jitter (:func:`schedule_offset`); reduced below the schedule's period.
    """
    if after.tzinfo is None:
        raise ValueError("after must be timezone-aware")
    if offset <= timedelta(0):
        return _next_fire(schedule, after=after, previous=previous)
    if schedule.every_seconds is not None:
        if previous is not None:
            return _next_fire(schedule, after=after, previous=previous)  # the cadence keeps its offset
        return _next_fire(schedule, after=after) + offset % timedelta(seconds=schedule.every_seconds)
    nominal = _next_fire(schedule, after=after)
    offset %= _next_fire(schedule, after=nominal, previous=nominal) - nominal
    # The slot after ``previous`` (shifted or not: a slot set before jitter was turned on) and
    # after ``after``, in the shifted schedule.
    start = after - offset if previous is None else max(after - offset, previous)
    shifted_previous = None if previous is None else previous - offset
    return _next_fire(schedule, after=start, previous=shifted_previous) + offset


def _next_fire(schedule: Schedule, *, after: datetime, previous: datetime | None = None) -> datetime:
    if schedule.every_seconds is not None:
        step = timedelta(seconds=schedule.every_seconds)
        if previous is None:
            return (after + step).astimezone(UTC)
        # keep the cadence anchored on the previous slot; coalesce missed slots into one
        nxt = previous + step
        if nxt <= after:
            missed = (after - previous) // step
            nxt = previous + step * missed
            if nxt <= after:
                nxt += step
        return nxt.astimezone(UTC)
    assert schedule.cron is not None
    tz = ZoneInfo(schedule.timezone)
    local_after = after.astimezone(tz)
    it = croniter(schedule.cron, local_after)
    fixed_hour = "*" not in schedule.cron.split()[1]
    previous_wall = None
    if previous is not None and fixed_hour:
        previous_wall = previous.astimezone(tz).replace(tzinfo=None)
    for _ in range(4):
        candidate: datetime = it.get_next(datetime)
        if candidate.tzinfo is None:
            candidate = candidate.replace(tzinfo=tz)
        if previous_wall is not None and candidate.replace(tzinfo=None) == previous_wall:
            continue  # same wall-clock slot again: the DST fall-back repeat
        return candidate.astimezone(UTC)
    raise AssertionError("croniter returned the same slot repeatedly")  # pragma: no cover


def upcoming(schedule: Schedule, *, first: datetime, count: int, offset: timedelta = timedelta(0)) -> list[datetime]:
    """``count`` fire times in UTC, starting with ``first`` (a job's ``next_run_at``), each the
    :func:`next_fire` after the one before it (with the job's ``offset``), as the scheduler will take them."""
    if count < 1:
        return []
    times = [first.astimezone(UTC)]
    while len(times) < count:
        times.append(next_fire(schedule, after=times[-1], previous=times[-1], offset=offset))
    return times


def _describe_interval(seconds: int) -> str:
    for unit_seconds, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds % unit_seconds == 0:
            count = seconds // unit_seconds
            return f"Every {unit}" if count == 1 else f"Every {count} {unit}s"
    return f"Every {seconds} seconds"
