"""``sync-gateway plugins`` lists each plugin with its real version (a third-party one's from its
distribution: it showed blank before, as pluggy only knows the distributions it loaded itself),
its hooks, and each settings section's keys with value and default, secrets masked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from gateway.cli.failures import ExitCode

from ..plugin_dists import install_plugin

ROOT = Path(__file__).resolve().parents[2]
SECRET = "ledger-key-do-not-print"


def sync_gateway(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    site = tmp_path / "site"
    if not site.exists():
        install_plugin(site, distribution="ledger-plugin", version="2.3.4", entry_point="ledger",
                       module="tests.ledger_plugin")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SYNC_GATEWAY_") and k != "REDIS_URL"}
    clean.update({"SYNC_GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "COLUMNS": "200",
                  "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]), **env})
    return subprocess.run([sys.executable, "-m", "gateway", "plugins", *args], env=clean, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)


def test_a_third_party_plugin_shows_its_distributions_version_and_its_settings(tmp_path: Path) -> None:
    done = sync_gateway(tmp_path, "--json", SYNC_GATEWAY_LEDGER__API_KEY=SECRET, SYNC_GATEWAY_LEDGER__BATCH="4")
    assert done.returncode == 0, done.stderr
    plugins = {p["name"]: p for p in json.loads(done.stdout)}
    ledger = plugins["ledger"]
    assert ledger["version"] == "2.3.4" and ledger["module"] == "tests.ledger_plugin"
    assert {"register_settings", "register_graphql", "register_routes", "register_commands"} <= set(ledger["hooks"])
    rows = {row["key"]: row for row in ledger["settings"]["ledger"]}
    assert rows["batch"] == {"key": "batch", "value": 4, "default": 10, "description": "Entries per delivery."}
    assert rows["greeting"]["value"] == rows["greeting"]["default"] == "hello"
    assert rows["api_key"]["value"] == "**********" and rows["api_key"]["default"] is None
    assert SECRET not in done.stdout + done.stderr


def test_the_built_in_plugins_list_the_shopify_section_with_the_webhook_secret_masked(tmp_path: Path) -> None:
    done = sync_gateway(tmp_path, SYNC_GATEWAY_SHOPIFY__WEBHOOK_SECRET=SECRET)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("ledger 2.3.4 (tests.ledger_plugin): ") for line in lines), done.stdout
    assert "  [plugins.shopify]" in lines and "  [plugins.ledger]" in lines
    assert '    max_attempts = 6  (default 6; SYNC_GATEWAY_SHOPIFY__MAX_ATTEMPTS)' in lines
    assert '    webhook_secret = "**********"  (default unset; SYNC_GATEWAY_SHOPIFY__WEBHOOK_SECRET)' in lines
    assert SECRET not in done.stdout + done.stderr


def test_an_invalid_plugin_setting_fails_the_listing_in_one_line(tmp_path: Path) -> None:
    done = sync_gateway(tmp_path, SYNC_GATEWAY_LEDGER__BATCH="none")
    assert done.returncode == ExitCode.INVALID_SETTING
    assert "[plugins.ledger] batch" in done.stderr and done.stdout == ""
