"""Running ``sync-gateway`` as a user does: a subprocess, in a clean environment of the test's choosing."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

Cli = Callable[..., subprocess.CompletedProcess[str]]


def cli_runner(env: dict[str, str], cwd: Path) -> Cli:
    """``run(*args, check=True)``: the command's result; with ``check``, it must have exited 0."""

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "-m", "gateway", *args], env=env, cwd=cwd,
                              capture_output=True, text=True, timeout=120)
        if check:
            assert done.returncode == 0, done.stdout + done.stderr
        return done

    return run
