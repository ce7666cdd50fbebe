"""Write the schema's SDL to docs/schema.graphql: ``python -m gateway.api.export_schema [--check] [path]``."""

from __future__ import annotations

import sys
from pathlib import Path

from strawberry.printer import print_schema

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "docs" / "schema.graphql"


def render() -> str:
    from .schema import schema

    return print_schema(schema) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    paths = [a for a in args if a != "--check"]
    if len(paths) > 1 or any(a.startswith("-") for a in paths):
        print(__doc__.strip(), file=sys.stderr)  # e.g. --help: never write a file named after it
        return 2
    path = Path(paths[0]) if paths else DEFAULT_PATH
    text = render()
    if check:
        current = path.read_text() if path.exists() else ""
        if current != text:
            print(f"{path} is out of date; run: python -m gateway.api.export_schema", file=sys.stderr)
            return 1
        print(f"{path} is up to date")
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
