"""Architecture boundaries: core never imports gateway or plugins; plugins use only core's
public API (the ``core`` package root) and never the gateway."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imports_of(path: Path) -> list[tuple[str, int]]:
    """(module, line) for every import in a file, relative imports resolved."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((module, node.lineno))
    return found


def python_files(folder: str) -> list[Path]:
    return sorted(p for p in (ROOT / folder).rglob("*.py") if "migrations" not in p.parts or p.name != "env.py")


def top(module: str) -> str:
    return module.split(".")[0]


def test_core_never_imports_gateway_or_plugins() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in python_files("core")
        for module, line in imports_of(path)
        if top(module) in {"gateway", "plugins"}
    ]
    assert offenders == []


def test_plugins_use_only_cores_public_api_and_never_the_gateway() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in python_files("plugins")
        for module, line in imports_of(path)
        if top(module) == "gateway" or (top(module) == "core" and module != "core")
    ]
    assert offenders == []


def test_example_plugins_use_only_cores_public_api_and_never_the_gateway_or_plugins() -> None:
    """The examples under ``examples/`` are what a third party copies: their packages (not their
    tests) hold to the plugin rule, and may not lean on the built-in plugins either."""
    packages = [path for path in python_files("examples") if "tests" not in path.relative_to(ROOT).parts]
    assert packages, "no example plugin found under examples/"
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in packages
        for module, line in imports_of(path)
        if top(module) in {"gateway", "plugins"} or (top(module) == "core" and module != "core")
    ]
    assert offenders == []


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    """The boundary tests above would fail if a plugin reached into core internals."""
    fake = ROOT / "plugins" / "_boundary_probe.py"
    fake.write_text("from core.models import Shop\nfrom . import shopify\n")
    try:
        modules = [m for m, _ in imports_of(fake)]
    finally:
        fake.unlink()
    assert "core.models" in modules
    assert "plugins" in modules  # the relative import resolved to its package
