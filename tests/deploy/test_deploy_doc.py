"""docs/deploy.md points at files that exist, and names every file of the kit it ships."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "deploy.md"
LINK = re.compile(r"\]\((?P<target>[^)#]+)\)")


def test_every_link_resolves() -> None:
    targets = [match["target"] for match in LINK.finditer(DOC.read_text()) if "://" not in match["target"]]
    assert targets
    missing = [target for target in targets if not (DOC.parent / target).exists()]
    assert missing == []


def test_every_file_of_the_kit_is_named() -> None:
    text = DOC.read_text()
    kit = [path for path in (ROOT / "docs" / "deploy").rglob("*") if path.is_file()]
    assert kit
    unnamed = [path.relative_to(ROOT).as_posix() for path in kit if path.name not in text]
    assert unnamed == []


def test_the_readme_links_it() -> None:
    assert "](docs/deploy.md)" in (ROOT / "README.md").read_text()
