"""What a client asked for below the current field, so a listing can fetch children up front.

A page of orders that selects ``items`` (and their ``cancellations``) reads them in the same
worker-thread transaction as the page itself, instead of one DataLoader round per level.
"""

from __future__ import annotations

from collections.abc import Mapping

from graphql import FieldNode, FragmentDefinitionNode, FragmentSpreadNode, InlineFragmentNode, SelectionSetNode

from .context import Info

Path = tuple[str, ...]


def selected_paths(info: Info) -> set[Path]:
    """Every field path (GraphQL names) selected under the current field, fragments flattened.

    Read straight off the document (strawberry's ``selected_fields`` would also convert every
    argument and directive). ``@include``/``@skip`` are not evaluated: a field they leave out may
    still be prefetched.
    """
    raw = info._raw_info
    paths: set[Path] = set()
    for node in raw.field_nodes:
        _walk(node.selection_set, (), paths, raw.fragments)
    return paths


def _walk(selection_set: SelectionSetNode | None, prefix: Path, paths: set[Path],
          fragments: Mapping[str, FragmentDefinitionNode]) -> None:
    if selection_set is None:
        return
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            path = (*prefix, selection.name.value)
            paths.add(path)
            _walk(selection.selection_set, path, paths, fragments)
        elif isinstance(selection, InlineFragmentNode):
            _walk(selection.selection_set, prefix, paths, fragments)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
            _walk(fragments[selection.name.value].selection_set, prefix, paths, fragments)


def under_nodes(paths: set[Path], *rest: str) -> bool:
    """Whether ``nodes.<rest>`` or ``edges.node.<rest>`` is selected."""
    return ("nodes", *rest) in paths or ("edges", "node", *rest) in paths
