"""A failed command says what is wrong in one line and exits with a code per cause, in a real
subprocess as an operator (or systemd) runs it; ``--debug`` adds the traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.cli.failures import ExitCode

from ..servers import free_port


def sync_gateway(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SYNC_GATEWAY_") and k != "REDIS_URL"}
    clean.update({"SYNC_GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "COLUMNS": "300", **env})
    return subprocess.run([sys.executable, "-m", "gateway", *args], env=clean, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert len(lines) == 1, done.stdout + done.stderr
    assert "Traceback" not in lines[0]
    return lines[0]


def test_an_invalid_setting_names_the_setting_and_the_allowed_range(tmp_path: Path) -> None:
    done = sync_gateway(tmp_path, "shops", "list", SYNC_GATEWAY_PAGE_SIZE="9999")
    assert done.returncode == ExitCode.INVALID_SETTING == 3
    line = one_line(done)
    assert "SYNC_GATEWAY_PAGE_SIZE" in line and "less than or equal to 250" in line and "9999" in line


def test_broken_toml_gives_its_line_number(tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text('queue_name = "ok"\npage_size = \n')
    done = sync_gateway(tmp_path, "shops", "list", SYNC_GATEWAY_CONFIG=str(config))
    assert done.returncode == ExitCode.CONFIG_SYNTAX == 5
    line = one_line(done)
    assert "not valid TOML" in line and "line 2" in line and str(config) in line


def test_a_missing_config_file_is_an_error_not_ignored(tmp_path: Path) -> None:
    done = sync_gateway(tmp_path, "shops", "list", SYNC_GATEWAY_CONFIG="/nonexistent.toml")
    assert done.returncode == ExitCode.CONFIG_MISSING == 4
    assert "/nonexistent.toml" in one_line(done)


def test_an_unknown_plugin_suggests_the_nearest_one(tmp_path: Path) -> None:
    done = sync_gateway(tmp_path, "shops", "list", SYNC_GATEWAY_LOAD_PLUGINS='["shopfy"]')
    assert done.returncode == ExitCode.UNKNOWN_PLUGIN == 6
    line = one_line(done)
    assert "'shopfy'" in line and "did you mean 'shopify'?" in line


def test_an_unreachable_database_is_one_line_without_the_password(tmp_path: Path) -> None:
    url = f"postgresql://gateway:s3cret-pw@127.0.0.1:{free_port()}/gateway"
    done = sync_gateway(tmp_path, "shops", "list", SYNC_GATEWAY_DATABASE_URL=url)
    assert done.returncode == ExitCode.DATABASE_UNREACHABLE == 7
    line = one_line(done)
    assert "cannot reach the database" in line and "127.0.0.1" in line
    assert "s3cret-pw" not in done.stdout + done.stderr


def test_an_unreachable_redis_is_one_line(tmp_path: Path) -> None:
    done = sync_gateway(tmp_path, "worker", "--burst", REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    assert done.returncode == ExitCode.REDIS_UNREACHABLE == 8
    assert "cannot reach Redis" in one_line(done)


def test_an_inverted_window_is_refused_before_a_run_is_recorded(tmp_path: Path) -> None:
    added = sync_gateway(tmp_path, "shops", "add", "acme", "--url", "acme.myshopify.com", "--token-env", "ACME_TOKEN",
                         ACME_TOKEN="shpat_x")
    assert added.returncode == 0, added.stderr
    done = sync_gateway(tmp_path, "run", "canceled-items", "--shop", "acme", "--from", "2026-10-02",
                        "--thru", "2026-10-01")
    assert done.returncode == ExitCode.INVALID_WINDOW == 9
    assert "before it starts" in one_line(done) and "--thru must be after --from" in done.stderr
    history = sync_gateway(tmp_path, "jobs", "list")
    assert history.returncode == 0 and "FAILED" not in history.stdout


def test_an_error_the_gateway_reports_on_purpose_exits_1(tmp_path: Path) -> None:
    done = sync_gateway(tmp_path, "shops", "remove", "nowhere")
    assert done.returncode == ExitCode.ERROR == 1
    assert "no shop named 'nowhere'" in one_line(done)


def test_usage_errors_keep_clicks_code(tmp_path: Path) -> None:
    assert sync_gateway(tmp_path, "no-such-command").returncode == ExitCode.USAGE == 2


@pytest.mark.parametrize("how", ["flag", "log level"])
def test_debug_adds_the_traceback(tmp_path: Path, how: str) -> None:
    if how == "flag":
        done = sync_gateway(tmp_path, "shops", "list", "--debug", SYNC_GATEWAY_PAGE_SIZE="9999")
    else:
        done = sync_gateway(tmp_path, "shops", "list", SYNC_GATEWAY_PAGE_SIZE="9999", SYNC_GATEWAY_LOG_LEVEL="DEBUG")
    assert done.returncode == 3
    assert "Traceback" in done.stderr and "ValidationError" in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("error: invalid setting SYNC_GATEWAY_PAGE_SIZE")


def test_errors_name_the_options_an_admin_typed_not_graphql_fields(tmp_path: Path) -> None:
    added = sync_gateway(tmp_path, "shops", "add", "acme", "--url", "acme.myshopify.com", "--token-env", "ACME_TOKEN",
                         ACME_TOKEN="shpat_x")
    assert added.returncode == 0, added.stderr
    too_often = one_line(sync_gateway(tmp_path, "jobs", "schedule", "1", "--every", "5"))
    assert too_often == "error: --every must be at least 60, got 5"
    neither = one_line(sync_gateway(tmp_path, "jobs", "schedule", "1"))
    assert neither == "error: give exactly one of --cron or --every"
    assert "invalid cron expression" in one_line(sync_gateway(tmp_path, "jobs", "schedule", "1", "--cron", "x"))
    stale = one_line(sync_gateway(tmp_path, "shops", "update", "acme", "--api-version", "2019-02"))
    assert stale.startswith("error: ") and "api_version" not in stale
    future = one_line(sync_gateway(tmp_path, "jobs", "backfill", "1", "--since", "2026-01-01", "--until", "2099-01-01"))
    assert future.startswith("error: --until 2099-01-01T00:00:00+00:00 is in the future")


def test_graphql_hints_become_commands() -> None:
    from core.errors import NotFoundError, ValidationError
    from gateway.cli.failures import describe

    lost = describe(NotFoundError("job 7 does not exist", suggestion="list jobs with the `jobs` query"))
    assert lost.line == "job 7 does not exist (list jobs with `sync-gateway jobs list`)"
    window = describe(ValidationError("windowFrom 2099-01-01 is in the future", field="windowFrom"))
    assert window.line == "--from 2099-01-01 is in the future"
    quoted = describe(ValidationError("unknown timezone 'everySeconds'", field="timezone"))
    assert quoted.line == "unknown timezone 'everySeconds'"  # the admin's own value is quoted as given


def test_an_invalid_plugin_setting_names_the_plugin_and_the_key(tmp_path: Path) -> None:
    done = sync_gateway(tmp_path, "shops", "list", SYNC_GATEWAY_SHOPIFY__MAX_ATTEMPTS="0")
    assert done.returncode == ExitCode.INVALID_SETTING == 3
    line = one_line(done)
    assert "[plugins.shopify] max_attempts" in line and "SYNC_GATEWAY_SHOPIFY__MAX_ATTEMPTS" in line
    assert "greater than or equal to 1" in line


def test_an_invalid_plugin_setting_in_the_toml_file_is_one_line_too(tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text('[plugins.shopify]\nslices_in_flight = 99\n')
    done = sync_gateway(tmp_path, "shops", "list", SYNC_GATEWAY_CONFIG=str(config))
    assert done.returncode == ExitCode.INVALID_SETTING
    assert "[plugins.shopify] slices_in_flight" in one_line(done)
