"""Short paths through graphql-core for the shapes a page of records is made of.

A page of 50 orders with their items is about 1,200 fields, nearly all of them plain values
read off an object (``name``, ``status``, ``quantity``...), inside lists of objects. graphql-core
resolves every field through its general path (a ``Path`` and a ResolveInfo per field,
strawberry's resolver wrapper, the awaitable checks, the completion dispatch, about 4 µs a
field), which made the executor, not the database, the cost of a page. This execution context
keeps graphql-core's results and errors and takes three short paths:

* **leaf fields** that strawberry itself resolves with a bare ``getattr`` (no resolver, no
  arguments, no permission or extension): ``getattr`` and the leaf type's
  ``coerce_output_value``, in one loop per object;
* **fields whose value is already at hand**: plain object fields (``nodes``, ``pageInfo``) and
  fields that declare a *prefetched* attribute (:func:`prefetched`), whose resolver would return
  that attribute when it is set, are completed without calling a resolver;
* **lists of objects** are completed in one loop that runs the items' fields directly.

Anything unusual goes back to graphql-core's own path, so errors keep their usual shape and
location: a null in a non-null field, a value that does not coerce, an item of the wrong type,
an awaitable, a middleware, ``@defer``/``@stream``. ``tests/gateway/test_execution.py`` runs
documents through this context and through graphql-core's and compares the responses.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from graphql import (
    GRAPHQL_MAX_INT,
    GRAPHQL_MIN_INT,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    is_leaf_type,
)
from graphql.pyutils import Path, Undefined
from graphql.pyutils.gather_with_cancel import gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

PREFETCHED = "sync_gateway_prefetched"
"""Key of a strawberry field's ``metadata``: the attribute holding the field's value once loaded."""

LEAF = 0
VALUE = 1

Plan = tuple[Any, ...]
"""``(LEAF, attribute, coerce, nullable, passes)`` or ``(VALUE, attribute, field, list type, item
type, object type)``; ``passes`` is the Python type the leaf type returns as it is (str for String
and ID, int for Int within 32 bits, bool for Boolean), or None; the last three are set for a list
of objects (else None)."""

PASSES = {id(GraphQLString): str, id(GraphQLID): str, id(GraphQLInt): int, id(GraphQLBoolean): bool}


def prefetched(attribute: str) -> dict[str, str]:
    """``metadata`` for a resolver field that returns ``attribute`` whenever it is not None.

    The executor then reads the attribute instead of calling the resolver; the resolver still
    runs when the attribute is None. Only for fields without arguments, permissions or
    extensions (checked when the schema is built).
    """
    return {PREFETCHED: attribute}


def field_plans(schema: GraphQLSchema) -> dict[tuple[str, str], Plan]:
    """The fields eligible for a short path, by (parent type, field name)."""
    plans: dict[tuple[str, str], Plan] = {}
    for type_name, graphql_type in schema.type_map.items():
        if type_name.startswith("__") or not isinstance(graphql_type, GraphQLObjectType):
            continue
        for field_name, field in graphql_type.fields.items():
            plan = _plan(type_name, field_name, field)
            if plan is not None:
                plans[(type_name, field_name)] = plan
    return plans


def _plan(type_name: str, field_name: str, field: GraphQLField) -> Plan | None:
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if definition is None or field.args:
        return None
    attribute = (definition.metadata or {}).get(PREFETCHED)
    if attribute is not None:
        if definition.extensions or definition.permission_classes:
            raise TypeError(f"{type_name}.{field_name}: a prefetched field cannot have permissions or extensions")
        inner = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
        if is_leaf_type(inner):
            # A prefetched leaf (a count) is completed like a plain one, except that None is never
            # taken as the answer: it means "not prefetched", so the resolver runs (nullable=False).
            return (LEAF, attribute, _output_coercion(inner), False, PASSES.get(id(inner)))
        return (VALUE, attribute, field, *_list_of_objects(field))
    plain = (definition.is_basic_field and definition.default_resolver is getattr
             and getattr(field.resolve, "_is_default", False))
    if not plain:
        return None
    inner = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
    if is_leaf_type(inner):
        return (LEAF, definition.python_name, _output_coercion(inner), not isinstance(field.type, GraphQLNonNull),
                PASSES.get(id(inner)))
    return (VALUE, definition.python_name, field, *_list_of_objects(field))


def _list_of_objects(field: GraphQLField) -> tuple[Any, Any, Any]:
    """``(list type, item type, object type)`` when the field is a list of objects (``[T]``,
    ``[T!]``, ``[T]!`` or ``[T!]!``), else three Nones."""
    outer = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
    if not isinstance(outer, GraphQLList):
        return None, None, None
    item_type = outer.of_type
    object_type = item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type
    if not isinstance(object_type, GraphQLObjectType):
        return None, None, None
    return outer, item_type, object_type


def _output_coercion(leaf: Any) -> Callable[[Any], Any]:
    """The leaf type's ``coerce_output_value``, answered at once for the values it returns as they
    are (a ``str`` for String and ID, an ``int`` in range for Int, a ``bool``, a member of a
    strawberry enum); anything else goes to the type's own coercion."""
    coerce: Callable[[Any], Any] = leaf.coerce_output_value
    if leaf is GraphQLString or leaf is GraphQLID:
        return lambda value: value if type(value) is str else coerce(value)
    if leaf is GraphQLInt:
        return lambda value: value if type(value) is int and GRAPHQL_MIN_INT <= value <= GRAPHQL_MAX_INT else coerce(value)
    if leaf is GraphQLBoolean:
        return lambda value: value if type(value) is bool else coerce(value)
    wrapped = getattr(leaf, "wrapped_cls", None)  # strawberry's enums take their members
    if isinstance(leaf, GraphQLEnumType) and wrapped is not None:
        names = {member: coerce(member) for member in wrapped}
        return lambda value: names[value] if type(value) is wrapped else coerce(value)
    return coerce


class ShortPathExecutionContext(StrawberryGraphQLCoreExecutionContext):
    plans: dict[tuple[str, str], Plan] = {}
    """Set per schema by :func:`execution_context_for`."""
    may_stream = True
    """Whether the schema has ``@stream`` (if not, no list needs graphql-core's stream check)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        self._short_path = not (manager is not None and manager.middlewares)
        # grouped field set id -> (the set, its steps); the set is kept so its id stays unique
        self._steps: dict[int, tuple[Any, list[tuple[str, Any, Plan | None]]]] = {}

    def _steps_for(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> list[tuple[str, Any, Plan | None]]:
        cached = self._steps.get(id(grouped_field_set))
        if cached is not None and cached[0] is grouped_field_set:
            return cached[1]
        steps = []
        for response_name, field_details_list in grouped_field_set.items():
            node = field_details_list[0].node
            plan = None if node.arguments else self.plans.get((parent_type.name, node.name.value))
            steps.append((response_name, field_details_list, plan))
        self._steps[id(grouped_field_set)] = (grouped_field_set, steps)
        return steps

    def execute_fields(self, parent_type, source_value, path, grouped_field_set, position_context):  # type: ignore[no-untyped-def,override]
        if not self._short_path:
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        # graphql-core's execute_fields, with the short paths taken before a Path is even built
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for response_name, field_details_list, plan in self._steps_for(parent_type, grouped_field_set):
                if plan is not None and plan[0] is LEAF:
                    value = getattr(source_value, plan[1], Undefined)
                    passes = type(value)
                    if passes is plan[4] and (passes is not int or GRAPHQL_MIN_INT <= value <= GRAPHQL_MAX_INT):
                        results[response_name] = value  # what the leaf type's coercion would return
                        continue
                    if value is None:
                        if plan[3]:
                            results[response_name] = None
                            continue
                    elif value is not Undefined:
                        try:
                            coerced = plan[2](value)
                        except Exception:  # graphql-core's path reports it with the field's location
                            coerced = Undefined
                        if coerced is not Undefined and coerced is not None:
                            results[response_name] = coerced
                            continue
                field_path = Path(path, response_name, parent_type.name)
                value = Undefined
                if plan is not None and plan[0] is VALUE:
                    value = getattr(source_value, plan[1], Undefined)
                if value is None or value is Undefined:
                    result = self.execute_field(parent_type, source_value, field_details_list, field_path,
                                                position_context)
                elif plan[3] is not None and position_context is None and type(value) in (list, tuple):  # type: ignore[index]
                    result = self._complete_list_at_hand(plan, parent_type, field_details_list, field_path, value)  # type: ignore[arg-type]
                else:
                    result = self._complete_resolved(plan[2], parent_type, field_details_list, field_path,  # type: ignore[index]
                                                     value, position_context)
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            if len(awaitable_fields) == 1:  # as graphql-core: one awaitable needs no gathering
                results[awaitable_fields[0]] = await results[awaitable_fields[0]]
            else:
                awaited = await gather_with_cancel(*(results[field] for field in awaitable_fields))
                results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()

    def _complete_resolved(self, field_def: GraphQLField, parent_type: GraphQLObjectType, field_details_list: Any,
                           path: Path, result: Any, position_context: Any) -> Any:
        """graphql-core's execute_field from the point where the resolver has returned ``result``."""
        return_type = field_def.type
        info = self.build_resolve_info(field_def, [d.node for d in field_details_list], parent_type, path)
        try:
            completed = self.complete_value(return_type, field_details_list, info, path, result, position_context)
            if self.is_awaitable(completed):
                return self._settle(completed, return_type, field_details_list, path)
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None
        return completed

    def _complete_list_at_hand(self, plan: Plan, parent_type: GraphQLObjectType, field_details_list: Any,
                               path: Path, items: Any) -> Any:
        """A list of objects already at hand, completed as :meth:`complete_list_value` would be
        reached through graphql-core's complete_value (the list is not None, so its non-null
        check passes), without that dispatch."""
        _, _, field_def, list_type, item_type, object_type = plan
        info = self.build_resolve_info(field_def, [d.node for d in field_details_list], parent_type, path)
        try:
            if self.may_stream and self.get_stream_usage(field_details_list, path) is not None:
                completed = super().complete_list_value(list_type, field_details_list, info, path, items, None)
            else:
                grouped_field_set, new_defer_usages, _ = self.collect_subfields(object_type, field_details_list)
                if new_defer_usages:
                    completed = super().complete_list_value(list_type, field_details_list, info, path, items, None)
                else:
                    completed = self._complete_objects(object_type, item_type, grouped_field_set,
                                                       field_details_list, info, path, items)
            if self.is_awaitable(completed):
                return self._settle(completed, field_def.type, field_details_list, path)
        except Exception as raw_error:
            self.handle_field_error(raw_error, field_def.type, field_details_list, path)
            return None
        return completed

    async def _settle(self, completed: Awaitable[Any], return_type: Any, field_details_list: Any, path: Path) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None

    def complete_list_value(self, return_type, field_details_list, info, path, result, position_context):  # type: ignore[no-untyped-def,override]
        item_type = return_type.of_type
        object_type = item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type
        if (not self._short_path or position_context is not None or type(result) not in (list, tuple)
                or not isinstance(object_type, GraphQLObjectType)
                or (self.may_stream and self.get_stream_usage(field_details_list, path) is not None)):
            return super().complete_list_value(return_type, field_details_list, info, path, result,
                                               position_context)
        grouped_field_set, new_defer_usages, _ = self.collect_subfields(object_type, field_details_list)
        if new_defer_usages:
            return super().complete_list_value(return_type, field_details_list, info, path, result,
                                               position_context)
        return self._complete_objects(object_type, item_type, grouped_field_set, field_details_list, info, path,
                                      result)

    def _complete_objects(self, object_type: GraphQLObjectType, item_type: Any, grouped_field_set: Any,
                          field_details_list: Any, info: Any, path: Path, items: Any) -> Any:
        """graphql-core's complete_iterable_value for a list of objects, each item's fields run directly.

        Items graphql-core would treat specially (None, an exception, an awaitable, one of another
        type) go through its own per-item path.
        """
        is_awaitable = self.is_awaitable
        is_type_of: Callable[[Any, Any], Any] | None = object_type.is_type_of
        completed: list[Any] = []
        awaitable_indices: list[int] = []
        try:
            for index, item in enumerate(items):
                item_path = path.add_key(index, None)
                if is_awaitable(item):
                    completed.append(self.complete_awaitable_list_item_value(
                        item, item_type, field_details_list, info, item_path, None))
                    awaitable_indices.append(index)
                    continue
                if item is None or isinstance(item, Exception) or (
                        is_type_of is not None and is_type_of(item, info) is not True):
                    if self.complete_list_item_value(item, completed, item_type, field_details_list, info,
                                                     item_path, None):
                        awaitable_indices.append(index)
                    continue
                try:
                    value = self.execute_fields(object_type, item, item_path, grouped_field_set, None)
                except Exception as raw_error:
                    self.handle_field_error(raw_error, item_type, field_details_list, item_path)
                    completed.append(None)
                    continue
                if is_awaitable(value):
                    completed.append(self._settle(value, item_type, field_details_list, item_path))
                    awaitable_indices.append(index)
                else:
                    completed.append(value)
        except Exception:
            if awaitable_indices:
                self.settle_in_background([completed[i] for i in awaitable_indices])
            raise
        if not awaitable_indices:
            return completed

        async def get_completed_results() -> list[Any]:
            if len(awaitable_indices) == 1:
                completed[awaitable_indices[0]] = await completed[awaitable_indices[0]]
            else:
                awaited = await gather_with_cancel(*(completed[i] for i in awaitable_indices))
                for i, value in zip(awaitable_indices, awaited, strict=True):
                    completed[i] = value
            return completed

        return get_completed_results()


def execution_context_for(schema: GraphQLSchema) -> type[ShortPathExecutionContext]:
    may_stream = any(directive.name == "stream" for directive in schema.directives)
    return type("GatewayExecutionContext", (ShortPathExecutionContext,),
                {"plans": field_plans(schema), "may_stream": may_stream})
