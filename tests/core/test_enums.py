"""Enums of the public API print as their values: a plugin writing ``f"run {run.status}"`` gets
``run SUCCEEDED``, not ``run JobRunStatus.SUCCEEDED`` (what ``(str, Enum)`` gives on Python 3.11+)."""

from __future__ import annotations

import enum
import json
import logging

import pytest

import core
from core import JobRunStatus

PUBLIC_ENUMS = [value for name in core.__all__ if isinstance(value := getattr(core, name), type)
                and issubclass(value, enum.Enum)]


def test_the_public_api_has_enums_to_check() -> None:
    assert {"JobRunStatus", "RunTrigger", "TokenRole", "OrderStatus", "OrderItemStatus",
            "ConnectionProblem"} <= {e.__name__ for e in PUBLIC_ENUMS}


@pytest.mark.parametrize("kind", PUBLIC_ENUMS, ids=lambda e: e.__name__)
def test_every_member_prints_as_its_value(kind: type[enum.Enum]) -> None:
    for member in kind:
        assert str(member) == f"{member}" == "%s" % member == "{}".format(member) == member.value


def test_a_status_in_a_log_line_and_in_json_is_its_value(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="tests.enums"):
        logging.getLogger("tests.enums").info("run 7 ended %s", JobRunStatus.SUCCEEDED)
    assert caplog.messages == ["run 7 ended SUCCEEDED"]
    assert json.dumps({"status": JobRunStatus.FAILED}) == '{"status": "FAILED"}'


def test_members_still_compare_equal_to_their_values() -> None:
    assert JobRunStatus.SUCCEEDED == "SUCCEEDED" and JobRunStatus("FAILED") is JobRunStatus.FAILED
