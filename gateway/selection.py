"""What a client asked for below the current field, so a listing can fetch children up front.

A page of orders that selects ``items`` (and their ``cancellations``) reads them in the same
worker-thread transaction as the page itself, instead of one DataLoader round per level.
"""

from __future__ import annotations

from collections.abc import Iterable

from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from .context import Info

Path = tuple[str, ...]


def selected_paths(info: Info) -> set[Path]:
    """Every field path (GraphQL names) selected under the current field, fragments flattened."""
    paths: set[Path] = set()
    for field in info.selected_fields:
        _walk(field.selections, (), paths)
    return paths


def _walk(selections: Iterable[Selection], prefix: Path, paths: set[Path]) -> None:
    for selection in selections:
        if isinstance(selection, SelectedField):
            path = (*prefix, selection.name)
            paths.add(path)
            _walk(selection.selections, path, paths)
        elif isinstance(selection, (FragmentSpread, InlineFragment)):
            _walk(selection.selections, prefix, paths)


def under_nodes(paths: set[Path], *rest: str) -> bool:
    """Whether ``nodes.<rest>`` or ``edges.node.<rest>`` is selected."""
    return ("nodes", *rest) in paths or ("edges", "node", *rest) in paths
