"""``sync-gateway plugins new NAME --kind K`` writes a package that pip installs and whose tests
pass unchanged: each kind is written by the real executable, installed with pip into a folder of
its own (``--target``, no dependencies: the gateway is already in this environment) and tested
by pytest in a subprocess that sees the package only as installed."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from gateway.cli.failures import ExitCode
from gateway.cli.scaffold import KINDS

from .runner import cli_runner

PIP_SECONDS = 240
PYTEST_SECONDS = 240


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SYNC_GATEWAY_") and k not in {"REDIS_URL",
                                                                                                    "PYTHONPATH"}}
    clean.update({"SYNC_GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "COLUMNS": "200", **extra})
    return clean


@pytest.mark.parametrize("kind", KINDS)
def test_a_new_plugin_installs_with_pip_and_passes_its_own_tests(tmp_path: Path, kind: str) -> None:
    cli = cli_runner(_env(tmp_path), tmp_path)
    written = cli("plugins", "new", f"acme-{kind}", "--kind", kind, "--directory", "work")
    package = tmp_path / "work" / f"acme-{kind}"
    assert f"wrote work/acme-{kind}/ ({kind} plugin, module acme_{kind})" in written.stdout
    project = tomllib.loads((package / "pyproject.toml").read_text())
    assert project["project"]["entry-points"]["sync_gateway"] == {f"acme_{kind}": f"acme_{kind}"}

    target = tmp_path / "installed"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                          str(package)], capture_output=True, text=True, timeout=PIP_SECONDS, env=_env(tmp_path))
    assert pip.returncode == 0, pip.stdout + pip.stderr
    assert (target / f"acme_{kind}" / "__init__.py").exists()

    # the package's own folder, not its source: its tests must import what pip installed
    tested = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs"],
                            cwd=package, capture_output=True, text=True, timeout=PYTEST_SECONDS,
                            env=_env(tmp_path, PYTHONPATH=str(target)))
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert " passed" in tested.stdout and "failed" not in tested.stdout

    listed = cli_runner(_env(tmp_path, PYTHONPATH=str(target)), tmp_path)("plugins")
    assert f"acme_{kind} 0.1.0 (acme_{kind}): " in listed.stdout
    if kind != "storage":  # the storage template declares no settings of its own
        assert f"[plugins.acme_{kind}]" in listed.stdout


@pytest.mark.parametrize(("args", "message"), [
    (("Acme",), "must be lower-case"),
    (("acme", "--kind", "exporter"), "unknown plugin kind 'exporter'; one of: hook, source, storage, job"),
])
def test_a_bad_name_or_kind_is_refused_and_writes_nothing(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    done = cli_runner(_env(tmp_path), tmp_path)("plugins", "new", *args, check=False)
    assert done.returncode == ExitCode.ERROR and message in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_an_existing_folder_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "acme").mkdir()
    (tmp_path / "acme" / "mine.txt").write_text("keep")
    done = cli_runner(_env(tmp_path), tmp_path)("plugins", "new", "acme", check=False)
    assert done.returncode == ExitCode.ERROR and "exists already" in done.stderr
    assert [p.name for p in (tmp_path / "acme").iterdir()] == ["mine.txt"]


def test_the_listing_still_answers_without_a_subcommand(tmp_path: Path) -> None:
    done = cli_runner(_env(tmp_path), tmp_path)("plugins", "--json")
    assert '"name": "shopify"' in done.stdout
