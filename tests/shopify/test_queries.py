"""Every operation the Shopify source sends is valid against the real Admin API schemas."""

from __future__ import annotations

import gzip
import json
import re
from functools import cache
from pathlib import Path

import pytest
from graphql import (
    GraphQLSchema,
    build_client_schema,
    parse,
    specified_rules,
    validate,
    validate_schema,
)
from graphql.validation import NoUnusedFragmentsRule

from plugins.shopify import queries

API_VERSIONS = ("2025-10", "2026-07")
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "shopify"
SHIPPED = Path(queries.__file__).resolve().parents[1] / "schema"
QUERY_DIR = Path(queries.__file__).resolve().parent


def schema_file(version: str) -> Path:
    """The introspection file of ``version``: the shared folder, else the copy shipped in the package."""
    name = f"admin_{version}.introspection.json.gz"
    for folder in (SHARED, SHIPPED):
        if (folder / name).is_file():
            return folder / name
    pytest.fail(f"{name} is in neither {SHARED} nor {SHIPPED}; the queries cannot be validated", pytrace=False)


# graphql-core 3.3 rejects a deprecated field implementing a non-deprecated interface field;
# Shopify's published schemas have six such fields (Node.id on ChannelDefinition, ...). That
# says nothing about our documents, so those errors, and only those, are accepted.
SHOPIFY_SCHEMA_QUIRK = re.compile(r"^Interface field \S+ is not deprecated, so implementation field \S+ must not be deprecated\.$")


@cache
def admin_schema(version: str) -> GraphQLSchema:
    with gzip.open(schema_file(version)) as fh:
        schema = build_client_schema(json.load(fh)["data"])
    other = [e.message for e in validate_schema(schema) if not SHOPIFY_SCHEMA_QUIRK.match(e.message)]
    assert not other, other
    schema._validation_errors = []  # type: ignore[attr-defined]  # accept the quirk (see above)
    return schema


def test_every_graphql_file_is_an_operation_or_the_fragments() -> None:
    files = {p.stem for p in QUERY_DIR.glob("*.graphql")}
    assert files == {*queries.OPERATIONS, Path(queries.FRAGMENTS_FILE).stem}


@pytest.mark.parametrize("version", API_VERSIONS)
@pytest.mark.parametrize("operation", queries.OPERATIONS)
def test_operation_is_valid(operation: str, version: str) -> None:
    errors = validate(admin_schema(version), parse(queries.load(operation)))
    assert not errors, [e.message for e in errors]


@pytest.mark.parametrize("version", API_VERSIONS)
def test_fragments_file_is_valid(version: str) -> None:
    # The fragments stand alone here, so only "unused" and "undefined variable" would complain.
    rules = [r for r in specified_rules if r is not NoUnusedFragmentsRule]
    document = parse(queries.read(queries.FRAGMENTS_FILE))
    errors = [e for e in validate(admin_schema(version), document, rules) if "Variable" not in e.message]
    assert not errors, [e.message for e in errors]


def test_window_query_pages_by_update_time() -> None:
    text = queries.load(queries.ORDERS_WINDOW)
    assert "sortKey: UPDATED_AT" in text
    for field in ("pageInfo", "hasNextPage", "endCursor", "cancelledAt", "currentQuantity", "restockType"):
        assert field in text


@pytest.mark.parametrize("version", API_VERSIONS)
def test_the_fallback_copies_are_the_shared_schemas(version: str) -> None:
    name = f"admin_{version}.introspection.json.gz"
    shipped = SHIPPED / name
    assert shipped.is_file(), f"{shipped} is missing: without ../shared the queries could not be validated"
    if (SHARED / name).is_file():
        assert shipped.read_bytes() == (SHARED / name).read_bytes()
