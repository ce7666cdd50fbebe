"""Executing a validated query over the store.

Two engines share the resolver table of :mod:`.registry`:

* ``compiled`` (default): the operation is compiled once into a tree of :class:`FieldPlan` (field
  collection, fragments, static arguments and resolver lookup done ahead of time; plans are cached
  per query text), then run with plain loops. About eight times faster than graphql-core's
  executor: a 100-order page with line items and refunds takes ~2.6 ms instead of ~22 ms, which
  matters when benchmarks page 200,000 orders through the simulator.
* ``graphql-core``: :func:`graphql.execute` with a custom field resolver and type resolver over
  the same records. It is the reference implementation of GraphQL semantics; the test suite checks
  that both engines return identical responses.

Both follow the spec's error rules: an error in a field nulls the nearest nullable ancestor and
is reported with its ``path``. Non-null fields the simulator does not model are rejected before
execution (:attr:`ExecutionPlan.errors`), so no engine ever has to invent a value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    ValueNode,
    VariableNode,
    execute,
)
from graphql.execution.values import VariableValues, get_argument_values

from .context import RequestContext
from .documents import Fragments, collect_fields, is_abstract, is_connection, list_depth, named_type
from .registry import resolver_for, typename_of

__all__ = ["FieldPlan", "ExecutionPlan", "compile_plan", "run_plan", "run_graphql_core", "run_fields"]

LEAF, OBJECT, ABSTRACT, TYPENAME = range(4)


def _null(source: Any, args: dict[str, Any], ctx: RequestContext) -> None:
    return None


class FieldPlan:
    """One response key of a selection: how to resolve it and how to complete its value."""

    __slots__ = (
        "key",
        "name",
        "nodes",
        "definition",
        "resolve",
        "static_args",
        "kind",
        "is_list",
        "sub",
        "nullable",
        "item_nullable",
        "parent_name",
        "connection",
        "compiler",
    )

    def __init__(self, key: str, name: str, nodes: list[FieldNode], parent_name: str) -> None:
        self.key, self.name, self.nodes, self.parent_name = key, name, nodes, parent_name
        self.definition: Any = None
        self.resolve: Any = _null
        self.static_args: dict[str, Any] | None = {}
        self.kind = LEAF
        self.is_list = False
        self.sub: Any = None  # OBJECT: list[FieldPlan]; ABSTRACT: {typename: list[FieldPlan]}; TYPENAME: str
        self.nullable = True
        self.item_nullable = True
        self.connection = False
        self.compiler: _Compiler | None = None

    def __repr__(self) -> str:
        return f"FieldPlan({self.parent_name}.{self.name} as {self.key!r})"


def _has_variables(value: ValueNode) -> bool:
    if isinstance(value, VariableNode):
        return True
    if isinstance(value, ListValueNode):
        return any(_has_variables(v) for v in value.values)
    if isinstance(value, ObjectValueNode):
        return any(_has_variables(f.value) for f in value.fields)
    return False


class _Compiler:
    def __init__(self, schema: GraphQLSchema, fragments: Fragments, variables: VariableValues | None) -> None:
        self.schema, self.fragments, self.variables = schema, fragments, variables
        self.errors: list[GraphQLError] = []

    def fields(self, parent: GraphQLObjectType, selection_sets: list[Any]) -> list[FieldPlan]:
        groups = collect_fields(self.schema, self.fragments, self.variables, parent, selection_sets)
        return [self.field(parent, key, nodes) for key, nodes in groups.items()]

    def field(self, parent: GraphQLObjectType, key: str, nodes: list[FieldNode]) -> FieldPlan:
        node = nodes[0]
        name = node.name.value
        plan = FieldPlan(key, name, nodes, parent.name)
        if name == "__typename":
            plan.kind, plan.sub, plan.nullable = TYPENAME, parent.name, False
            return plan
        definition = parent.fields[name]
        plan.definition = definition
        plan.nullable = not isinstance(definition.type, GraphQLNonNull)
        resolve = resolver_for(parent.name, name)
        if resolve is None:
            if not plan.nullable:
                self.errors.append(
                    GraphQLError(
                        f"Field '{parent.name}.{name}' is not simulated by the Shopify simulator"
                        " (it is non-null, so it cannot be answered with null)",
                        nodes,
                        extensions={"code": "NOT_SIMULATED"},
                    )
                )
            return plan  # a nullable field the simulator does not model: always null
        plan.resolve = resolve
        if any(_has_variables(argument.value) for argument in node.arguments or ()):
            plan.static_args = None  # resolved once per request, see _args()
        else:
            plan.static_args = get_argument_values(definition, node, None)
        inner = definition.type.of_type if isinstance(definition.type, GraphQLNonNull) else definition.type
        depth = list_depth(definition.type)
        plan.is_list = depth > 0
        if isinstance(inner, GraphQLList):
            plan.item_nullable = not isinstance(inner.of_type, GraphQLNonNull)
        type_ = named_type(definition.type)
        plan.connection = is_connection(type_)
        if not hasattr(type_, "fields") and not is_abstract(type_):
            return plan  # scalar or enum: resolvers already return the serialized form
        if depth > 1:
            self.errors.append(GraphQLError(f"Field '{parent.name}.{name}' (nested lists) is not simulated", nodes))
            return plan
        selection_sets = [n.selection_set for n in nodes if n.selection_set]
        if is_abstract(type_):
            plan.kind, plan.sub, plan.compiler = ABSTRACT, {}, self
            plan.nodes = nodes
        else:
            plan.kind, plan.sub = OBJECT, self.fields(type_, selection_sets)
        return plan

    def runtime_fields(self, plan: FieldPlan, typename: str) -> list[FieldPlan]:
        """Sub-plan of an interface/union field for one runtime type, compiled on first use."""
        runtime = self.schema.get_type(typename)
        before = len(self.errors)
        fields = self.fields(runtime, [n.selection_set for n in plan.nodes if n.selection_set])  # type: ignore[arg-type]
        if len(self.errors) > before:
            error = self.errors[before]
            del self.errors[before:]
            raise error
        plan.sub[typename] = fields
        return fields


class ExecutionPlan:
    """A compiled operation; :attr:`errors` lists non-null fields the simulator cannot answer."""

    __slots__ = ("fields", "errors", "root_type")

    def __init__(self, fields: list[FieldPlan], errors: list[GraphQLError], root_type: str) -> None:
        self.fields, self.errors, self.root_type = fields, errors, root_type


def compile_plan(
    schema: GraphQLSchema, operation: OperationDefinitionNode, fragments: Fragments, variables: VariableValues | None
) -> ExecutionPlan:
    compiler = _Compiler(schema, fragments, variables)
    root = schema.mutation_type if operation.operation == OperationType.MUTATION else schema.query_type
    assert root is not None
    fields = compiler.fields(root, [operation.selection_set])
    return ExecutionPlan(fields, compiler.errors, root.name)


# -- running -------------------------------------------------------------------------------------------


class _Bubble(Exception):
    """A field error travelling up to the nearest nullable ancestor, collecting its path."""

    def __init__(self, error: GraphQLError, nodes: list[FieldNode], key: str) -> None:
        super().__init__(error.message)
        self.error, self.nodes, self.path = error, nodes, [key]

    def located(self) -> GraphQLError:
        return GraphQLError(
            self.error.message,
            self.error.nodes or self.nodes,
            path=list(reversed(self.path)),
            extensions=self.error.extensions or None,
        )


def _args(plan: FieldPlan, ctx: RequestContext) -> dict[str, Any]:
    cached = ctx.arg_cache.get(plan)
    if cached is None:
        cached = ctx.arg_cache[plan] = get_argument_values(plan.definition, plan.nodes[0], ctx.variables)
    return cached


def _sub_for(plan: FieldPlan, value: Any) -> list[FieldPlan]:
    if plan.kind == OBJECT:
        return plan.sub  # type: ignore[no-any-return]
    typename = typename_of(value)
    fields = plan.sub.get(typename)
    if fields is None:
        assert plan.compiler is not None
        fields = plan.compiler.runtime_fields(plan, typename)
    return fields  # type: ignore[no-any-return]


def _null_error(plan: FieldPlan) -> GraphQLError:
    return GraphQLError(f"Cannot return null for non-nullable field {plan.parent_name}.{plan.name}.")


def run_fields(source: Any, fields: list[FieldPlan], ctx: RequestContext, errors: list[GraphQLError]) -> dict[str, Any]:
    """Resolve and complete ``fields`` on ``source``; the hot loop of the simulator."""
    out: dict[str, Any] = {}
    for plan in fields:
        kind = plan.kind
        if kind == TYPENAME:
            out[plan.key] = plan.sub
            continue
        try:
            args = plan.static_args
            if args is None:
                args = _args(plan, ctx)
            ctx.field_key = plan.key
            value = plan.resolve(source, args, ctx)
            if value is None:
                if not plan.nullable:
                    raise _null_error(plan)
                out[plan.key] = None
            elif kind == LEAF:
                out[plan.key] = value
            elif not plan.is_list:
                out[plan.key] = run_fields(value, _sub_for(plan, value), ctx, errors)
            else:
                out[plan.key] = _run_list(value, plan, ctx, errors)
        except _Bubble as bubble:
            bubble.path.append(plan.key)
            if not plan.nullable:
                raise
            out[plan.key] = None
            errors.append(bubble.located())
        except GraphQLError as error:
            bubble = _Bubble(error, plan.nodes, plan.key)
            if not plan.nullable:
                raise bubble from None
            out[plan.key] = None
            errors.append(bubble.located())
    return out


def _run_list(values: Any, plan: FieldPlan, ctx: RequestContext, errors: list[GraphQLError]) -> list[Any]:
    out: list[Any] = []
    for index, value in enumerate(values):
        try:
            if value is None:
                if not plan.item_nullable:
                    raise _null_error(plan)
                out.append(None)
            else:
                out.append(run_fields(value, _sub_for(plan, value), ctx, errors))
        except _Bubble as bubble:
            bubble.path.append(index)  # type: ignore[arg-type]
            if not plan.item_nullable:
                raise
            out.append(None)
            errors.append(bubble.located())
        except GraphQLError as error:
            bubble = _Bubble(error, plan.nodes, index)  # type: ignore[arg-type]
            if not plan.item_nullable:
                raise bubble from None
            out.append(None)
            errors.append(bubble.located())
    return out


def run_plan(plan: ExecutionPlan, ctx: RequestContext) -> tuple[dict[str, Any] | None, list[GraphQLError]]:
    """Execute a compiled operation: ``(data, errors)`` as a GraphQL response carries them."""
    errors: list[GraphQLError] = []
    try:
        data: dict[str, Any] | None = run_fields(None, plan.fields, ctx, errors)
    except _Bubble as bubble:
        data = None
        errors.append(bubble.located())
    return data, errors


# -- the reference engine ------------------------------------------------------------------------------


def _field_resolver(source: Any, info: Any, **args: Any) -> Any:
    resolve = resolver_for(info.parent_type.name, info.field_name)
    if resolve is None:
        return None  # non-null unsimulated fields were rejected before execution
    ctx: RequestContext = info.context
    ctx.field_key = info.path.key
    return resolve(source, args, ctx)


def _type_resolver(value: Any, info: Any, abstract_type: Any) -> str:
    return typename_of(value)


def run_graphql_core(
    schema: GraphQLSchema,
    document: Any,
    operation_name: str | None,
    raw_variables: Mapping[str, Any] | None,
    ctx: RequestContext,
) -> tuple[dict[str, Any] | None, list[GraphQLError]]:
    """Execute with :func:`graphql.execute` (reference semantics, slower)."""
    result = execute(
        schema,
        document,
        root_value=None,
        context_value=ctx,
        variable_values=dict(raw_variables or {}),
        operation_name=operation_name,
        field_resolver=_field_resolver,
        type_resolver=_type_resolver,
    )
    assert not hasattr(result, "__await__"), "resolvers are synchronous"
    return result.data, list(result.errors or [])  # type: ignore[union-attr]
