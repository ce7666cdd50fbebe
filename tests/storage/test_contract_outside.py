"""The contract suite ships: a storage package outside this repository runs it with a conftest
of a few lines and a one-line test module, as docs/writing_plugins.md shows."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

STORAGE = '''
"""A storage of its own: the built-in one under another name, as a third party would wrap it."""
from plugins.storage.sqlalchemy.backend import SqlAlchemyBackend


class OutsideBackend(SqlAlchemyBackend):
    name = "outside"
'''

CONFTEST = '''
import pytest
from outside_storage import OutsideBackend

pytest_plugins = ["core.testing.storage"]


@pytest.fixture
def storage_factory(tmp_path):
    url = f"sqlite:///{tmp_path}/outside.db"
    return lambda cipher: OutsideBackend().open(url, cipher=cipher)
'''

TESTS = "from core.testing.storage.contract import *  # noqa: F403\n"


def _project(root: Path, *, conftest: str) -> Path:
    root.mkdir()
    (root / "pytest.ini").write_text("[pytest]\n")  # its own rootdir: nothing of this repo's configuration
    (root / "outside_storage.py").write_text(STORAGE)
    (root / "conftest.py").write_text(conftest)
    (root / "test_storage_contract.py").write_text(TESTS)
    return root


def _pytest(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SYNC_GATEWAY_", "PYTEST_"))}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=root,
                          env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_a_storage_outside_the_repo_runs_the_whole_contract_suite(tmp_path: Path) -> None:
    from core.testing.storage.contract import CASES

    root = _project(tmp_path / "outside", conftest=CONFTEST)
    done = _pytest(root)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    tests = sum(1 for name in CASES if name.startswith("test_"))
    passed = int(done.stdout.strip().splitlines()[-1].split(" passed")[0].rsplit(" ", 1)[-1])
    assert passed >= tests  # parametrised tests count once per case
    assert "failed" not in done.stdout.splitlines()[-1]


def test_without_a_storage_factory_the_suite_says_what_to_define(tmp_path: Path) -> None:
    conftest = 'pytest_plugins = ["core.testing.storage"]\n'
    root = _project(tmp_path / "no_factory", conftest=conftest)
    done = _pytest(root, "-k", "test_upgrade_twice_is_harmless")
    assert done.returncode != 0
    assert "the storage contract suite needs a `storage_factory` fixture" in done.stdout
