"""The package installs with pip, and the gateway then loads it through its entry point: it is
listed with its version and settings (the secret masked) and adds its commands."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import EXAMPLE, REPO, TEST_SECRET_KEY


def test_pip_installs_it_and_the_gateway_loads_it(tmp_path: Path) -> None:
    source = tmp_path / "src"  # a copy, so the build leaves nothing in the repo
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("tests", "build", "*.egg-info", "__pycache__"))
    target = tmp_path / "installed"
    built = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                            str(source)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stdout + built.stderr
    assert (target / "sync_gateway_cancellation_webhooks-0.1.0.dist-info" / "entry_points.txt").exists()

    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNC_GATEWAY_")}
    env.update({"PYTHONPATH": os.pathsep.join([str(target), str(REPO)]), "COLUMNS": "200",
                "SYNC_GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}", "SYNC_GATEWAY_SECRET_KEY": TEST_SECRET_KEY,
                "SYNC_GATEWAY_CANCELLATION_WEBHOOKS__SECRET": "s3cr3t-hmac-key"})

    def gateway(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "gateway", *args], env=env, cwd=tmp_path, capture_output=True,
                              text=True, timeout=120)

    listed = gateway("plugins")
    assert listed.returncode == 0, listed.stderr
    assert "cancellation_webhooks 0.1.0 (cancellation_webhooks)" in listed.stdout
    assert 'secret = "**********"' in listed.stdout and "s3cr3t-hmac-key" not in listed.stdout + listed.stderr
    unset = gateway("cancellation-webhooks", "run", "--once")  # no endpoint configured: a clear refusal
    assert unset.returncode == 1 and "endpoint_url not set" in unset.stderr
    assert "s3cr3t-hmac-key" not in unset.stdout + unset.stderr
    helped = gateway("cancellation-webhooks", "--help")
    assert helped.returncode == 0 and all(name in helped.stdout for name in ("run", "status", "dead", "replay"))
