"""The GraphQL request pipeline, independent of HTTP framing: body in, Shopify-shaped reply out.

Order of checks, as on Shopify: parse and validate (errors cost nothing) -> requested cost
(> 1000: ``MAX_COST_EXCEEDED``, nothing charged, no ``extensions.cost``) -> bucket admission
(not enough points: ``THROTTLED``, nothing charged) -> execute -> charge the *actual* cost (the
reservation of the requested cost is refunded down to it) -> ``extensions.cost`` on the reply.

Parsing, validation and plan compilation are cached per ``(version, query text, operation)``: an
importer sends the same document for every page, so steady-state requests skip all of it.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from graphql import GraphQLError, GraphQLSchema, OperationType, parse, specified_rules, validate
from graphql.execution.values import VariableValues, get_variable_values
from graphql.language import DocumentNode, FragmentDefinitionNode, OperationDefinitionNode
from graphql.utilities import get_operation_ast

from .context import RequestContext
from .cost import CostPlan, compile_cost_plan
from .documents import uses_directive_variables
from .executor import ExecutionPlan, compile_plan, run_graphql_core, run_plan

if TYPE_CHECKING:
    from .shop import ShopSimulator

__all__ = ["GraphQLEndpoint", "Reply", "SimStats", "RequestRecord", "MAX_QUERY_COST"]

MAX_QUERY_COST = 1000
_CACHE_SIZE = 256

MAX_COST_MESSAGE = (
    "Query cost is {cost}, which exceeds the single query max cost limit (1000).\n\n"
    "See https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\n"
    "cost of a query is calculated.\n\n"
    "To query larger amounts of data with fewer limits, bulk operations should be used instead.\n"
    "See https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n"
)

# graphql-core rule -> the error code Shopify's (graphql-ruby) validator reports for it.
_RULE_CODES = {
    "FieldsOnCorrectTypeRule": "undefinedField",
    "KnownArgumentNamesRule": "argumentNotAccepted",
    "ProvidedRequiredArgumentsRule": "missingRequiredArguments",
    "ScalarLeafsRule": "selectionMismatch",
    "KnownTypeNamesRule": "undefinedType",
    "NoUndefinedVariablesRule": "variableNotDefined",
    "NoUnusedVariablesRule": "variableNotUsed",
    "ValuesOfCorrectTypeRule": "argumentLiteralsIncompatible",
    "VariablesInAllowedPositionRule": "variableMismatch",
    "VariablesAreInputTypesRule": "variableRequiresValidType",
    "KnownFragmentNamesRule": "undefinedFragment",
    "NoUnusedFragmentsRule": "useAndDefineFragment",
    "PossibleFragmentSpreadsRule": "cannotSpreadFragment",
    "OverlappingFieldsCanBeMergedRule": "fieldConflict",
    "UniqueArgumentNamesRule": "argumentUniqueness",
    "KnownDirectivesRule": "undefinedDirective",
    "UniqueOperationNamesRule": "uniquelyNamedOperations",
    "LoneAnonymousOperationRule": "uniquelyNamedOperations",
}


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One GraphQL request, as logged when ``ShopSimulator(record_requests=True)``."""

    number: int
    version: str
    operation_name: str | None
    status: int
    outcome: str  # "ok" | "errors" | "throttled" | "max_cost_exceeded" | "invalid" | fault kind | "unauthorized" | "not_found"
    requested_cost: int | None = None
    actual_cost: int | None = None


@dataclass
class SimStats:
    """Counters over every request to the GraphQL endpoint."""

    requests: int = 0
    throttled: int = 0
    max_cost_exceeded: int = 0
    points_spent: int = 0
    requested_points: int = 0
    errors_injected: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    log: list[RequestRecord] | None = None


@dataclass(slots=True)
class Reply:
    status: int
    body: dict[str, Any] | str
    outcome: str
    headers: dict[str, str] = field(default_factory=dict)
    requested_cost: int | None = None
    actual_cost: int | None = None
    operation_name: str | None = None

    def encode(self) -> bytes:
        return orjson.dumps(self.body)


@dataclass(slots=True)
class _Prepared:
    document: DocumentNode | None = None
    operation: OperationDefinitionNode | None = None
    fragments: dict[str, FragmentDefinitionNode] = field(default_factory=dict)
    errors: list[dict[str, Any]] | None = None
    dynamic: bool = False  # @skip/@include depend on variables: plans are compiled per request
    cost: CostPlan | None = None
    plan: ExecutionPlan | None = None


def _error_json(error: GraphQLError, code: str | None = None) -> dict[str, Any]:
    out = error.formatted
    if code is not None:
        out["extensions"] = {**(out.get("extensions") or {}), "code": code}
    return out


_UNDEFINED_FIELD = re.compile(r"^Cannot query field '([^']+)' on type '([^']+)'\.")


def _shopify_wording(error: dict[str, Any]) -> dict[str, Any]:
    """graphql-ruby's wording for the most common mistake, which clients may match on."""
    match = _UNDEFINED_FIELD.match(error["message"])
    if match and error.get("extensions", {}).get("code") == "undefinedField":
        field_name, type_name = match.groups()
        error["message"] = f"Field '{field_name}' doesn't exist on type '{type_name}'"
        error["extensions"] = {"code": "undefinedField", "typeName": type_name, "fieldName": field_name}
    return error


def _validation_errors(schema: GraphQLSchema, document: DocumentNode) -> list[dict[str, Any]]:
    errors = validate(schema, document)
    if not errors:
        return []
    codes: dict[tuple[str, str], str] = {}
    for rule in specified_rules:  # failure path only: find which rule raised each error
        for error in validate(schema, document, [rule]):
            codes.setdefault((error.message, str(error.locations)), _RULE_CODES.get(rule.__name__, "validationError"))
    return [
        _shopify_wording(_error_json(e, codes.get((e.message, str(e.locations)), "validationError"))) for e in errors
    ]


class GraphQLEndpoint:
    """Runs GraphQL requests for one :class:`~.shop.ShopSimulator`."""

    def __init__(self, shop: ShopSimulator) -> None:
        self.shop = shop
        self._cache: OrderedDict[tuple[str, str, str | None], _Prepared] = OrderedDict()

    # -- preparation -----------------------------------------------------------------------------

    def prepare(self, version: str, query: str, operation_name: str | None) -> _Prepared:
        key = (version, query, operation_name)
        prepared = self._cache.get(key)
        if prepared is not None:
            self._cache.move_to_end(key)
            return prepared
        prepared = self._prepare(self.shop.schema(version), query, operation_name)
        self._cache[key] = prepared
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return prepared

    def _prepare(self, schema: GraphQLSchema, query: str, operation_name: str | None) -> _Prepared:
        try:
            document = parse(query)
        except GraphQLError as error:
            return _Prepared(errors=[_error_json(error, "parseError")])
        errors = _validation_errors(schema, document)
        if errors:
            return _Prepared(errors=errors)
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            message = f"No operation named '{operation_name}'" if operation_name else "An operation name is required"
            return _Prepared(errors=[{"message": message, "extensions": {"code": "OPERATION_NOT_FOUND"}}])
        if operation.operation == OperationType.SUBSCRIPTION:
            return _Prepared(
                errors=[{"message": "Subscriptions are not supported", "extensions": {"code": "BAD_REQUEST"}}]
            )
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        prepared = _Prepared(document, operation, fragments, dynamic=uses_directive_variables(operation, fragments))
        if not prepared.dynamic:
            prepared.cost = compile_cost_plan(schema, operation, fragments, None)
            prepared.plan = compile_plan(schema, operation, fragments, None)
        return prepared

    # -- handling --------------------------------------------------------------------------------

    def handle(self, version: str, payload: dict[str, Any], *, throttle_storm: bool = False) -> Reply:
        """Run one request body (already JSON-decoded) against API ``version``."""
        query, raw_variables = payload.get("query"), payload.get("variables")
        operation_name = payload.get("operationName") or None
        if not isinstance(query, str) or not query.strip():
            return Reply(400, {"errors": {"query": "Required parameter missing or invalid"}}, "invalid")
        if raw_variables is not None and not isinstance(raw_variables, dict):
            return Reply(400, {"errors": {"variables": "Variables must be a JSON object"}}, "invalid")
        if operation_name is not None and not isinstance(operation_name, str):
            return Reply(400, {"errors": {"operationName": "Must be a string"}}, "invalid")
        schema = self.shop.schema(version)
        prepared = self.prepare(version, query, operation_name)
        if prepared.errors is not None:
            return Reply(200, {"errors": prepared.errors}, "invalid", operation_name=operation_name)
        assert prepared.operation is not None and prepared.document is not None
        coerced = get_variable_values(schema, prepared.operation.variable_definitions or (), raw_variables or {})
        if not isinstance(coerced, VariableValues):
            return Reply(200, {"errors": [_error_json(e, "INVALID_VARIABLE") for e in coerced]}, "invalid")
        cost, plan = prepared.cost, prepared.plan
        if prepared.dynamic:
            cost = compile_cost_plan(schema, prepared.operation, prepared.fragments, coerced)
            plan = compile_plan(schema, prepared.operation, prepared.fragments, coerced)
        assert cost is not None and plan is not None
        if plan.errors:
            return Reply(
                200, {"errors": [_error_json(e) for e in plan.errors]}, "invalid", operation_name=operation_name
            )
        reply = self._run(version, payload, prepared, coerced, cost, plan, operation_name, throttle_storm)
        if reply.operation_name is None and prepared.operation.name is not None:
            reply.operation_name = prepared.operation.name.value  # for the request log
        return reply

    def _run(
        self,
        version: str,
        payload: dict[str, Any],
        prepared: _Prepared,
        variables: VariableValues,
        cost: CostPlan,
        plan: ExecutionPlan,
        operation_name: str | None,
        throttle_storm: bool,
    ) -> Reply:
        shop, stats, bucket = self.shop, self.shop.stats, self.shop.bucket
        requested, argument_errors = cost.requested(variables.coerced)
        if requested > MAX_QUERY_COST:
            stats.max_cost_exceeded += 1
            error = {
                "message": MAX_COST_MESSAGE.format(cost=requested),
                "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": MAX_QUERY_COST},
            }
            return Reply(
                200, {"errors": [error]}, "max_cost_exceeded", requested_cost=requested, operation_name=operation_name
            )
        if throttle_storm or not bucket.try_reserve(requested):
            stats.throttled += 1
            status = bucket.status().as_json()
            if throttle_storm:
                status["currentlyAvailable"] = 0
            body = {
                "errors": [
                    {
                        "message": "Throttled",
                        "extensions": {
                            "code": "THROTTLED",
                            "documentation": "https://shopify.dev/api/usage/rate-limits",
                        },
                    }
                ],
                "extensions": {
                    "cost": {"requestedQueryCost": requested, "actualQueryCost": None, "throttleStatus": status}
                },
            }
            return Reply(200, body, "throttled", requested_cost=requested, operation_name=operation_name)

        ctx = RequestContext(shop, shop.store, version, shop.clock.epoch(), variables)
        if argument_errors:  # e.g. a connection without first/last: Shopify charges and answers data: null
            data, errors, actual = None, [_error_json(e) for e in argument_errors], requested
        else:
            if shop.executor == "graphql-core":
                data, raw_errors = run_graphql_core(
                    shop.schema(version), prepared.document, operation_name, payload.get("variables"), ctx
                )
            else:
                data, raw_errors = run_plan(plan, ctx)
            errors = [_error_json(e) for e in raw_errors]
            actual = min(requested, cost.actual(data))
        bucket.refund(requested - actual)
        stats.points_spent += actual
        stats.requested_points += requested
        body: dict[str, Any] = {"data": data}
        if errors:
            body["errors"] = errors
        extensions: dict[str, Any] = {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": bucket.status().as_json(),
            }
        }
        if ctx.search:
            extensions["search"] = ctx.search
        body["extensions"] = extensions
        return Reply(
            200,
            body,
            "errors" if errors else "ok",
            requested_cost=requested,
            actual_cost=actual,
            operation_name=operation_name,
        )
