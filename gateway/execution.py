"""A short path through graphql-core for plain leaf fields.

Most of a page of orders is leaf fields read straight off an object (``name``, ``status``,
``quantity``...). graphql-core resolves each through its general path: a ResolveInfo object,
strawberry's resolver wrapper, the awaitable check and the completion dispatch, about 20 µs a
field, which makes the executor, not the database, the cost of a 50-order page. For fields that
strawberry itself resolves with a bare ``getattr`` (no resolver, no arguments, no permission or
extension), this execution context does what that path ends up doing, ``getattr`` and the leaf
type's ``coerce_output_value``, and hands anything unusual (a null in a non-null field, a value
that does not coerce, middleware) back to graphql-core, so errors keep their usual shape.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLNonNull, GraphQLObjectType, GraphQLSchema, is_leaf_type
from graphql.pyutils import Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

Plan = tuple[str, Callable[[Any], Any], bool]
"""Python attribute, the leaf type's output coercion, whether null is allowed."""


def leaf_plans(schema: GraphQLSchema) -> dict[tuple[str, str], Plan]:
    """The fields eligible for the short path, by (parent type, field name)."""
    plans: dict[tuple[str, str], Plan] = {}
    for type_name, graphql_type in schema.type_map.items():
        if type_name.startswith("__") or not isinstance(graphql_type, GraphQLObjectType):
            continue
        for field_name, field in graphql_type.fields.items():
            definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            nullable = not isinstance(field.type, GraphQLNonNull)
            leaf = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
            if (definition is None or field.args or not is_leaf_type(leaf)
                    or not getattr(field.resolve, "_is_default", False) or not definition.is_basic_field):
                continue
            plans[(type_name, field_name)] = (definition.python_name, leaf.coerce_output_value, nullable)
    return plans


class LeafShortPathExecutionContext(StrawberryGraphQLCoreExecutionContext):
    plans: dict[tuple[str, str], Plan] = {}
    """Set per schema by :func:`execution_context_for`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        self._short_path = not (manager is not None and manager.middlewares)

    def execute_field(self, parent_type, source, field_details_list, path, position_context):  # type: ignore[no-untyped-def,override]
        if self._short_path:
            node = field_details_list[0].node
            plan = self.plans.get((parent_type.name, node.name.value))
            if plan is not None and not node.arguments:
                attribute, coerce, nullable = plan
                value = getattr(source, attribute, Undefined)
                if value is None and nullable:
                    return None
                if value is not None and value is not Undefined:
                    try:
                        coerced = coerce(value)
                    except Exception:  # graphql-core's path reports it with the field's location
                        coerced = Undefined
                    if coerced is not Undefined and coerced is not None:
                        return coerced
        return super().execute_field(parent_type, source, field_details_list, path, position_context)


def execution_context_for(schema: GraphQLSchema) -> type[LeafShortPathExecutionContext]:
    return type("GatewayExecutionContext", (LeafShortPathExecutionContext,), {"plans": leaf_plans(schema)})
