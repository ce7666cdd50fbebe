"""The executable itself: its version and its shell completion, in a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path


def sync_gateway(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SYNC_GATEWAY_") and k != "REDIS_URL"}
    clean.update({"SYNC_GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", **env})
    return subprocess.run([sys.executable, "-m", "gateway", *args], env=clean, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)


def test_version_is_the_installed_distributions(tmp_path: Path) -> None:
    done = sync_gateway(tmp_path, "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"sync-gateway {version('sync-gateway')}\n"
    assert not (tmp_path / "cli.db").exists() and not (tmp_path / ".sync-gateway").exists()  # touches nothing


def test_show_completion_prints_a_bash_script_for_sync_gateway(tmp_path: Path) -> None:
    done = sync_gateway(tmp_path, "--show-completion", SHELL="/bin/bash")
    assert done.returncode == 0, done.stderr
    assert "_sync_gateway_completion()" in done.stdout and "complete " in done.stdout
    assert "_SYNC_GATEWAY_COMPLETE=complete_bash" in done.stdout


def test_the_completion_script_completes_subcommands(tmp_path: Path) -> None:
    # What bash runs on <Tab> after `sync-gateway jobs pa`.
    done = sync_gateway(tmp_path, SHELL="/bin/bash", _SYNC_GATEWAY_COMPLETE="complete_bash",
                        COMP_WORDS="sync-gateway jobs pa", COMP_CWORD="2")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["pause"]
    assert not (tmp_path / "cli.db").exists()


def test_version_answers_without_importing_any_plugin(tmp_path: Path) -> None:
    # Loading every plugin costs about a second of imports; the version needs none of them.
    probe = ("import runpy, sys\n"
             "sys.argv = ['sync-gateway', '--version']\n"
             "try:\n    runpy.run_module('gateway', run_name='__main__')\n"
             "except SystemExit:\n    pass\n"
             "print(sorted(m for m in sys.modules if m.startswith('plugins.')))\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={k: v for k, v in os.environ.items() if not k.startswith("SYNC_GATEWAY_")})
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"sync-gateway {version('sync-gateway')}", "[]"]
