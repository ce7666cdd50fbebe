"""Shopify's calculated query cost: requested (static, from the document) and actual (from the data).

Shopify's documentation describes connections as "two points plus the number of objects", so
``orders(first: 250)`` would cost 252. Real responses are far cheaper (research notes C.21):

* ``orders(first: 250) { nodes { id } }``                                  requested **13**
* ``orders(first: 250) { nodes { id lineItems(first: 250) { nodes { id } } } }``  requested **156** (actual 35)

A page-size multiplier that grows with the logarithm of ``first`` fits both measurements::

    k(n) = 0                         if n == 0
           min(n, ceil(log2 n) + 3)  otherwise          (k(250) = 11, k(100) = 10, k(10) = 7, k(1) = 1)

    connection  = 2 + k(first | last) x node        node = 1 + its sub-selections
    object      = 1 + its sub-selections            scalar, enum, __typename = 0
    list field  = k(first) x element if it takes ``first`` (``Order.refunds(first:)``), else 1 x element
    interface / union = 1 + the most expensive of the fragments that may apply
    mutation root field = 10 (its payload selection is free)

    13  = 2 + 11 x 1
    156 = 2 + 11 x (1 + (2 + 11 x 1))

``edges { node }`` and ``nodes`` price the node once (the dearer of the two if both are selected);
``pageInfo`` and ``cursor`` are free. Mutations cost 10 whatever the payload selects: recorded
responses show exactly 10 for ``webPixelCreate { userErrors { … } webPixel { … } }`` and for
``bulkOperationRunQuery``.

The actual cost is the same walk over the data returned: every connection or list instance uses
``k(rows returned)`` times the mean actual cost of its rows (+2 for a connection), summed as
fractions and rounded up once at the end. The fit is an approximation of a formula Shopify does not
publish; the two measured requested costs are reproduced exactly (see tests/simulator/test_cost.py).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
)
from graphql.execution.values import VariableValues

from .documents import Fragments, collect_fields, is_abstract, is_connection, list_depth, named_type, type_conditions

__all__ = ["MAX_PAGE_SIZE", "MUTATION_COST", "CostPlan", "compile_cost_plan", "page_multiplier"]

MAX_PAGE_SIZE = 250
MUTATION_COST = 10

LEAF, OBJECT, LIST, CONNECTION, MUTATION = range(5)


def page_multiplier(n: int) -> int:
    """``k(n)``: what ``n`` rows of a connection or list weigh (see the module docstring)."""
    if n <= 0:
        return 0
    return min(n, math.ceil(math.log2(n)) + 3)


@dataclass(slots=True)
class CostField:
    key: str
    kind: int
    node: FieldNode
    size_args: dict[str, Any] = field(default_factory=dict)  # "first"/"last" -> int | VariableNode
    takes_first: bool = False
    variants: list[list[CostField]] = field(default_factory=list)
    # CONNECTION: where the rows are in the returned data, and what each row's selection costs
    row_paths: list[tuple[tuple[str, ...], list[list[CostField]]]] = field(default_factory=list)
    flat: bool = False  # rows select only scalars: each costs exactly 1, no need to walk them

    def finish(self) -> CostField:
        groups = [v for _, v in self.row_paths] if self.kind == CONNECTION else [self.variants]
        self.flat = all(not variant for variants in groups for variant in variants)
        return self


def _size(field_: CostField, variables: Mapping[str, Any]) -> tuple[str, int | None] | None:
    for name in ("first", "last"):
        if name in field_.size_args:
            raw = field_.size_args[name]
            value = variables.get(raw.name.value) if isinstance(raw, VariableNode) else raw
            if value is not None:
                return name, value
    return None


def _variants_cost(variants: list[list[CostField]], variables: Mapping[str, Any], errors: list[GraphQLError]) -> int:
    return max((sum(_requested(f, variables, errors) for f in variant) for variant in variants), default=0)


def _requested(f: CostField, variables: Mapping[str, Any], errors: list[GraphQLError]) -> int:
    if f.kind == LEAF:
        return 0
    if f.kind == MUTATION:
        return MUTATION_COST
    if f.kind == OBJECT:
        return 1 + _variants_cost(f.variants, variables, errors)
    size = _size(f, variables)
    if f.kind == LIST:
        multiplier = page_multiplier(size[1]) if (f.takes_first and size) else 1
        return multiplier * (1 + _variants_cost(f.variants, variables, errors))
    # CONNECTION
    if size is None:
        errors.append(GraphQLError("you must provide one of first or last", f.node, extensions={"code": "BAD_REQUEST"}))
        return 2
    name, n = size
    if n < 0 or n > MAX_PAGE_SIZE:
        errors.append(
            GraphQLError(
                f"Argument '{name}' on Field '{f.node.name.value}' has an invalid value ({n})."
                f" Expected a page size from 0 to {MAX_PAGE_SIZE}.",
                f.node,
                extensions={"code": "BAD_REQUEST"},
            )
        )
        n = min(max(n, 0), MAX_PAGE_SIZE)
    row = 1 + max((_variants_cost(variants, variables, errors) for _, variants in f.row_paths), default=0)
    return 2 + page_multiplier(n) * row


def _variants_actual(variants: list[list[CostField]], data: Any) -> float:
    return max((sum(_actual(f, data) for f in variant) for variant in variants), default=0.0)


def _actual(f: CostField, data: Mapping[str, Any]) -> float:
    value = data.get(f.key)
    if value is None or f.kind == LEAF:
        return 0.0
    if f.kind == MUTATION:
        return float(MUTATION_COST)
    if f.kind == OBJECT:
        return 1.0 + _variants_actual(f.variants, value)
    if f.kind == LIST:
        rows = [row for row in _flatten(value) if row is not None]
        if not rows:
            return 0.0
        if f.flat:
            mean = 1.0
        else:
            mean = sum(1.0 + _variants_actual(f.variants, row) for row in rows) / len(rows)
        return (page_multiplier(len(rows)) if f.takes_first else 1) * mean
    if f.flat:
        count = max((len(_rows_at(value, path)) for path, _ in f.row_paths), default=0)
        return 2.0 + page_multiplier(count)
    # CONNECTION: row i may appear under several paths (nodes and edges.node): price it once, the max
    per_row: list[float] = []
    for path, variants in f.row_paths:
        for i, row in enumerate(_rows_at(value, path)):
            cost = _variants_actual(variants, row) if row is not None else 0.0
            if i < len(per_row):
                per_row[i] = max(per_row[i], cost)
            else:
                per_row.append(cost)
    if not per_row:
        return 2.0
    mean = sum(1.0 + c for c in per_row) / len(per_row)
    return 2.0 + page_multiplier(len(per_row)) * mean


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [x for item in value for x in _flatten(item)] if value and isinstance(value[0], list) else value
    return [value]


def _rows_at(connection: Mapping[str, Any], path: tuple[str, ...]) -> list[Any]:
    first = connection.get(path[0]) or []
    if len(path) == 1:
        return first
    return [edge.get(path[1]) if edge is not None else None for edge in first]


@dataclass(slots=True)
class CostPlan:
    """The cost shape of one operation; evaluate it per request (variables) and per response (data)."""

    fields: list[CostField]

    def requested(self, variables: Mapping[str, Any]) -> tuple[int, list[GraphQLError]]:
        """Requested cost, and the page-size errors found on the way (missing or too large ``first``)."""
        errors: list[GraphQLError] = []
        return sum(_requested(f, variables, errors) for f in self.fields), errors

    def actual(self, data: Mapping[str, Any] | None) -> int:
        if data is None:
            return 0
        return math.ceil(sum(_actual(f, data) for f in self.fields) - 1e-9)


class _Compiler:
    def __init__(self, schema: GraphQLSchema, fragments: Fragments, variables: VariableValues | None) -> None:
        self.schema, self.fragments, self.variables = schema, fragments, variables

    def selection(self, type_: Any, nodes: list[FieldNode]) -> list[list[CostField]]:
        """Cost variants of the sub-selection of ``nodes`` on an object of ``type_``."""
        sets = [n.selection_set for n in nodes if n.selection_set]
        if not is_abstract(type_):
            return [self.fields(type_, sets)]
        # Interface/union: one variant per concrete type a fragment names, plus the common fields.
        candidates: list[Any] = [type_]
        for name in sorted(type_conditions(self.fragments, sets)):
            concrete = self.schema.get_type(name)
            if isinstance(concrete, GraphQLObjectType) and self.schema.is_sub_type(type_, concrete):
                candidates.append(concrete)
        return [self.fields(candidate, sets) for candidate in candidates]

    def fields(self, parent: Any, sets: list[Any]) -> list[CostField]:
        groups = collect_fields(self.schema, self.fragments, self.variables, parent, sets)
        out = []
        for key, nodes in groups.items():
            name = nodes[0].name.value
            if name.startswith("__"):
                continue
            definition = parent.fields.get(name) if hasattr(parent, "fields") else None
            if definition is None:  # validated documents only ask for existing fields
                continue
            cost_field = self.field(key, nodes, definition)
            if cost_field.kind != LEAF:  # scalars cost nothing: leave them out of every walk
                out.append(cost_field.finish())
        return out

    def field(self, key: str, nodes: list[FieldNode], definition: Any) -> CostField:
        node = nodes[0]
        type_ = named_type(definition.type)
        size_args = {}
        for argument in node.arguments or ():
            if argument.name.value in ("first", "last"):
                value = argument.value
                size_args[argument.name.value] = int(value.value) if isinstance(value, IntValueNode) else value
        if is_connection(type_):
            result = CostField(key, CONNECTION, node, size_args)
            for conn_key, conn_nodes in self.fields_of(type_, nodes).items():
                conn_field = conn_nodes[0].name.value
                if conn_field == "nodes":
                    row_type = named_type(type_.fields["nodes"].type)
                    result.row_paths.append(((conn_key,), self.selection(row_type, conn_nodes)))
                elif conn_field == "edges":
                    edge_type = named_type(type_.fields["edges"].type)
                    for edge_key, edge_nodes in self.fields_of(edge_type, conn_nodes).items():
                        if edge_nodes[0].name.value == "node":
                            row_type = named_type(edge_type.fields["node"].type)
                            result.row_paths.append(((conn_key, edge_key), self.selection(row_type, edge_nodes)))
            return result
        if not hasattr(type_, "fields") and not is_abstract(type_):
            return CostField(key, LEAF, node)
        if list_depth(definition.type):
            return CostField(key, LIST, node, size_args, "first" in definition.args, self.selection(type_, nodes))
        return CostField(key, OBJECT, node, variants=self.selection(type_, nodes))

    def fields_of(self, type_: Any, nodes: list[FieldNode]) -> dict[str, list[FieldNode]]:
        sets = [n.selection_set for n in nodes if n.selection_set]
        return collect_fields(self.schema, self.fragments, self.variables, type_, sets)


def compile_cost_plan(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Fragments,
    variables: VariableValues | None,
) -> CostPlan:
    """Cost shape of ``operation``. ``variables`` only matter for ``@skip``/``@include``."""
    compiler = _Compiler(schema, fragments, variables)
    if operation.operation == OperationType.MUTATION:
        root = schema.mutation_type
        groups = collect_fields(schema, fragments, variables, root, [operation.selection_set])
        return CostPlan(
            [CostField(key, MUTATION, nodes[0]) for key, nodes in groups.items() if not key.startswith("__")]
        )
    root = schema.query_type
    return CostPlan(compiler.fields(root, [operation.selection_set]))
