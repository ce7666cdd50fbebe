"""The package ships Shopify's own Admin schemas, byte for byte, and loads them once per version."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import validate_schema

from plugins.shopify.schema import (
    SCHEMA_VERSIONS,
    SHOPIFY_SCHEMA_QUIRK,
    accepted_schema_errors,
    introspection_path,
    load_schema,
)

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "shopify"


@pytest.mark.parametrize("version", SCHEMA_VERSIONS)
def test_shipped_schema_is_byte_identical_to_the_shared_copy(version: str) -> None:
    shared = SHARED / introspection_path(version).name
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent (a checkout without the shared research folder); nothing to compare with")
    assert shared.is_file(), f"{shared} is missing from the shared folder"
    assert introspection_path(version).read_bytes() == shared.read_bytes()


@pytest.mark.parametrize("version", SCHEMA_VERSIONS)
def test_load_schema_builds_each_version_once(version: str) -> None:
    schema = load_schema(version)
    assert load_schema(version) is schema
    assert "Order" in schema.type_map and "RefundLineItem" in schema.type_map


def test_the_versions_are_really_different_schemas() -> None:
    # QueryRoot.bulkOperation(id:) arrived after 2025-10: a version must validate against its own file.
    assert "bulkOperation" not in load_schema("2025-10").query_type.fields
    assert "bulkOperation" in load_schema("2026-07").query_type.fields


@pytest.mark.parametrize("version", SCHEMA_VERSIONS)
def test_only_the_known_deprecation_quirk_is_tolerated(version: str) -> None:
    messages = accepted_schema_errors(version)
    assert messages, "graphql-core no longer complains: the workaround in load_schema can go"
    assert all(SHOPIFY_SCHEMA_QUIRK.match(message) for message in messages)
    assert validate_schema(load_schema(version)) == []  # validate()/execute() accept the loaded schema


def test_unknown_version_is_a_clear_error() -> None:
    with pytest.raises(LookupError, match="2024-01"):
        load_schema("2024-01")
