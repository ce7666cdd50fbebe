"""`sync-gateway shops update NAME`: URL, API version and token source change in place, what is
not given stays, and a bad value is one line that changes nothing. Real subprocesses on SQLite and
PostgreSQL, the shop's check against the simulated shop on a real socket."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..conftest import TEST_SECRET_KEY
from ..servers import seeded_shop, serving
from .test_jobs import Terminal

TOKEN = "shpat_update_secret"


@pytest.fixture
def sim_url() -> Iterator[str]:
    with serving(seeded_shop("moved.myshopify.com", TOKEN, plan="standard", orders=5, seed=3, hours=1).asgi_app) as url:
        yield url


@pytest.fixture
def cli(tmp_path: Path, database_url: str) -> Terminal:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNC_GATEWAY_") and k != "REDIS_URL"}
    env.update({"SYNC_GATEWAY_DATABASE_URL": database_url, "SYNC_GATEWAY_SECRET_KEY": TEST_SECRET_KEY,
                "COLUMNS": "250", "SHOP_TOKEN": TOKEN})
    terminal = Terminal(tmp_path, env)
    terminal("shops", "add", "acme", "--url", "acme.myshopify.com", "--token", "shpat_old_value")
    return terminal


def shop(cli: Terminal) -> dict:  # type: ignore[type-arg]
    (only,) = json.loads(cli("shops", "list", "--json").stdout)
    return only  # type: ignore[no-any-return]


def test_url_and_token_source_move_to_the_simulated_shop(cli: Terminal, sim_url: str) -> None:
    version = shop(cli)["apiVersion"]
    done = cli("shops", "update", "acme", "--url", sim_url, "--token-env", "SHOP_TOKEN")
    assert done.stdout.strip() == f"updated shop acme ({sim_url}, API {version}, $SHOP_TOKEN)"
    assert (shop(cli)["url"], shop(cli)["hasToken"], shop(cli)["tokenEnv"]) == (sim_url, False, "SHOP_TOKEN")
    assert cli("shops", "check", "acme").stdout.startswith("✓ shop acme: Shopify shop moved.myshopify.com")

    cli("shops", "update", "acme", "--token", TOKEN)  # back to a stored token: the variable is dropped
    after = shop(cli)
    assert (after["hasToken"], after["tokenEnv"], after["url"]) == (True, None, sim_url)
    assert cli("shops", "check", "acme").returncode == 0

    assert "API 2026-04" in cli("shops", "update", "acme", "--api-version", "2026-04").stdout
    assert shop(cli)["apiVersion"] == "2026-04" and shop(cli)["url"] == sim_url


def test_bad_updates_are_one_line_and_change_nothing(cli: Terminal) -> None:
    before = shop(cli)
    for args, words in [
        ((), "nothing to change (give --url, --api-version, --token or --token-env)"),
        (("--url", "ftp://acme.example"), "must use http or https"),
        (("--api-version", "2026-02"), "2026-02"),
        (("--token", "a", "--token-env", "B"), "give at most one of --token or --token-env"),
        (("--token-env", "UNSET_VARIABLE"), "the environment variable UNSET_VARIABLE is not set"),
        (("--token-env", "  "), "--token-env cannot be blank"),
        (("--token", "with space"), "must not contain spaces"),
    ]:
        done = cli("shops", "update", "acme", *args, check=False)
        assert done.returncode == 1, done.stdout + done.stderr
        (line,) = done.stderr.strip().splitlines()
        assert line.startswith("error: ") and words in line, line
    assert shop(cli) == before
    unknown = cli("shops", "update", "nope", "--url", "nope.myshopify.com", check=False)
    assert "no shop named 'nope'" in unknown.stderr


def test_a_variable_set_only_where_the_worker_runs_needs_no_check(cli: Terminal) -> None:
    cli("shops", "update", "acme", "--token-env", "WORKER_ONLY_TOKEN", "--no-check")
    assert shop(cli)["tokenEnv"] == "WORKER_ONLY_TOKEN" and shop(cli)["hasToken"] is False
