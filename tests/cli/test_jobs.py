"""`sync-gateway jobs ...` as an admin in a terminal uses it: pause, resume, skip, run now,
backfill and the run history, by job id or by shop, each command a real subprocess on SQLite and
PostgreSQL against the simulated shop on a real socket. They call the GraphQL mutations' core
functions, so these tests check the CLI's half: naming the job, running or queueing, printing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from plugins.shopify.simulator import ShopSimulator

from ..conftest import TEST_SECRET_KEY
from ..servers import seeded_shop, serving

TOKEN = "shpat_cli_jobs_secret"


class Terminal:
    """Commands run as an admin's shell runs them: ``terminal(*args, check=True, **env)`` waits,
    :meth:`start` runs one in the background."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.cwd, self.env = cwd, env

    def __call__(self, *args: str, check: bool = True, **extra: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "-m", "gateway", *args], env={**self.env, **extra}, cwd=self.cwd,
                              capture_output=True, text=True, timeout=120)
        if check:
            assert done.returncode == 0, done.stdout + done.stderr
        return done

    def start(self, *args: str, **extra: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "gateway", *args], env={**self.env, **extra}, cwd=self.cwd,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


Cli = Terminal


@pytest.fixture
def sim() -> ShopSimulator:
    return seeded_shop("jobs-shop.myshopify.com", TOKEN, plan="standard", orders=120, seed=5, hours=6)


@pytest.fixture
def cli(tmp_path: Path, database_url: str, sim: ShopSimulator) -> Iterator[Terminal]:
    """The shop "acme" (its canceled-items job is job 1) is already added."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNC_GATEWAY_") and k != "REDIS_URL"}
    env.update({"SYNC_GATEWAY_DATABASE_URL": database_url, "SYNC_GATEWAY_SECRET_KEY": TEST_SECRET_KEY,
                "COLUMNS": "250", "SHOP_TOKEN": TOKEN})
    terminal = Terminal(tmp_path, env)
    with serving(sim.asgi_app) as url:
        terminal("shops", "add", "acme", "--url", url, "--token-env", "SHOP_TOKEN")
        yield terminal


def job(cli: Cli) -> dict:  # type: ignore[type-arg]
    (only,) = json.loads(cli("jobs", "list", "--json").stdout)
    return only  # type: ignore[no-any-return]


def test_pause_resume_and_skip_by_id_or_by_shop(cli: Cli) -> None:
    assert "paused job 1 (acme canceled-items)" in cli("jobs", "pause", "1").stdout
    assert job(cli)["paused"] is True
    refused = cli("jobs", "skip", "--shop", "acme", check=False)
    assert refused.returncode == 1 and "resume it before skipping a run" in refused.stderr

    resumed = cli("jobs", "resume", "--shop", "acme", "--kind", "canceled-items").stdout
    assert "resumed job 1 (acme canceled-items); next run 20" in resumed and " UTC" in resumed
    assert job(cli)["paused"] is False

    assert "skips its next run at" in cli("jobs", "skip", "1").stdout
    assert job(cli)["skipNext"] is True


def test_a_job_is_named_by_id_or_by_shop_and_kind_exactly_once(cli: Cli) -> None:
    missing = cli("jobs", "pause", "99", check=False)
    assert missing.returncode == 1
    assert missing.stderr.strip() == "error: job 99 does not exist (list jobs with `sync-gateway jobs list`)"
    no_kind = cli("jobs", "pause", "--shop", "acme", "--kind", "orders", check=False)
    assert "shop 'acme' has no 'orders' job (its jobs: canceled-items)" in no_kind.stderr
    assert "no shop named 'nope'" in cli("jobs", "pause", "--shop", "nope", check=False).stderr
    neither = cli("jobs", "resume", check=False)
    assert neither.returncode == 1 and "name the job by its id or by --shop NAME" in neither.stderr
    both = cli("jobs", "resume", "1", "--shop", "acme", check=False)
    assert both.returncode == 1 and "not both" in both.stderr
    assert job(cli)["paused"] is False  # nothing changed


def test_run_without_redis_executes_in_the_foreground_and_the_history_shows_it(cli: Cli, sim: ShopSimulator) -> None:
    done = cli("jobs", "run", "1")
    assert "REDIS_URL is not set: the run executes here, in the foreground" in done.stderr
    units = sum(sim.truth().canceled_units.values())
    summary = done.stdout.strip().splitlines()[-1]
    assert summary.startswith("✓ canceled-items acme: 120 orders in ") and f"/ {units:,} units canceled" in summary
    assert TOKEN not in done.stdout + done.stderr

    since = (datetime.now(UTC) - timedelta(hours=8)).isoformat()
    backfilled = cli("jobs", "backfill", "--shop", "acme", "--since", since).stdout
    assert "✓ canceled-items acme: 120 orders in " in backfilled

    runs = json.loads(cli("jobs", "history", "1", "--json").stdout)
    assert [(r["id"], r["trigger"], r["status"]) for r in runs] == [(2, "BACKFILL", "SUCCEEDED"),
                                                                    (1, "MANUAL", "SUCCEEDED")]
    first = runs[1]
    assert first["ordersSeen"] == 120 and first["unitsCanceled"] == units and first["pages"] >= 1
    assert first["apiCost"] > 0 and first["retries"] == 0 and first["throttled"] == 0 and first["error"] is None
    assert first["durationSeconds"] > 0 and first["windowThru"].endswith("+00:00")
    assert datetime.fromisoformat(runs[0]["windowFrom"]) == datetime.fromisoformat(since)
    assert job(cli)["lastRun"]["id"] == 2

    table = cli("jobs", "history", "--shop", "acme").stdout
    assert "job 1: acme canceled-items" in table and "BACKFILL" in table and "MANUAL" in table
    for column in ("window (UTC)", "pages", "orders", "units", "cost", "retries", "throttled", "duration", "error"):
        assert column in table
    assert json.loads(cli("jobs", "history", "1", "--status", "failed", "--json").stdout) == []
    assert [r["id"] for r in json.loads(cli("jobs", "history", "1", "--limit", "1", "--json").stdout)] == [2]
    later = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    assert json.loads(cli("jobs", "history", "1", "--since", later, "--json").stdout) == []
    bad = cli("jobs", "history", "1", "--status", "DONE", check=False)
    assert bad.returncode == 1 and "unknown status 'DONE'" in bad.stderr and "SUCCEEDED" in bad.stderr


def test_a_failed_run_exits_1_and_its_error_is_in_the_history(cli: Cli) -> None:
    cli("shops", "update", "acme", "--token", "shpat_wrong_token")
    failed = cli("jobs", "run", "1", check=False)
    assert failed.returncode == 1 and "✗ canceled-items acme: failed" in failed.stdout
    (run,) = json.loads(cli("jobs", "history", "1", "--status", "FAILED", "--json").stdout)
    assert "access token" in run["error"] and "shpat_wrong" not in run["error"]
    assert "FAILED" in cli("jobs", "history", "1").stdout


def test_a_window_out_of_bounds_is_refused_in_cli_words_and_records_no_run(cli: Cli) -> None:
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    done = cli("jobs", "run", "1", "--from", future, check=False)
    assert done.returncode == 1 and "--from" in done.stderr and "in the future" in done.stderr
    assert "windowFrom" not in done.stderr
    inverted = cli("jobs", "run", "1", "--from", "2026-10-02", "--thru", "2026-10-01", check=False)
    assert inverted.returncode == 9 and "--thru must be after --from" in inverted.stderr
    assert json.loads(cli("jobs", "history", "1", "--json").stdout) == []


def test_with_redis_run_queues_for_a_worker_and_wait_follows_it(cli: Cli, redis_url: str, queue_name: str) -> None:
    redis = {"SYNC_GATEWAY_REDIS_URL": redis_url, "SYNC_GATEWAY_QUEUE_NAME": queue_name}
    queued = cli("jobs", "run", "1", **redis).stdout
    assert f"queued run #1 of job 1 (acme canceled-items) on queue '{queue_name}'" in queued
    assert [r["status"] for r in json.loads(cli("jobs", "history", "1", "--json").stdout)] == ["QUEUED"]
    cli("worker", "--burst", **redis)
    assert [r["status"] for r in json.loads(cli("jobs", "history", "1", "--json").stdout)] == ["SUCCEEDED"]

    waiting = cli.start("jobs", "run", "1", "--wait", **redis)
    try:
        assert waiting.stdout is not None
        assert "queued run #2" in waiting.stdout.readline()
        cli("worker", "--burst", **redis)
        out, errors = waiting.communicate(timeout=60)
    finally:
        waiting.kill()
        waiting.wait()
    assert waiting.returncode == 0, errors
    assert out.strip().startswith("✓ canceled-items acme: ") and "(run #2)" in out


def test_a_lost_run_stands_out_in_the_history(cli: Cli, tmp_path: Path, database_url: str) -> None:
    from core import JobRunStatus, RunTrigger
    from core.plugins import make_plugin_manager
    from core.reaper import reap_runs
    from core.runtime import Runtime
    from core.settings import Settings

    # One run succeeds; the next one's worker vanishes mid-run and the reaper ends it.
    cli("jobs", "run", "1")
    runtime = Runtime.build(Settings(data_dir=tmp_path / "reaper", database_url=database_url,
                                     secret_key=TEST_SECRET_KEY), pm=make_plugin_manager())  # type: ignore[arg-type]
    try:
        now = runtime.now()
        with runtime.storage.transaction() as tx:
            run = tx.create_run(job_id=1, trigger=RunTrigger.SCHEDULE)
            tx.update_run(run.id, status=JobRunStatus.RUNNING, queued_at=now - timedelta(minutes=5), started_at=now)
            assert tx.acquire_lease(1, run_id=run.id, holder="vanished", now=now - timedelta(minutes=3),
                                    expires_at=now - timedelta(minutes=2))
        assert [r.run_id for r in reap_runs(runtime)] == [run.id]
    finally:
        runtime.close()

    table = cli("jobs", "history", "1").stdout
    (lost_row,) = [line for line in table.splitlines() if f"#{run.id} " in line]
    assert "✗ LOST" in lost_row and "lost: its worker stopped renewing the lease" in lost_row
    assert "✗" not in next(line for line in table.splitlines() if "#1 " in line)  # the SUCCEEDED one
    assert "✗ 1 of 2 runs did not succeed: 1 LOST (its worker vanished: check the workers and the queue)" in table
    (lost,) = json.loads(cli("jobs", "history", "1", "--status", "lost", "--json").stdout)
    assert (lost["id"], lost["status"]) == (run.id, "LOST")
    assert json.loads(cli("jobs", "history", "1", "--status", "FAILED", "--json").stdout) == []
    assert "LOST (its worker vanished)" in cli("jobs", "history", "--help").stdout


def test_the_summary_of_a_waited_for_run_tells_lost_from_failed() -> None:
    from core import JobRun, JobRunStatus, RunTrigger
    from gateway.cli.foreground import summary_line

    def ended(status: JobRunStatus, error: str) -> str:
        return summary_line(JobRun(id=7, job_id=1, status=status, trigger=RunTrigger.MANUAL, error=error),
                            "acme", "canceled-items", 3.0)

    lost = ended(JobRunStatus.LOST, "lost: its worker stopped renewing the lease")
    assert "✗[/] canceled-items acme: lost (its worker vanished) after 3.00s: lost: its worker" in lost
    failed = ended(JobRunStatus.FAILED, "Shopify refused the access token")
    assert "acme: failed after 3.00s: Shopify refused the access token (run #7; watermark unchanged)" in failed
