"""Relay-style connections: page-size limits, opaque cursors and ``PageInfo``.

Cursors wrap the storage's keyset cursor together with what it is valid for (the listing and,
for orders, the sort key and direction), base64url-encoded. A cursor that does not decode, or
that belongs to another listing or sort order, is a clear input error rather than a wrong page.
"""

from __future__ import annotations

import base64
import binascii

import strawberry

from core import Settings, ValidationError

from .errors import BadInput

_VERSION = "v1"


@strawberry.type(description="Where a page sits in its listing.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


def page_size(first: int | None, settings: Settings, *, default: int) -> int:
    """Validate ``first``: between 1 and ``settings.max_page_size``.

    The schema's default page size (``first: Int = 50``) shrinks to a smaller configured maximum
    instead of failing every request that leaves ``first`` out.
    """
    if first is None or first == default:
        return min(default, settings.max_page_size)
    if first < 1:
        raise BadInput(f"first must be at least 1, got {first}", field="first")
    if first > settings.max_page_size:
        raise BadInput(f"first must be at most {settings.max_page_size} (the maximum page size), got {first}; "
                       "page through larger listings with `after`", field="first")
    return first


def encode_cursor(scope: str, position: str) -> str:
    raw = f"{_VERSION}|{scope}|{position}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(scope: str, cursor: str | None, *, argument: str = "after") -> str | None:
    """The storage position inside ``cursor`` (None for no cursor); BadInput if it is not ours."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        version, cursor_scope, position = base64.urlsafe_b64decode(padded.encode()).decode().split("|", 2)
    except (binascii.Error, UnicodeError, ValueError):
        raise BadInput(f"{argument}: malformed cursor {cursor[:40]!r}; pass an endCursor or cursor "
                       "from a previous page", field=argument) from None
    if version != _VERSION or not position:
        raise BadInput(f"{argument}: malformed cursor {cursor[:40]!r}", field=argument)
    if cursor_scope != scope:
        raise BadInput(f"{argument}: this cursor belongs to another listing or sort order; "
                       "cursors are valid only with the arguments that produced them", field=argument)
    return position


def storage_cursor_error(exc: Exception, argument: str = "after") -> BadInput:
    """What to raise when the storage rejects the position inside a well-formed cursor."""
    detail = f": {exc.message}" if isinstance(exc, ValidationError) else ""
    return BadInput(f"{argument}: the cursor is not valid for this listing{detail}", field=argument)
