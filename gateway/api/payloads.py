"""Mutation payloads report bad input as ``userErrors`` (like Shopify), never by raising.

:func:`attempt` runs a blocking core call in a worker thread and turns core's
ValidationError / NotFoundError and our BadInput into ``UserError`` rows, with ``field`` as the
path to the offending input argument; a mutation that hands work on (``runJobNow``) also
reports core's JobError this way, as UNAVAILABLE.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import strawberry

from core import NotFoundError, ValidationError

from .context import Info
from .errors import ApiError, user_error_code

T = TypeVar("T")


@strawberry.type(description="Why a mutation refused its input; nothing was changed.")
class UserError:
    field: list[str] | None = strawberry.field(description="Path to the input argument at fault, if one is.")
    message: str
    code: str | None = strawberry.field(
        description="INVALID, NOT_FOUND, or UNAVAILABLE (the work could not be handed on; try again later).")


def user_error(exc: Exception, paths: Mapping[str, Sequence[str]], default: Sequence[str] | None) -> UserError:
    name = getattr(exc, "field", None)
    if name is not None:
        path: Sequence[str] | None = paths.get(name, [name])
    else:
        path = default
    message = str(exc) if not isinstance(exc, ApiError) else exc.message
    return UserError(field=list(path) if path else None, message=message, code=user_error_code(exc))


async def attempt(
    info: Info,
    work: Callable[..., T],
    *args: Any,
    paths: Mapping[str, Sequence[str]] | None = None,
    not_found: Sequence[str] | None = None,
    also: tuple[type[Exception], ...] = (),
) -> tuple[T | None, list[UserError]]:
    """Call ``work(*args)`` in a thread; return ``(result, [])`` or ``(None, [UserError])``.

    Args:
        paths: core's ``ValidationError.field`` names mapped to input paths (``cron`` to
            ``["schedule", "cron"]``); unmapped names become a one-element path.
        not_found: the path reported for a NotFoundError (usually the id argument).
        also: further core errors this mutation reports as user errors (their messages are
            written for users, see gateway.api.errors.USER_FACING).
    """
    try:
        return await info.context.call(work, *args), []
    except (ValidationError, NotFoundError, ApiError, *also) as exc:
        default = not_found if isinstance(exc, NotFoundError) else None
        return None, [user_error(exc, paths or {}, default)]


def refuse(exc: ApiError | ValidationError, paths: Mapping[str, Sequence[str]] | None = None) -> list[UserError]:
    """UserErrors for input rejected before any core call (a wrong-type id)."""
    return [user_error(exc, paths or {}, None)]
