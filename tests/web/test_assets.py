"""What the page ships: vendored files exactly as their npm releases, each with its licence; every
document the page sends valid against the exported schema; the files inside the wheel's globs."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from graphql import build_schema, parse, validate

from gateway.web import OPERATIONS, STATIC
from gateway.web.vendor import fetch, manifest, mismatches

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = build_schema((ROOT / "docs" / "schema.graphql").read_text())
DOCUMENTS = sorted(OPERATIONS.glob("*.graphql"))


def test_each_vendored_file_is_the_named_release() -> None:
    assert mismatches() == []


def test_each_vendored_package_ships_its_licence() -> None:
    packages = {entry.package for entry in manifest()}
    licensed = {entry.package for entry in manifest() if entry.file.endswith(".LICENSE.txt")}
    assert packages == licensed


def test_nothing_unlisted_sits_in_the_vendor_folder() -> None:
    assert {p.name for p in (STATIC / "vendor").iterdir()} == {entry.file for entry in manifest()}


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.stem)
def test_each_operation_validates_against_the_schema(path: Path) -> None:
    document = parse(path.read_text())
    assert validate(SCHEMA, document) == []
    # one named operation per file, named as the file: the page loads them by name
    names = [d.name.value for d in document.definitions if getattr(d, "name", None)]
    assert names == [path.stem]


def test_the_page_sends_only_documents_from_the_operations_folder() -> None:
    # api.js is the one place a document is sent, and it sends only what it loaded from
    # /operations (the browser tests also check each document sent against these files).
    transport = (STATIC / "js" / "api.js").read_text()
    assert transport.count("query: await load(name)") == 1
    assert transport.count("query: document") == 1 and "load(name).then((document)" in transport
    screens = {p.name: p.read_text() for p in (STATIC / "js").glob("*.js") if p.name != "api.js"}
    named = set()
    for name, text in screens.items():
        assert not re.search(r"\b(query|mutation|subscription)\s+\w+\s*[({]", text), f"inline GraphQL in {name}"
        named |= set(re.findall(r"""(?<![\w.])(?:query|mutate|subscribe|act)\(\s*(?:[^"',]*\?\s*)?"(\w+)"(?:\s*:\s*"(\w+)")?""", text))
    used = {n for pair in named for n in pair if n}
    assert used == {p.stem for p in DOCUMENTS}, "documents unused or missing: " + str(used ^ {p.stem for p in DOCUMENTS})


def test_the_pages_files_are_inside_the_wheels_package_data() -> None:
    globs = re.search(r'"\*" = \[(.*?)\]', (ROOT / "pyproject.toml").read_text()).group(1)  # type: ignore[union-attr]
    suffixes = {g.strip().strip('"')[1:] for g in globs.split(",")}
    shipped = [p for p in (STATIC.parent).rglob("*") if p.is_file() and p.suffix != ".py"]
    assert shipped and all(p.suffix in suffixes for p in shipped), sorted(
        {p.suffix for p in shipped} - suffixes)


def test_graphiql_loads_nothing_from_another_host() -> None:
    html = (STATIC / "graphiql.html").read_text()
    assert not re.search(r"""(src|href)=["']https?:""", html)
    assert "/static/vendor/graphiql.min.js" in html


@pytest.mark.slow
def test_npm_pack_reproduces_the_vendored_files(tmp_path: Path) -> None:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: the committed files are still checked against vendor.json above")
    fetch(tmp_path)  # raises with each file that differs from its release
    assert mismatches(tmp_path) == []
