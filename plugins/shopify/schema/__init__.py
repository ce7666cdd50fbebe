"""The Shopify Admin GraphQL API schemas shipped with the package.

The ``admin_<version>.introspection.json.gz`` files beside this module are byte-identical copies
of Shopify's own introspection results (npm ``@shopify/dev-mcp`` 1.16.0, see
``../shared/shopify/README.md`` in the development tree). They ship in the package because the
simulator and the query checks must work on a machine that has no ``shared`` folder.

Building a schema takes about half a second per version, so each is built once, lazily, and
cached: a :class:`~graphql.GraphQLSchema` is never mutated after it is built, so sharing it is safe.
"""

from __future__ import annotations

import gzip
import json
import re
from functools import cache
from pathlib import Path

from graphql import GraphQLSchema, build_client_schema, validate_schema

__all__ = ["SCHEMA_VERSIONS", "SHOPIFY_SCHEMA_QUIRK", "accepted_schema_errors", "introspection_path", "load_schema"]

SCHEMA_VERSIONS: tuple[str, ...] = ("2025-10", "2026-07")
"""API versions whose introspection file ships in this folder, oldest first."""

SHOPIFY_SCHEMA_QUIRK = re.compile(
    r"^Interface field \S+ is not deprecated, so implementation field \S+ must not be deprecated\.$"
)
"""The one schema rule Shopify's published schemas break under graphql-core 3.3.

graphql-core 3.3 enforces a newer spec rule: an implementation of a non-deprecated interface field
must not itself be deprecated. Shopify's schemas have six such fields (``Node.id`` on
``ChannelDefinition``, ``HasMetafields.metafield`` on ``MediaImage``, ...). That says nothing about
the documents we validate or execute, so :func:`load_schema` accepts those errors, and only those.
"""

_FOLDER = Path(__file__).resolve().parent
_ACCEPTED: dict[str, tuple[str, ...]] = {}


def introspection_path(version: str) -> Path:
    """Path of the shipped introspection file for ``version`` (``YYYY-MM``)."""
    if version not in SCHEMA_VERSIONS:
        raise LookupError(f"no Shopify Admin schema is shipped for API version {version!r}; have {SCHEMA_VERSIONS}")
    return _FOLDER / f"admin_{version}.introspection.json.gz"


@cache
def load_schema(version: str) -> GraphQLSchema:
    """The Admin API schema of ``version``, built once per process.

    Raises:
        LookupError: no file ships for that version.
        TypeError: the schema breaks a rule other than :data:`SHOPIFY_SCHEMA_QUIRK`.
    """
    with gzip.open(introspection_path(version)) as fh:
        introspection = json.load(fh)["data"]
    schema = build_client_schema(introspection)
    messages = [e.message for e in validate_schema(schema)]
    unexpected = [m for m in messages if not SHOPIFY_SCHEMA_QUIRK.match(m)]
    if unexpected:
        raise TypeError(f"Shopify Admin schema {version} is invalid: " + "; ".join(unexpected))
    _ACCEPTED[version] = tuple(messages)
    # The only errors were the known quirk: mark the schema as validated so that graphql-core's
    # validate()/execute() (which call assert_valid_schema) accept it.
    schema._validation_errors = []  # noqa: SLF001 - graphql-core's own cache of validate_schema()
    return schema


def accepted_schema_errors(version: str) -> tuple[str, ...]:
    """The schema-validation messages :func:`load_schema` accepted for ``version`` (the quirk)."""
    load_schema(version)
    return _ACCEPTED[version]
