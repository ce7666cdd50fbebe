"""The schema: root types merged from each domain's queries and mutations, plus the safety extensions.

``schema`` (built with the default limits) is what ``docs/schema.graphql`` is exported from;
:func:`create_app` builds one with the limits of its own settings.
"""

from __future__ import annotations

from functools import partial
from collections.abc import Iterable
from typing import Any

import pluggy
import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from core import Settings
from core.metrics import GatewayMetrics

from . import error_policy
from .cost import QueryCost
from .document_limits import limits_rule
from .execution import execution_context_for
from .jobs.mutations import JobMutations
from .jobs.queries import JobQueries
from .jobs.subscriptions import JobSubscriptions
from .jobs.types import Job, JobRun
from .metrics import operation_metrics
from .orders.queries import OrderQueries
from .plugin_schema import collect_graphql
from .orders.types import ItemCancellation, Order, OrderItem
from .shops.mutations import ShopMutations
from .shops.queries import ShopQueries
from .shops.types import Shop
from .system.queries import SystemQueries
from .tokens.mutations import TokenMutations
from .tokens.queries import TokenQueries
from .tokens.types import ApiToken

BUILT_IN_ROOTS: dict[str, tuple[type, ...]] = {
    "Query": (OrderQueries, ShopQueries, JobQueries, TokenQueries, SystemQueries),
    "Mutation": (JobMutations, ShopMutations, TokenMutations),
    "Subscription": (JobSubscriptions,),
}
Query = merge_types("Query", BUILT_IN_ROOTS["Query"])
Mutation = merge_types("Mutation", BUILT_IN_ROOTS["Mutation"])
Subscription = merge_types("Subscription", BUILT_IN_ROOTS["Subscription"])

NODE_TYPES = (Order, OrderItem, ItemCancellation, Job, JobRun, Shop, ApiToken)

MAX_ALIASES = 30
MAX_TOKENS = 5000
CACHE_SIZE = 256


class GatewaySchema(strawberry.Schema):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.execution_context_class = execution_context_for(self._schema)

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        error_policy.process_errors(errors, execution_context)

    async def execute(self, query: str | None, variable_values: dict[str, Any] | None = None,
                      context_value: Any | None = None, root_value: Any | None = None,
                      operation_name: str | None = None,
                      allowed_operation_types: Iterable[OperationType] | None = None,
                      operation_extensions: dict[str, Any] | None = None) -> Any:
        """Queries and mutations only: subscriptions are served over graphql-transport-ws
        (:meth:`subscribe`). Run here, a subscription's generator would complete as a null and
        be reported as an unexpected error; refused, strawberry answers HTTP 400 saying so."""
        allowed = set(allowed_operation_types or (OperationType.QUERY, OperationType.MUTATION))
        return await super().execute(query, variable_values, context_value, root_value, operation_name,
                                     allowed - {OperationType.SUBSCRIPTION}, operation_extensions)


def _default(name: str) -> Any:
    return Settings.model_fields[name].default


def build_schema(*, max_query_depth: int | None = None, max_fragment_depth: int | None = None,
                 max_query_cost: int | None = None, max_page_size: int | None = None,
                 metrics: GatewayMetrics | None = None, pm: pluggy.PluginManager | None = None) -> GatewaySchema:
    """The schema with these limits; ``metrics``: count every operation in it (the API's);
    ``pm``: add what its plugins contribute through ``register_graphql``."""
    plugged = collect_graphql(pm, BUILT_IN_ROOTS)
    roots = {name: merge_types(name, (*BUILT_IN_ROOTS[name], *plugged.roots[name])) if plugged.roots[name]
             else default for name, default in (("Query", Query), ("Mutation", Mutation),
                                               ("Subscription", Subscription))}
    depth = max_query_depth or _default("max_query_depth")
    fragments = max_fragment_depth or _default("max_fragment_depth")
    cost = partial(QueryCost, max_query_cost=max_query_cost or _default("max_query_cost"),
                   max_page_size=max_page_size or _default("max_page_size"))
    # The depth and alias limits are one validation rule, built once here and added per request
    # (a rule class built per request would make every ValidationCache lookup miss). It is ours
    # (gateway/api/document_limits.py): strawberry's limiters recursed through fragments.
    limits = [limits_rule(max_depth=depth, max_fragment_depth=fragments, max_aliases=MAX_ALIASES)]
    return GatewaySchema(
        query=roots["Query"],
        mutation=roots["Mutation"],
        subscription=roots["Subscription"],
        types=[*NODE_TYPES, *plugged.types],
        extensions=[
            partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
            partial(ParserCache, maxsize=CACHE_SIZE),
            partial(AddValidationRules, limits),
            partial(ValidationCache, maxsize=CACHE_SIZE),
            cost,
            error_policy.MaskUnexpectedErrors,
            *([operation_metrics(metrics)] if metrics is not None else []),
        ],
    )


def schema_for(settings: Settings, *, metrics: GatewayMetrics | None = None,
               pm: pluggy.PluginManager | None = None) -> GatewaySchema:
    """The schema with the limits of ``settings`` (and ``metrics`` counting its operations), with
    the fields the plugins of ``pm`` add."""
    return build_schema(max_query_depth=settings.max_query_depth, max_fragment_depth=settings.max_fragment_depth,
                        max_query_cost=settings.max_query_cost, max_page_size=settings.max_page_size,
                        metrics=metrics, pm=pm)


schema = build_schema()
