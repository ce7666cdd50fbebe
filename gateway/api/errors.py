"""Errors the API reports, and the code each carries in ``extensions.code``.

Queries report problems as GraphQL errors; mutations report bad input as ``userErrors`` in
their payload (like Shopify's Admin API) and keep GraphQL errors for auth and malformed
documents. Codes::

    UNAUTHENTICATED            no token, a malformed Authorization header, an unknown or revoked token
    FORBIDDEN                  a read token asked for an admin-only field or a mutation
    BAD_USER_INPUT             a malformed or wrong-type id, cursor, page size, filter value
    NOT_FOUND                  core.NotFoundError
    READ_TIMEOUT               core.ReadTimeout: a read ran past read_timeout_seconds and was stopped
    GRAPHQL_PARSE_FAILED       a document that does not parse (or has too many tokens)
    GRAPHQL_VALIDATION_FAILED  a document the schema rejects (or too deep, too many aliases)
    MAX_COST_EXCEEDED          the document's requested cost is over max_query_cost (gateway/api/cost.py)
    INTERNAL_SERVER_ERROR      anything unexpected: masked as "Unexpected error. Reference: <id>"

Requests refused before GraphQL runs carry an HTTP status and one of these codes
(:mod:`gateway.api.requests`, :mod:`gateway.api.body_limit`)::

    BAD_REQUEST                400: a body that is not a JSON object, invalid JSON or UTF-8, nesting
                               past the decoder's limit, a batch, a wrong content type
    PAYLOAD_TOO_LARGE          413: a body over max_body_bytes
"""

from __future__ import annotations

from typing import Any

from core import (
    ConfigurationError,
    GatewayError,
    JobError,
    NotFoundError,
    ReadTimeout,
    SourceError,
    ValidationError,
)


class ApiError(Exception):
    """An error raised by the API layer itself, carrying its code (graphql-core copies ``extensions``)."""

    code = "BAD_USER_INPUT"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    @property
    def extensions(self) -> dict[str, Any]:
        ext: dict[str, Any] = {"code": self.code}
        if self.field:
            ext["field"] = self.field
        return ext


class BadInput(ApiError):
    """A malformed or wrong-type id, cursor, page size or filter value."""

    code = "BAD_USER_INPUT"


class Unauthenticated(ApiError):
    code = "UNAUTHENTICATED"


class Forbidden(ApiError):
    code = "FORBIDDEN"


USER_FACING: tuple[type[BaseException], ...] = (
    ApiError,
    ValidationError,
    NotFoundError,
    JobError,
    ConfigurationError,
    SourceError,
    ReadTimeout,
)
"""Errors whose message is written for users and never holds a secret (core/errors.py promises
this for GatewayError). StorageError is not among them: a driver's message can quote SQL
parameters, so it is masked like any unexpected exception. Its ReadTimeout is: that message is ours."""


def code_for(exc: BaseException | None) -> str:
    """The ``extensions.code`` of an error that is shown to the client."""
    if isinstance(exc, ApiError):
        return exc.code
    if isinstance(exc, NotFoundError):
        return "NOT_FOUND"
    if isinstance(exc, ReadTimeout):
        return "READ_TIMEOUT"
    if isinstance(exc, ValidationError):
        return "BAD_USER_INPUT"
    if isinstance(exc, GatewayError):
        return type(exc).__name__.removesuffix("Error").upper() + "_ERROR"
    return "INTERNAL_SERVER_ERROR"


def user_error_code(exc: BaseException) -> str:
    """The ``UserError.code`` of a mutation's bad input (or of work it could not hand on)."""
    if isinstance(exc, NotFoundError):
        return "NOT_FOUND"
    if isinstance(exc, JobError):
        return "UNAVAILABLE"
    return "INVALID"
