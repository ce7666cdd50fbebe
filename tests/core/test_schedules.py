"""Schedules: validation with field-named errors, descriptions, and next fire times across DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core import Schedule, ValidationError
from core.schedules import describe, next_fire, validate_schedule


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "schedule"),
        ({"cron": "0 * * * *", "every_seconds": 60}, "schedule"),
        ({"cron": "61 * * * *"}, "cron"),
        ({"cron": "every hour"}, "cron"),
        ({"cron": "0 * * * * *"}, "cron"),  # six fields: seconds are not supported
        ({"every_seconds": -5}, "everySeconds"),
        ({"every_seconds": 0}, "everySeconds"),
        ({"every_seconds": 3600, "timezone": "Mars/Olympus"}, "timezone"),
    ],
)
def test_invalid_schedules_name_the_offending_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_schedule(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_valid_schedules() -> None:
    assert validate_schedule(every_seconds=3600) == Schedule(every_seconds=3600, timezone="UTC")
    assert validate_schedule(cron=" 0 2 * * * ", timezone="Europe/Rome") == Schedule(cron="0 2 * * *", timezone="Europe/Rome")


def test_descriptions_read_like_the_job_manager() -> None:
    assert describe(Schedule(every_seconds=3600)) == "Every hour"
    assert describe(Schedule(every_seconds=900)) == "Every 15 minutes"
    assert describe(Schedule(cron="30 2 * * *", timezone="Europe/Rome")) == "At 02:30 AM (Europe/Rome)"


def test_interval_keeps_its_cadence_and_coalesces_missed_slots() -> None:
    hourly = Schedule(every_seconds=3600)
    slot = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    assert next_fire(hourly, after=slot + timedelta(seconds=3), previous=slot) == slot + timedelta(hours=1)
    # the scheduler was down for five hours: one run now, then back on the cadence
    late = slot + timedelta(hours=5, minutes=20)
    assert next_fire(hourly, after=late, previous=slot) == slot + timedelta(hours=6)


def test_cron_in_a_timezone() -> None:
    daily = Schedule(cron="0 9 * * *", timezone="Europe/Rome")
    after = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
    assert next_fire(daily, after=after) == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # 09:00 CET


def test_spring_forward_does_not_skip_the_run() -> None:
    # 02:00 does not exist in New York on 2026-03-08: the run happens at the first valid instant
    daily = Schedule(cron="0 2 * * *", timezone="America/New_York")
    fired = next_fire(daily, after=datetime(2026, 3, 8, 5, 0, tzinfo=UTC))
    assert fired == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)  # 03:00 EDT
    following = next_fire(daily, after=fired, previous=fired)
    assert following == datetime(2026, 3, 9, 6, 0, tzinfo=UTC)  # 02:00 EDT the next day


def test_fall_back_does_not_double_the_run() -> None:
    # 01:30 happens twice in New York on 2026-11-01; the job runs once
    daily = Schedule(cron="30 1 * * *", timezone="America/New_York")
    first = next_fire(daily, after=datetime(2026, 11, 1, 4, 0, tzinfo=UTC))
    assert first == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT
    second = next_fire(daily, after=first, previous=first)
    assert second == datetime(2026, 11, 2, 6, 30, tzinfo=UTC)  # 01:30 EST the next day


def test_hourly_cron_across_fall_back_runs_every_real_hour_once() -> None:
    hourly = Schedule(cron="0 * * * *", timezone="America/New_York")
    fired: list[datetime] = []
    at = datetime(2026, 11, 1, 3, 30, tzinfo=UTC)
    previous = None
    while at < datetime(2026, 11, 1, 9, 0, tzinfo=UTC):
        at = next_fire(hourly, after=at, previous=previous)
        previous = at
        fired.append(at)
    gaps = {b - a for a, b in zip(fired, fired[1:])}
    assert gaps == {timedelta(hours=1)}
