"""core is the public plugin API: it type-checks under mypy --strict (configured in pyproject)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_core_type_checks_strictly() -> None:
    from mypy import api

    stdout, stderr, status = api.run(["--config-file", str(ROOT / "pyproject.toml"), "--no-incremental",
                                      str(ROOT / "core")])
    assert status == 0, stdout + stderr
