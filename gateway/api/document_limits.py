"""A document's shape, measured before it runs: field depth, fragment depth and aliases.

Strawberry's ``QueryDepthLimiter`` and ``MaxAliasesLimiter`` follow fragments by recursion, once
per spread: a chain of 300 fragments raised RecursionError (its raw message went back to the
client), and fragments that each spread the next twice took time doubling with every link
(the depth limiter 2 s at 18 links, the alias count 5 s at 20). Here each definition is walked
once, in a loop, and each fragment's figures are computed once and reused wherever it is
spread, so the time is linear in the document while the figures stay what those limiters
counted (an alias in a fragment spread twice counts twice).

* **Field depth**: the most fields enclosing any selection (``{ shops { id } }`` is 1).
  Introspection fields (``__schema``, ``__type``) are not followed, as strawberry's limiter did,
  so GraphiQL's introspection query passes.
* **Fragment depth**: the most fragments, named or inline, enclosing any selection, following
  spreads. A spread back into a fragment being followed (a cycle, reported by graphql-core's
  NoFragmentCycles) counts once.
* **Aliases**: the aliased fields of all operations, each fragment counted wherever spread.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)


@dataclass
class Depth:
    fields: int = 0
    fragments: int = 0
    aliases: int = 0

    def reach(self, fields: int, fragments: int) -> None:
        self.fields = max(self.fields, fields)
        self.fragments = max(self.fragments, fragments)


@dataclass
class Walk:
    """One definition's own depths, and each named spread with the depths at which it sits."""

    own: Depth = field(default_factory=Depth)
    spreads: list[tuple[int, int, str]] = field(default_factory=list)


def operation_depths(document: DocumentNode) -> dict[str, Depth]:
    """Each operation's depths, by name (``anonymous`` for an unnamed one)."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    walks = {name: _walk(definition.selection_set) for name, definition in fragments.items()}
    measured: dict[str, Depth] = {}
    for name in walks:
        _measure(name, walks, measured)
    depths: dict[str, Depth] = {}
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            name = definition.name.value if definition.name else "anonymous"
            depths[name] = _combine(_walk(definition.selection_set), measured)
    return depths


def _combine(walk: Walk, measured: dict[str, Depth]) -> Depth:
    depth = Depth(walk.own.fields, walk.own.fragments, walk.own.aliases)
    for fields, fragments, target in walk.spreads:
        inner = measured.get(target, Depth())
        depth.reach(fields + inner.fields, fragments + inner.fragments)
        depth.aliases += inner.aliases
    return depth


def _measure(root: str, walks: dict[str, Walk], measured: dict[str, Depth]) -> None:
    """Fill ``measured`` for ``root`` and every fragment it reaches, children first, in a loop."""
    stack: list[tuple[str, bool]] = [(root, False)]
    following: set[str] = set()
    while stack:
        name, children_done = stack.pop()
        if children_done:
            following.discard(name)
            measured[name] = _combine(walks[name], measured)
            continue
        if name in measured or name in following:
            continue
        following.add(name)
        stack.append((name, True))
        stack.extend((target, False) for _, _, target in walks[name].spreads
                     if target in walks and target not in measured and target not in following)


def _walk(selection_set: SelectionSetNode) -> Walk:
    walk = Walk()
    pending = [(selection_set, 0, 0)]
    while pending:
        current, fields, fragments = pending.pop()
        for selection in current.selections:
            walk.own.reach(fields, fragments)
            if isinstance(selection, FragmentSpreadNode):
                walk.spreads.append((fields, fragments + 1, selection.name.value))
            elif isinstance(selection, FieldNode):
                walk.own.aliases += selection.alias is not None
                if selection.selection_set is not None and not selection.name.value.startswith("__"):
                    pending.append((selection.selection_set, fields + 1, fragments))
            elif isinstance(selection, InlineFragmentNode):
                walk.own.reach(fields, fragments + 1)
                pending.append((selection.selection_set, fields, fragments + 1))
    return walk


def limits_rule(*, max_depth: int, max_fragment_depth: int, max_aliases: int) -> type[ASTValidationRule]:
    """A validation rule refusing documents past any of the limits (the field depth and alias
    errors in strawberry's words, so clients see the same errors as before)."""

    class DocumentLimits(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            depths = operation_depths(context.document)
            aliases = sum(depth.aliases for depth in depths.values())
            if aliases > max_aliases:
                context.report_error(GraphQLError(f"{aliases} aliases found. Allowed: {max_aliases}"))
            for name, depth in depths.items():
                if depth.fragments > max_fragment_depth:
                    context.report_error(GraphQLError(
                        f"'{name}' nests fragments {depth.fragments} deep; at most {max_fragment_depth} are allowed."))
                elif depth.fields > max_depth:
                    context.report_error(GraphQLError(f"'{name}' exceeds maximum operation depth of {max_depth}"))

    return DocumentLimits
