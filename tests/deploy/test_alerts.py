"""The sample alert rules (docs/alerts.yml) are valid Prometheus rules, and each alert fires on
the series it is meant for and stays quiet on the others (tests/deploy/alerts_test.yml)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from ..services import unavailable

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "docs" / "alerts.yml"
CASES = Path(__file__).with_name("alerts_test.yml")
SCRAPE = ROOT / "docs" / "deploy" / "prometheus.yml"


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        unavailable("promtool", "install Debian's `prometheus` package")
    assert path is not None
    return path


def _promtool(promtool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool, *args], capture_output=True, text=True, timeout=60, cwd=ROOT)


def test_the_rules_file_is_valid(promtool: str) -> None:
    done = _promtool(promtool, "check", "rules", str(RULES))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_each_alert_fires_where_it_should_and_nowhere_else(promtool: str) -> None:
    done = _promtool(promtool, "test", "rules", str(CASES))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_a_broken_expectation_fails(promtool: str, tmp_path: Path) -> None:
    """The cases can fail: expecting the lag alert for the paused shop makes promtool say no."""
    cases = yaml.safe_load(CASES.read_text())
    cases["rule_files"] = [str(RULES)]
    lagging = cases["tests"][0]["alert_rule_test"][1]
    lagging["exp_alerts"][0]["exp_labels"]["shop"] = "on-hold"
    broken = tmp_path / "broken_test.yml"
    broken.write_text(yaml.safe_dump(cases))
    done = _promtool(promtool, "test", "rules", str(broken))
    assert done.returncode != 0
    assert "SyncGatewayShopLagging" in done.stdout + done.stderr


def test_every_alert_has_a_case_that_fires_it_and_one_that_does_not() -> None:
    alerts = {rule["alert"] for group in yaml.safe_load(RULES.read_text())["groups"]
              for rule in group["rules"] if "alert" in rule}
    cases = yaml.safe_load(CASES.read_text())["tests"]
    fired = {check["alertname"] for case in cases for check in case["alert_rule_test"] if check["exp_alerts"]}
    quiet = {check["alertname"] for case in cases for check in case["alert_rule_test"] if not check["exp_alerts"]}
    assert alerts == fired
    assert alerts == quiet


def test_every_alert_has_a_severity_and_says_what_to_do() -> None:
    for group in yaml.safe_load(RULES.read_text())["groups"]:
        for rule in group["rules"]:
            assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
            assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]
            assert "for" in rule, rule["alert"]


def test_the_sample_prometheus_config_loads_the_rules_and_scrapes_each_kind_of_process(
        promtool: str, tmp_path: Path) -> None:
    # installed as docs/deploy.md says: both files side by side in /etc/prometheus
    (tmp_path / "prometheus.yml").write_text(SCRAPE.read_text())
    (tmp_path / "sync-gateway-alerts.yml").write_text(RULES.read_text())
    done = _promtool(promtool, "check", "config", str(tmp_path / "prometheus.yml"))
    assert done.returncode == 0, done.stdout + done.stderr
    rules = sum(len(group["rules"]) for group in yaml.safe_load(RULES.read_text())["groups"])
    assert f"SUCCESS: {rules} rules found" in done.stdout
    jobs = [job["job_name"] for job in yaml.safe_load(SCRAPE.read_text())["scrape_configs"]]
    # SyncGatewayTargetDown watches up{job=~"sync-gateway.*"}
    assert jobs == ["sync-gateway-api", "sync-gateway-worker", "sync-gateway-scheduler"]
