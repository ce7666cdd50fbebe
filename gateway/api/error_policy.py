"""What a client sees of an error, and what the log keeps.

* Our own errors (auth, bad input, core's user-facing errors) and graphql-core's parse and
  validation errors (including the depth, alias and token limits) reach the client with their
  message and an ``extensions.code``.
* Everything else is masked as ``Unexpected error. Reference: <id>``; the traceback is logged
  under the same id, so an operator can find it from a user's report.
* Secrets never leave: the values of ``accessToken`` arguments and the caller's bearer token are
  replaced by ``***`` in every message and log line an operation produces.
"""

from __future__ import annotations

import logging
import re
import traceback
import uuid
from collections.abc import Iterable
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import MaskErrors
from strawberry.types import ExecutionContext

from .errors import USER_FACING, code_for

log = logging.getLogger("sync_gateway.api")

SECRET_ARGUMENTS = frozenset({"accessToken"})
_LITERAL_SECRET = re.compile(r'\baccessToken\s*:\s*(?:"""(.*?)"""|"((?:[^"\\]|\\.)*)")', re.S)
REFERENCE_ATTR = "_sync_gateway_reference"
MAX_LOGGED_CHARS = 10_000
"""An unexpected error's log entry keeps the start and the end of its traceback within this: a
recursion that escaped would otherwise write hundreds of kilobytes per request."""


def should_mask(error: GraphQLError) -> bool:
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return False  # parse, validation and limit errors, or a GraphQLError raised on purpose
    return not isinstance(original, USER_FACING)


def secrets_of(execution_context: ExecutionContext | None) -> set[str]:
    """Secret strings that one operation carries: accessToken values and the bearer token."""
    found: set[str] = set()
    if execution_context is None:
        return found
    _collect(execution_context.variables or {}, found)
    query = execution_context.query or ""
    if "accessToken" in query:
        for block, plain in _LITERAL_SECRET.findall(query):
            found.add(block or plain)
    context = execution_context.context
    bearer = getattr(context, "bearer", None)
    if bearer:
        found.add(bearer)
    return {s for s in found if isinstance(s, str) and len(s) >= 4}


def _collect(value: Any, found: set[str]) -> None:
    # a loop, not recursion: variables may nest as deep as the JSON decoder allows (1,024 levels)
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            for key, inner in item.items():
                if key in SECRET_ARGUMENTS and isinstance(inner, str):
                    found.add(inner)
                else:
                    pending.append(inner)
        elif isinstance(item, list):
            pending.extend(item)


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def process_errors(errors: list[GraphQLError], execution_context: ExecutionContext | None) -> None:
    """Called by the schema for every error before extensions see it (replaces strawberry's logging).

    Adds the code to errors the client will see, removes secrets from their messages, and logs
    unexpected errors with a reference id and their (redacted) traceback.
    """
    secrets = secrets_of(execution_context)
    for error in errors:
        if should_mask(error):
            _log_unexpected(error, secrets)
            continue
        if secrets:
            error.message = redact(error.message, secrets)
            error.args = (error.message, *error.args[1:])
        extensions = dict(error.extensions or {})
        extensions.setdefault("code", _code(error))
        error.extensions = extensions
        log.debug("graphql error %s: %s", extensions["code"], error.message)


def _code(error: GraphQLError) -> str:
    if error.original_error is not None and not isinstance(error.original_error, GraphQLError):
        return code_for(error.original_error)
    if isinstance(error, GraphQLSyntaxError) or "Parsing aborted" in error.message:
        return "GRAPHQL_PARSE_FAILED"
    if error.path is None:
        return "GRAPHQL_VALIDATION_FAILED"
    return "BAD_USER_INPUT"


def _log_unexpected(error: GraphQLError, secrets: set[str]) -> str:
    reference = getattr(error, REFERENCE_ATTR, None)
    if reference is not None:
        return reference
    reference = uuid.uuid4().hex[:12]
    setattr(error, REFERENCE_ATTR, reference)
    original = error.original_error
    detail = "".join(traceback.format_exception(original)) if original is not None else error.message
    path = ".".join(str(p) for p in error.path or ())
    log.error("unexpected error, reference %s, at %s:\n%s", reference, path or "-",
              bounded(redact(detail, secrets)))
    return reference


def bounded(text: str, limit: int = MAX_LOGGED_CHARS) -> str:
    """``text`` itself, or its first and last ``limit // 2`` characters around a note of the cut."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... {len(text) - 2 * half:,} characters cut ...]\n{text[-half:]}"


class MaskUnexpectedErrors(MaskErrors):
    """MaskErrors that keeps our errors and gives every masked one a reference id."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=should_mask, error_message="Unexpected error.")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        reference = _log_unexpected(error, secrets_of(self.execution_context))
        return GraphQLError(
            message=f"Unexpected error. Reference: {reference}",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=None,
            extensions={"code": "INTERNAL_SERVER_ERROR", "reference": reference},
        )
