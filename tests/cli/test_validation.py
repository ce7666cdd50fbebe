"""Validation at the edge, from the CLI: each bad value is one clear line on stderr and exit code
1, never a traceback, and nothing is stored. The checks are GraphQL's (core.validation), so the
cases mirror tests/gateway/test_input_validation.py. Real subprocesses on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ..servers import seeded_shop, serving
from .runner import cli_runner

TOKEN = "shpat_cli_validation_secret"


@pytest.fixture
def sim_url() -> Iterator[str]:
    sim = seeded_shop("cli-shop.myshopify.com", TOKEN, plan="standard", orders=20, seed=4, hours=2)
    with serving(sim.asgi_app) as url:
        yield url


@pytest.fixture
def cli(tmp_path: Path, database_url: str):  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNC_GATEWAY_") and k != "REDIS_URL"}
    env.update({"SYNC_GATEWAY_DATABASE_URL": database_url, "COLUMNS": "250", "SHOP_TOKEN": TOKEN})
    env.pop("UNSET_SHOP_TOKEN", None)

    return cli_runner(env, tmp_path)


def refused(done: subprocess.CompletedProcess[str], words: str) -> None:
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: ") and words in line, line


def versions_ago(quarters: int) -> str:
    today = datetime.now(UTC).date()
    index = today.year * 4 + (today.month - 1) // 3 - quarters
    return f"{index // 4}-{index % 4 * 3 + 1:02d}"


def test_bad_shops_are_refused_with_one_line_and_nothing_is_stored(cli) -> None:  # type: ignore[no-untyped-def]
    cases = [
        (("acme", "--url", "javascript:alert(1)"), "neither an http(s) URL nor a shop domain"),
        (("acme", "--url", "not a url at all"), "neither an http(s) URL nor a shop domain"),
        (("acme", "--url", "https://acme.myshopify.com/" + "a" * 600), "at most 512"),
        (("a" * 300, "--url", "acme"), "at most 255"),
        (("acme", "--url", "acme", "--api-version", "2026-13"), "no API version 2026-13"),
        (("acme", "--url", "acme", "--api-version", versions_ago(-1)), "not been released"),
    ]
    for args, words in cases:
        refused(cli("shops", "add", *args, "--token-env", "SHOP_TOKEN", check=False), words)
    assert "acme" not in cli("shops", "list").stdout


def test_a_token_variable_must_be_set_unless_no_check(cli) -> None:  # type: ignore[no-untyped-def]
    unset = cli("shops", "add", "acme", "--url", "acme", "--token-env", "UNSET_SHOP_TOKEN", check=False)
    refused(unset, "UNSET_SHOP_TOKEN is not set")
    assert "acme" not in cli("shops", "list").stdout

    added = cli("shops", "add", "acme", "--url", "acme", "--token-env", "UNSET_SHOP_TOKEN", "--no-check")
    assert "added shop acme (https://acme.myshopify.com, API" in added.stdout
    assert "$UNSET_SHOP_TOKEN" in cli("shops", "list").stdout


def test_a_retired_api_version_is_added_with_a_warning(cli) -> None:  # type: ignore[no-untyped-def]
    retired = versions_ago(5)
    done = cli("shops", "add", "acme", "--url", "acme.myshopify.com", "--token-env", "SHOP_TOKEN",
               "--api-version", retired)
    assert f"API {retired})" in done.stdout
    assert done.stderr.startswith("warning: ") and "retired" in done.stderr
    current = cli("shops", "add", "beta", "--url", "beta", "--token-env", "SHOP_TOKEN",
                  "--api-version", versions_ago(0))
    assert current.stderr == ""


def test_a_cron_that_never_fires_is_refused_without_a_traceback(cli) -> None:  # type: ignore[no-untyped-def]
    cli("shops", "add", "acme", "--url", "acme", "--token-env", "SHOP_TOKEN")
    before = cli("jobs", "list").stdout
    refused(cli("jobs", "schedule", "1", "--cron", "0 0 31 2 *", check=False), "never fires")
    refused(cli("jobs", "schedule", "1", "--cron", "0 * * * *", "--timezone", "Mars/Olympus" + "x" * 5000,
                check=False), "unknown timezone")
    assert cli("jobs", "list").stdout == before


def test_windows_out_of_bounds_are_refused_before_a_run_is_recorded(cli, sim_url: str) -> None:  # type: ignore[no-untyped-def]
    cli("shops", "add", "acme", "--url", sim_url, "--token-env", "SHOP_TOKEN")
    refused(cli("run", "canceled-items", "--shop", "acme", "--from", "2099-01-01", check=False), "in the future")
    refused(cli("run", "canceled-items", "--shop", "acme", "--from", "1999-12-31", check=False), "before 2006")
    refused(cli("backfill", "--shop", "acme", "--since", "1999-12-31", check=False), "before 2006")
    jobs = cli("jobs", "list").stdout
    assert "acme" in jobs and "#" not in jobs  # no run was recorded


def test_a_bad_api_token_name_is_refused(cli) -> None:  # type: ignore[no-untyped-def]
    refused(cli("tokens", "create", "--role", "read", "--name", "n" * 300, check=False), "at most 255")
    assert cli("tokens", "list").stdout == ""
