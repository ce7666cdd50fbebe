"""Logs an operator can ship: ``LOG_FORMAT=json`` gives one JSON object a line, every line of a
run carries its id, shop, job kind and window, secrets are masked, and ``TRACE_PLUGINS`` alone
shows every hook call."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from core import JobRunStatus
from gateway.cli.logs import setup_logging
from plugins.shopify.simulator import FaultConfig

from ..harness import T0, Harness, fast_settings


@pytest.fixture
def json_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    setup_logging("DEBUG", "json")
    yield capsys
    root.handlers[:] = handlers
    root.setLevel(level)


def lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    err = capsys.readouterr().err
    return [json.loads(line) for line in err.splitlines() if line.strip()]


def test_every_line_of_a_run_carries_its_run_shop_kind_and_window(
        tmp_path: Path, database_url: str, json_logs: pytest.CaptureFixture[str]) -> None:
    shop = Harness.build(fast_settings(tmp_path, database_url, page_size=10), bucket=(1000.0, 20000.0))
    try:
        shop.sim.seed(30, seed=5, start=T0 - timedelta(hours=6), end=T0 - timedelta(minutes=5))
        shop.sim.faults = FaultConfig(throttle_storm=(2, 4))  # a run that has something to say
        lines(json_logs)  # what building the harness logged is not the run's
        run = shop.run()
        assert run.status is JobRunStatus.SUCCEEDED
        logged = lines(json_logs)
    finally:
        shop.close()
    assert len(logged) >= 2  # at least the throttled replies and the summary
    assert any("succeeded" in str(entry["message"]) for entry in logged)
    for entry in logged:
        assert {"time", "level", "logger", "message"} <= entry.keys()
        assert entry["run_id"] == run.id and entry["shop"] == "demo" and entry["job_kind"] == "canceled-items"
        assert entry["window_from"] == run.window_from.isoformat()  # type: ignore[union-attr]
        assert entry["window_thru"] == run.window_thru.isoformat()  # type: ignore[union-attr]


def test_lines_outside_a_run_carry_no_run_fields(json_logs: pytest.CaptureFixture[str]) -> None:
    logging.getLogger("sync_gateway.test").warning("between runs")
    (entry,) = lines(json_logs)
    assert entry["message"] == "between runs" and entry["level"] == "WARNING"
    assert "run_id" not in entry and "shop" not in entry


def test_secret_shaped_strings_are_masked_in_messages_and_tracebacks(json_logs: pytest.CaptureFixture[str]) -> None:
    log = logging.getLogger("sync_gateway.test")
    log.info("calling with %s", "shpat_0123456789abcdef")
    try:
        raise RuntimeError("header was Bearer sgw_abcdefghijklmnop")
    except RuntimeError:
        log.exception("failed")
    text = json.dumps(lines(json_logs))
    assert "0123456789abcdef" not in text and "abcdefghijklmnop" not in text
    assert "shpat_***" in text and "Bearer ***" in text


def test_trace_plugins_alone_logs_every_hook_call(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNC_GATEWAY_") and k != "REDIS_URL"}
    env.update({"SYNC_GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'trace.db'}", "SYNC_GATEWAY_TRACE_PLUGINS": "true",
                "SYNC_GATEWAY_LOG_FORMAT": "json"})  # and LOG_LEVEL left at INFO
    done = subprocess.run([sys.executable, "-m", "gateway", "shops", "list"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    traced = [json.loads(line)["message"] for line in done.stderr.splitlines() if line.startswith("{")]
    for hook in ("register_storages", "register_sources", "register_job_kinds", "register_webhook_receivers"):
        assert any(hook in message for message in traced), traced
