"""Every test of the storage contract suite, for ``from core.testing.storage.contract import *``.

The tests live in :mod:`core.testing.storage.cases`, one module per concept; this module gathers
their tests and the fixtures they define into one namespace, which pytest collects from the test
module that star-imports it. Two cases defining the same name would make one of them vanish, so
that is refused when this module is imported.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import pytest

from . import cases

_FIXTURE_TYPE = type(pytest.fixture(lambda: None))


def _gather() -> dict[str, Any]:
    gathered: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for info in sorted(pkgutil.iter_modules(cases.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{cases.__name__}.{info.name}")
        for name, value in vars(module).items():
            if not (name.startswith("test_") or isinstance(value, _FIXTURE_TYPE)):
                continue
            if getattr(value, "__module__", module.__name__) != module.__name__:
                continue  # imported from elsewhere (the plugin's own fixtures)
            if name in gathered:
                raise RuntimeError(f"the storage contract cases {origin[name]} and {info.name} both define {name!r}")
            gathered[name], origin[name] = value, info.name
    return gathered


CASES = _gather()
globals().update(CASES)
__all__ = sorted(CASES)  # pyright: ignore[reportUnsupportedDunderAll]
