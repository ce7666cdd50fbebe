"""The systemd units in docs/deploy/systemd/ are valid for systemd, start real sync-gateway
commands, and stop a worker the way RQ's warm shutdown needs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.settings import Settings

from ..services import unavailable
from .units import INSTALLED, NAMES, UNITS, command
from .units import service as unit_service

# a template is verified as one of its instances, named as the unit's comment says
VERIFIED_AS = {"sync-gateway-worker@.service": "sync-gateway-worker@01.service"}


def _here() -> str:
    """This environment's sync-gateway executable, next to the interpreter running the tests."""
    return str(Path(sys.executable).with_name("sync-gateway"))


def _analyze() -> str:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        unavailable("systemd-analyze", "install systemd")
    assert analyze is not None
    return analyze


def _verifiable_copy(name: str, tmp_path: Path) -> Path:
    """The unit with ExecStart pointed at this environment's executable (verify insists that
    the binary exists), a template as one of its instances."""
    copy = tmp_path / VERIFIED_AS.get(name, name)
    text = (UNITS / name).read_text()
    assert INSTALLED in text
    copy.write_text(text.replace(INSTALLED, _here()))
    return copy


def test_the_kit_has_the_three_units() -> None:
    assert sorted(path.name for path in UNITS.glob("*.service")) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_systemd_verifies_the_unit(name: str, tmp_path: Path) -> None:
    copy = _verifiable_copy(name, tmp_path)
    done = subprocess.run([_analyze(), "verify", str(copy)], capture_output=True, text=True, timeout=60)
    # a misspelt key or a bad value is only a warning (exit status 0): any output is a failure
    assert done.returncode == 0 and not (done.stdout + done.stderr).strip(), done.stdout + done.stderr


@pytest.mark.parametrize("name", NAMES)
def test_systemd_rates_each_unit_well_hardened(name: str, tmp_path: Path) -> None:
    """``systemd-analyze security`` scores exposure from 0 (locked down) to 10; the units
    stay at 2 or below (a unit with no hardening scores 9.6)."""
    copy = _verifiable_copy(name, tmp_path)
    done = subprocess.run([_analyze(), "security", "--offline=true", "--threshold=20", str(copy)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout.strip().splitlines()[-1:]


@pytest.mark.parametrize("name", NAMES)
def test_execstart_is_a_real_sync_gateway_command(name: str) -> None:
    argv = command(name)
    assert argv[0] == INSTALLED
    done = subprocess.run([_here(), *argv[1:], "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("name", NAMES)
def test_each_unit_runs_hardened_as_its_own_user_with_the_shared_environment(name: str) -> None:
    service = unit_service(name)
    assert service["User"] == ["sync-gateway"]
    assert service["EnvironmentFile"] == ["/etc/sync-gateway/env"]
    assert service["Restart"] == ["on-failure"]
    for key, value in {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "PrivateTmp": "yes",
                       "ReadWritePaths": "/var/lib/sync-gateway"}.items():
        assert service[key] == [value], key
    assert "SYNC_GATEWAY_DATA_DIR=/var/lib/sync-gateway" in service["Environment"]


def test_a_stopped_worker_lets_its_run_finish() -> None:
    """SIGTERM to the worker alone (RQ's warm shutdown); its work-horse would die on one. The
    stop waits longer than a run may last before SIGKILL."""
    service = unit_service("sync-gateway-worker@.service")
    assert service["KillSignal"] == ["SIGTERM"]
    assert service["KillMode"] == ["mixed"]
    (timeout,) = service["TimeoutStopSec"]
    assert int(timeout.removesuffix("s")) > Settings.model_fields["job_timeout_seconds"].default


def test_each_worker_instance_and_the_scheduler_serve_metrics_on_ports_of_their_own(
        monkeypatch: pytest.MonkeyPatch) -> None:
    worker = unit_service("sync-gateway-worker@.service")["Environment"]
    scheduler = unit_service("sync-gateway-scheduler.service")["Environment"]
    (template,) = [value for value in worker if value.startswith("SYNC_GATEWAY_METRICS_PORT=")]
    ports = {}
    for instance in ("01", "02", "99"):
        name, _, value = template.replace("%i", instance).partition("=")
        monkeypatch.setenv(name, value)
        ports[instance] = Settings().metrics_port
    assert ports == {"01": 9101, "02": 9102, "99": 9199}
    assert "SYNC_GATEWAY_METRICS_PORT=9200" in scheduler
    assert "--name" in command("sync-gateway-worker@.service")  # RQ names must differ across hosts
    assert command("sync-gateway-worker@.service", "01", "a") != command("sync-gateway-worker@.service", "01", "b")
