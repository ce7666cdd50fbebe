"""``sync-gateway plugins new NAME --kind hook|source|storage|job``: a plugin package to start from.

It writes ``NAME/`` with a ``pyproject.toml`` registering the ``sync_gateway`` entry point, the
module under ``src/`` (a working plugin of that kind, on core's public API) and tests that pass
as written once the package is installed (``pip install -e NAME``; tests/cli/test_scaffold.py
installs each kind with pip and runs its tests). The templates are the ``*.tmpl`` files beside
this module (package data), filled with :class:`string.Template` (``$module``, ``$name``, ``$kind``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from string import Template

from core.errors import ValidationError

KINDS = ("hook", "source", "storage", "job")
NAME = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")
TEMPLATES = Path(__file__).parent


@dataclass(frozen=True, slots=True)
class Scaffold:
    root: Path
    module: str
    files: tuple[Path, ...]


def module_name(name: str) -> str:
    return name.replace("-", "_")


def files_of(kind: str) -> dict[str, str]:
    """Target path (with ``$module``) -> template file, for ``kind``."""
    common = {"pyproject.toml": "pyproject.toml.tmpl", "README.md": "README.md.tmpl"}
    specific = {
        "hook": {"src/$module/__init__.py": "hook.py.tmpl", "tests/test_plugin.py": "test_hook.py.tmpl"},
        "source": {"src/$module/__init__.py": "source.py.tmpl", "tests/test_plugin.py": "test_source.py.tmpl"},
        "storage": {"src/$module/__init__.py": "storage.py.tmpl", "tests/test_plugin.py": "test_storage.py.tmpl",
                    "conftest.py": "storage_conftest.py.tmpl",
                    "tests/test_storage_contract.py": "test_storage_contract.py.tmpl"},
        "job": {"src/$module/__init__.py": "job.py.tmpl", "tests/test_plugin.py": "test_job.py.tmpl"},
    }[kind]
    return {**common, **specific}


def write_scaffold(name: str, kind: str, directory: Path) -> Scaffold:
    """Write the package ``directory/name``; refuse (writing nothing) a bad name or kind, or a
    folder that exists."""
    if not NAME.match(name):
        raise ValidationError(f"plugin name {name!r} must be lower-case letters and digits, words joined by "
                              "'-' or '_', starting with a letter (it names the package and its module)",
                              field="name")
    if kind not in KINDS:
        raise ValidationError(f"unknown plugin kind {kind!r}; one of: {', '.join(KINDS)}", field="kind")
    root = directory / name
    if root.exists():
        raise ValidationError(f"{root} exists already; choose another name or directory", field="name")
    module = module_name(name)
    values = {"name": name, "module": module, "upper": module.upper(), "kind": kind, "scheme": module.replace("_", "-")}
    rendered = {Template(target).substitute(values): Template((TEMPLATES / source).read_text()).substitute(values)
                for target, source in files_of(kind).items()}
    written = []
    for target, text in rendered.items():
        path = root / target
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    return Scaffold(root=root, module=module, files=tuple(written))
