"""A query's requested cost, in the manner of Shopify's calculated query cost, and its limit.

Depth and alias limits do not bound the work a document asks for: ``orders(first: 250)`` with
items and their cancellations is shallow and still thousands of rows. Before execution the
document is priced, as Shopify documents its own cost::

    scalar, enum, __typename, introspection   0
    object (or a list of objects)             1 + its selections
    connection (a field taking first/last     2 + n x (its nodes / edges)
      whose type has nodes or edges)            + its other selections (pageInfo, totalCount)

``n`` is ``first`` or ``last`` (a literal, a variable, or the argument's default), at most
``max_page_size``: a larger page is refused by the field itself, with its own error. The edge
object of ``edges { node }`` is free, so it costs as ``nodes`` does. Selections on an abstract
type are added up (an upper bound). A document over ``max_query_cost`` is refused before it
runs with ``MAX_COST_EXCEEDED``; every reply carries ``extensions.cost``::

    {"requestedQueryCost": 252, "maximumAvailable": 1000}

The walk visits each fragment once per request (its cost is kept), and its depth is bounded:
:mod:`gateway.api.document_limits` refused deeper documents during validation.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_leaf_type,
)
from graphql.pyutils import Undefined
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult

PAGE_ARGUMENTS = ("first", "last")
ROW_FIELDS = frozenset({"nodes", "edges"})


class Pricing:
    """The requested cost of one operation, with the request's variables."""

    def __init__(self, schema: GraphQLSchema, fragments: Mapping[str, FragmentDefinitionNode],
                 variables: Mapping[str, Any], defaults: Mapping[str, Any], max_page_size: int) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.defaults = defaults
        self.max_page_size = max_page_size
        self._fragment_costs: dict[str, int] = {}

    def operation(self, operation: OperationDefinitionNode) -> int:
        root = self.schema.get_root_type(operation.operation)
        return 0 if root is None else self.selections(root, operation.selection_set)

    def selections(self, parent: GraphQLNamedType, selection_set: SelectionSetNode | None) -> int:
        return sum(self._field(parent, node) for parent, node in self._fields(parent, selection_set))

    def _fields(self, parent: GraphQLNamedType, selection_set: SelectionSetNode | None) -> Iterator[
            tuple[GraphQLNamedType, FieldNode | FragmentSpreadNode]]:
        """The fields of a selection set, inline fragments opened, each with the type it is on."""
        for selection in selection_set.selections if selection_set is not None else ():
            if isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                if inner is not None:
                    yield from self._fields(inner, selection.selection_set)
            elif isinstance(selection, (FieldNode, FragmentSpreadNode)):
                yield parent, selection  # a spread is priced whole, once per request

    def _field(self, parent: GraphQLNamedType, node: FieldNode | FragmentSpreadNode) -> int:
        if isinstance(node, FragmentSpreadNode):
            return self._fragment(node.name.value)
        fields: Mapping[str, GraphQLField] = getattr(parent, "fields", {})  # unions have none
        definition = fields.get(node.name.value)
        if definition is None:  # __typename, __schema, __type: free
            return 0
        named = get_named_type(definition.type)
        if is_leaf_type(named):
            return 0
        rows = getattr(named, "fields", {}).keys() & ROW_FIELDS
        page = self._page(definition, node) if rows else None
        if page is None:
            return 1 + self.selections(named, node.selection_set)
        per_row = 0
        rest = 0
        for owner, child in self._fields(named, node.selection_set):
            if isinstance(child, FieldNode) and child.name.value in ROW_FIELDS:
                # an edge object is free: edges { node { id } } costs what nodes { id } does
                per_row += self._field(owner, child) - (child.name.value == "edges")
            else:
                rest += self._field(owner, child)
        return 2 + page * per_row + rest

    def _page(self, definition: GraphQLField, node: FieldNode) -> int | None:
        """The rows a connection field asks for, or None when it takes no first/last."""
        taken = [name for name in PAGE_ARGUMENTS if name in definition.args]
        if not taken:
            return None
        given = {argument.name.value: argument.value for argument in node.arguments or ()}
        for name in taken:
            value: Any = Undefined
            raw = given.get(name)
            if isinstance(raw, IntValueNode):
                value = int(raw.value)
            elif isinstance(raw, VariableNode):
                value = self.variables.get(raw.name.value)
                if value is None:
                    value = self.defaults.get(raw.name.value)
            if value is None or value is Undefined:
                value = definition.args[name].default_value
            if isinstance(value, int) and not isinstance(value, bool):
                return max(0, min(value, self.max_page_size))
        return self.max_page_size

    def _fragment(self, name: str) -> int:
        if name not in self._fragment_costs:
            self._fragment_costs[name] = 0  # a cycle (refused in validation) costs nothing more
            fragment = self.fragments.get(name)
            if fragment is not None:
                parent = self.schema.get_type(fragment.type_condition.name.value)
                if parent is not None:
                    self._fragment_costs[name] = self.selections(parent, fragment.selection_set)
        return self._fragment_costs[name]


def requested_cost(schema: GraphQLSchema, document: Any, variables: Mapping[str, Any] | None,
                   operation_name: str | None, *, max_page_size: int) -> int:
    """The cost of the operation that will run (the named one, or the only one)."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [o for o in operations if operation_name is None or (o.name and o.name.value == operation_name)]
    if not chosen:
        return 0
    operation = chosen[0]
    defaults = {}
    for definition in operation.variable_definitions or ():
        if isinstance(definition.default_value, IntValueNode):
            defaults[definition.variable.name.value] = int(definition.default_value.value)
    pricing = Pricing(schema, fragments, variables or {}, defaults, max_page_size)
    return pricing.operation(operation)


class QueryCost(SchemaExtension):
    """Prices each operation before it runs, refuses it over the limit, reports the cost."""

    def __init__(self, *, max_query_cost: int, max_page_size: int) -> None:
        self.max_query_cost = max_query_cost
        self.max_page_size = max_page_size
        self.cost: int | None = None

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.operation_type.value != "subscription":
            self.cost = requested_cost(context.schema._schema, document, context.variables, context.operation_name,
                                       max_page_size=self.max_page_size)
            if self.cost > self.max_query_cost:
                context.result = ExecutionResult(data=None, errors=[GraphQLError(
                    f"Query cost is {self.cost}, which exceeds the single query max cost limit "
                    f"({self.max_query_cost}). Ask for fewer rows (first/last) or fewer nested fields.",
                    extensions={"code": "MAX_COST_EXCEEDED", "cost": self._report()})])
        yield

    def get_results(self) -> dict[str, Any]:
        return {} if self.cost is None else {"cost": self._report()}

    def _report(self) -> dict[str, int | None]:
        return {"requestedQueryCost": self.cost, "maximumAvailable": self.max_query_cost}
