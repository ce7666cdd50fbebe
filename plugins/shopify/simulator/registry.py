"""Which resolver answers which schema field (one table for every API version).

A field absent from these tables is "not simulated": the executor answers ``null`` if the
schema allows it and otherwise rejects the query up front with a clear error, rather than
inventing data an importer might trust.
"""

from __future__ import annotations

from typing import Any

from .bulk import BULK_RESOLVERS
from .context import RequestContext
from .resolvers import CONNECTION, EDGE, TYPE_RESOLVERS, Resolver
from .roots import ROOT_RESOLVERS

__all__ = ["resolver_for", "typename_of"]

_TABLES: dict[str, dict[str, Resolver]] = {**TYPE_RESOLVERS, **ROOT_RESOLVERS, **BULK_RESOLVERS}

DICT_FIELDS: dict[str, frozenset[str]] = {
    # Small value objects the resolvers build as plain dicts.
    "MoneyBag": frozenset({"shopMoney", "presentmentMoney"}),
    "MoneyV2": frozenset({"amount", "currencyCode"}),
    "Count": frozenset({"count", "precision"}),
    "AccessScope": frozenset({"handle", "description"}),
    "ShopPlan": frozenset({"displayName", "publicDisplayName", "partnerDevelopment", "shopifyPlus"}),
    "BulkOperationRunQueryPayload": frozenset({"bulkOperation", "userErrors"}),
    "BulkOperationCancelPayload": frozenset({"bulkOperation", "userErrors"}),
    "BulkOperationUserError": frozenset({"code", "field", "message"}),
    "UserError": frozenset({"field", "message"}),
}


def _dict_getter(name: str) -> Resolver:
    def get(source: dict[str, Any], args: dict[str, Any], ctx: RequestContext) -> Any:
        return source.get(name)

    return get


def resolver_for(type_name: str, field_name: str) -> Resolver | None:
    """The resolver of ``type_name.field_name``, or None when the simulator does not model it."""
    table = _TABLES.get(type_name)
    if table is not None and field_name in table:
        return table[field_name]
    if field_name in DICT_FIELDS.get(type_name, ()):
        return _dict_getter(field_name)
    if type_name.endswith("Connection") and field_name in CONNECTION:
        return CONNECTION[field_name]
    if type_name.endswith("Edge") and field_name in EDGE:
        return EDGE[field_name]
    return None


def typename_of(value: Any) -> str:
    """Runtime GraphQL type of a record returned for an interface/union field (``node``)."""
    return value.TYPENAME
