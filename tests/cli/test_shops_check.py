"""`sync-gateway shops check NAME`: the connection check of the API, in a subprocess, against the
simulated shop served on a real socket and a real SQLite file."""

from __future__ import annotations

import json

from plugins.shopify.simulator import ShopSimulator

from .test_commands import TOKEN, cli, sim, sim_url  # noqa: F401  (fixtures)


def test_a_good_shop_prints_plan_and_scopes_and_exits_0(cli, sim_url: str) -> None:  # type: ignore[no-untyped-def]
    cli("shops", "add", "acme", "--url", sim_url, "--token-env", "SHOP_TOKEN")
    done = cli("shops", "check", "acme")
    lines = done.stdout.splitlines()
    assert lines[0].startswith("✓ shop acme: Shopify shop cli-shop.myshopify.com")
    assert "  plan: Basic (API budget 2,000 points, 100 per second)" in lines
    assert "  scopes: read_orders" in lines
    assert "  would read more with: read_all_orders" in lines
    assert TOKEN not in done.stdout + done.stderr


def test_json_output_is_the_whole_check(cli, sim_url: str) -> None:  # type: ignore[no-untyped-def]
    cli("shops", "add", "acme", "--url", sim_url, "--token-env", "SHOP_TOKEN")
    check = json.loads(cli("shops", "check", "acme", "--json").stdout)
    assert check["ok"] is True and check["problem"] is None and check["shop"] == "acme"
    assert check["scopes"] == ["read_orders"] and check["plan"] == "Basic"
    assert check["api_points"] == 2000.0 and check["checked_at"].endswith("+00:00")


def test_a_wrong_token_says_bad_token_and_exits_1(cli, sim_url: str) -> None:  # type: ignore[no-untyped-def]
    cli("shops", "add", "acme", "--url", sim_url, "--token", "shpat_wrong_token_value")
    done = cli("shops", "check", "acme", check=False)
    assert done.returncode == 1
    assert done.stdout.startswith("✗ shop acme: BAD_TOKEN: Shopify shop acme")
    assert "refused the access token (HTTP 401)" in done.stdout
    assert "shpat_wrong" not in done.stdout + done.stderr
    failed = json.loads(cli("shops", "check", "acme", "--json", check=False).stdout)
    assert failed["ok"] is False and failed["problem"] == "BAD_TOKEN"


def test_an_unknown_shop_is_one_line_and_exit_1(cli, sim: ShopSimulator) -> None:  # type: ignore[no-untyped-def]
    cli("db", "upgrade")
    done = cli("shops", "check", "nope", check=False)
    assert done.returncode == 1
    assert done.stderr.strip() == "error: no shop named 'nope' (list shops with `sync-gateway shops list`)"
    assert sim.stats.requests == 0
