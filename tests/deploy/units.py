"""Reading the shipped systemd units (docs/deploy/systemd/) the way the tests need them."""

from __future__ import annotations

import shlex
from pathlib import Path

UNITS = Path(__file__).resolve().parents[2] / "docs" / "deploy" / "systemd"
INSTALLED = "/opt/sync-gateway/venv/bin/sync-gateway"
NAMES = ("sync-gateway-api.service", "sync-gateway-worker@.service", "sync-gateway-scheduler.service")


def service(name: str) -> dict[str, list[str]]:
    """The ``[Service]`` section of a unit: each key with its values, in order."""
    section: dict[str, list[str]] = {}
    current = None
    for raw in (UNITS / name).read_text().splitlines():
        line = raw.strip()
        if line.startswith("["):
            current = line
        elif current == "[Service]" and line and not line.startswith("#"):
            key, _, value = line.partition("=")
            section.setdefault(key, []).append(value)
    return section


def command(name: str, instance: str = "01", host: str = "host") -> list[str]:
    """The unit's ExecStart as argv, with the specifiers it uses expanded."""
    (line,) = service(name)["ExecStart"]
    return shlex.split(line.replace("%i", instance).replace("%H", host))


def kill_signal(name: str) -> str:
    (value,) = service(name).get("KillSignal", ["SIGTERM"])
    return value
