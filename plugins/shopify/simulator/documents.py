"""Walking a validated GraphQL document: field collection, fragments, directives, connections.

The cost calculator, the executor and the bulk-query checker all need the same thing: for an
object of a given runtime type, which fields does a selection set ask for, under which response
keys (aliases), honouring fragments, type conditions and ``@skip``/``@include``. This is the
spec's CollectFields algorithm, kept here once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLIncludeDirective,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLSkipDirective,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)
from graphql.execution.values import VariableValues, get_directive_values

__all__ = [
    "FieldGroups",
    "Fragments",
    "collect_fields",
    "type_conditions",
    "is_abstract",
    "is_connection",
    "named_type",
    "list_depth",
    "uses_directive_variables",
]

Fragments = Mapping[str, FragmentDefinitionNode]
FieldGroups = dict[str, list[FieldNode]]
"""Response key -> the field nodes merged under it (same field; validation guarantees it)."""


def _included(node: Any, variables: VariableValues | None) -> bool:
    if not node.directives:
        return True
    skip = get_directive_values(GraphQLSkipDirective, node, variables)
    if skip is not None and skip["if"]:
        return False
    include = get_directive_values(GraphQLIncludeDirective, node, variables)
    return not (include is not None and not include["if"])


def _applies(schema: GraphQLSchema, condition: str | None, runtime: GraphQLNamedType) -> bool:
    if condition is None or condition == runtime.name:
        return True
    cond = schema.get_type(condition)
    if isinstance(runtime, GraphQLObjectType) and isinstance(cond, GraphQLInterfaceType | GraphQLUnionType):
        return schema.is_sub_type(cond, runtime)
    return False


def collect_fields(
    schema: GraphQLSchema,
    fragments: Fragments,
    variables: VariableValues | None,
    runtime: GraphQLNamedType,
    selection_sets: Iterable[SelectionSetNode],
) -> FieldGroups:
    """Fields the selection sets ask of an object of type ``runtime``, grouped by response key.

    ``variables`` are the operation's coerced variables (they only matter for ``@skip``/``@include``).

    ``runtime`` may be an abstract type: then only fragments without a type condition or on that
    very type apply (used to cost "the fields common to every implementation").
    """
    groups: FieldGroups = {}
    seen: set[str] = set()

    def walk(selection_set: SelectionSetNode) -> None:
        for selection in selection_set.selections:
            if not _included(selection, variables):
                continue
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                groups.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition.name.value if selection.type_condition else None
                if _applies(schema, condition, runtime):
                    walk(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in seen or name not in fragments:
                    continue
                seen.add(name)
                fragment = fragments[name]
                if _applies(schema, fragment.type_condition.name.value, runtime):
                    walk(fragment.selection_set)

    for selection_set in selection_sets:
        walk(selection_set)
    return groups


def type_conditions(fragments: Fragments, selection_sets: Iterable[SelectionSetNode]) -> set[str]:
    """Every type named by a fragment directly inside these selection sets (not inside subfields)."""
    names: set[str] = set()
    seen: set[str] = set()

    def walk(selection_set: SelectionSetNode) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, InlineFragmentNode):
                if selection.type_condition:
                    names.add(selection.type_condition.name.value)
                walk(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                seen.add(selection.name.value)
                fragment = fragments.get(selection.name.value)
                if fragment is not None:
                    names.add(fragment.type_condition.name.value)
                    walk(fragment.selection_set)

    for selection_set in selection_sets:
        walk(selection_set)
    return names


def named_type(type_: GraphQLOutputType) -> GraphQLNamedType:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_


def list_depth(type_: GraphQLOutputType) -> int:
    depth = 0
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        if isinstance(type_, GraphQLList):
            depth += 1
        type_ = type_.of_type
    return depth


def is_abstract(type_: GraphQLNamedType) -> bool:
    return isinstance(type_, GraphQLInterfaceType | GraphQLUnionType)


def is_connection(type_: GraphQLNamedType) -> bool:
    """Shopify's Relay connections: ``…Connection`` objects with ``edges`` and ``pageInfo``."""
    return (
        isinstance(type_, GraphQLObjectType)
        and type_.name.endswith("Connection")
        and "pageInfo" in type_.fields
        and "edges" in type_.fields
    )


def uses_directive_variables(operation: OperationDefinitionNode, fragments: Fragments) -> bool:
    """Whether ``@skip``/``@include`` depend on variables (then plans cannot be cached per text)."""

    def walk(selection_set: SelectionSetNode | None) -> bool:
        if selection_set is None:
            return False
        for selection in selection_set.selections:
            for directive in selection.directives or ():
                if any(isinstance(arg.value, VariableNode) for arg in directive.arguments or ()):
                    return True
            if isinstance(selection, FieldNode | InlineFragmentNode) and walk(selection.selection_set):
                return True
        return False

    return walk(operation.selection_set) or any(walk(f.selection_set) for f in fragments.values())
