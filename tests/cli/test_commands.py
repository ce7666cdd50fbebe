"""The CLI as an admin uses it, each command a real subprocess on a real SQLite file, against
the simulated shop served on a real socket."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from plugins.shopify.simulator import ShopSimulator

from ..conftest import TEST_SECRET_KEY
from ..servers import seeded_shop, serving
from .runner import cli_runner

TOKEN = "shpat_cli_secret_value"


@pytest.fixture
def sim() -> ShopSimulator:
    return seeded_shop("cli-shop.myshopify.com", TOKEN, plan="standard", orders=250, seed=21, hours=6)


@pytest.fixture
def sim_url(sim: ShopSimulator) -> Iterator[str]:
    with serving(sim.asgi_app) as url:
        yield url


@pytest.fixture
def cli(tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNC_GATEWAY_") and k != "REDIS_URL"}
    env.update({"SYNC_GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "COLUMNS": "250",
                "SYNC_GATEWAY_SECRET_KEY": TEST_SECRET_KEY,
                "SHOP_TOKEN": TOKEN})

    return cli_runner(env, tmp_path)


def test_an_admin_sets_up_a_shop_and_imports_a_window(cli, sim: ShopSimulator, sim_url: str) -> None:  # type: ignore[no-untyped-def]
    assert "up to date" in cli("db", "upgrade").stdout
    added = cli("shops", "add", "acme", "--url", sim_url, "--token-env", "SHOP_TOKEN").stdout
    assert "added shop acme" in added and "canceled-items" in added

    listed = cli("shops", "list").stdout
    assert "acme" in listed and "$SHOP_TOKEN" in listed and TOKEN not in listed

    done = cli("run", "canceled-items", "--shop", "acme")
    summary = done.stdout.strip().splitlines()[-1]
    expected_units = sum(sim.truth().canceled_units.values())
    assert summary.startswith("✓ canceled-items acme: 250 orders in ")
    assert f"/ {expected_units:,} units canceled" in summary
    assert TOKEN not in done.stdout + done.stderr

    again = cli("run", "canceled-items", "--shop", "acme").stdout.strip().splitlines()[-1]
    assert "0 items / 0 units canceled" in again  # the overlap re-reads, nothing changes

    token = cli("tokens", "create", "--role", "read", "--name", "frontend").stdout.strip()
    assert token.startswith("sgw_") and len(token) > 40
    assert "frontend" in cli("tokens", "list").stdout and token not in cli("tokens", "list").stdout

    jobs = cli("jobs", "list").stdout
    assert "canceled-items" in jobs and "Every hour" in jobs and "SUCCEEDED" in jobs


def test_errors_are_one_clear_line_and_exit_1(cli, sim_url: str) -> None:  # type: ignore[no-untyped-def]
    cli("shops", "add", "acme", "--url", sim_url, "--token", "shpat_wrong_token")

    failed = cli("run", "canceled-items", "--shop", "acme", check=False)
    assert failed.returncode == 1
    assert "failed" in failed.stdout and "access token" in failed.stdout
    assert "shpat_wrong_token" not in failed.stdout + failed.stderr

    unknown = cli("run", "canceled-items", "--shop", "nope", check=False)
    assert unknown.returncode == 1 and "no shop named 'nope'" in unknown.stderr

    bad_cron = cli("jobs", "schedule", "1", "--cron", "every hour", check=False)
    assert bad_cron.returncode == 1 and "invalid cron expression" in bad_cron.stderr

    both = cli("shops", "add", "other", "--url", sim_url, "--token", "a", "--token-env", "B", check=False)
    assert both.returncode == 1 and "exactly one of --token or --token-env" in both.stderr

    no_redis = cli("worker", check=False)
    assert no_redis.returncode == 1 and "REDIS_URL" in no_redis.stderr


def test_the_run_command_does_not_load_the_graphql_server(tmp_path: Path) -> None:
    code = ("import sys; import gateway.cli.app, gateway.cli.foreground, core.runs, core.runtime; "
            "print(sorted(m for m in ('strawberry', 'starlette', 'uvicorn', 'gateway.api.app') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert out.stdout.strip() == "[]"
