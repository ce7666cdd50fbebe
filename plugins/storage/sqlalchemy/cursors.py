"""Opaque keyset cursors: base64url of the JSON ``[sort value, id]`` of the last row of a page.

Opaque to clients so the encoding may change; readable to us so a cursor needs no server state.
A cursor that does not decode to a value of the listing's sort type is a user error.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any, Literal

from core import ValidationError

CursorKind = Literal["datetime", "int", "str"]


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def encode_cursor(value: Any, row_id: int) -> str:
    if type(value) is datetime and type(row_id) is int:
        # A listing encodes one cursor per row: spell out what json.dumps would write for this
        # common case (an ISO timestamp needs no escaping), byte for byte.
        raw = f'["{value.isoformat()}",{row_id}]'.encode()
    else:
        if isinstance(value, datetime):
            value = value.isoformat()
        raw = json.dumps([value, row_id], separators=(",", ":")).encode()
    # base64.urlsafe_b64encode, without its two extra calls
    return binascii.b2a_base64(raw, newline=False).translate(_URLSAFE).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str, kind: CursorKind, *, field: str = "after") -> tuple[Any, int]:
    """Return ``(sort value, id)``; ValidationError(field=``field``) if the cursor is not ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor.encode("ascii") + b"=" * (-len(cursor) % 4))
        value, row_id = json.loads(raw)
        if not isinstance(row_id, int) or isinstance(row_id, bool):
            raise ValueError("id is not an integer")
        return _typed(value, kind), row_id
    except (ValueError, TypeError, UnicodeError, binascii.Error):
        raise ValidationError(
            f"malformed cursor {cursor[:40]!r}", field=field, suggestion="pass a cursor from the previous page as given"
        ) from None


def _typed(value: Any, kind: CursorKind) -> Any:
    if kind == "datetime":
        parsed = datetime.fromisoformat(value)  # TypeError/ValueError when not an ISO string
        if parsed.tzinfo is None:
            raise ValueError("naive timestamp")
        return parsed
    if kind == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError("not an integer")
        return value
    if not isinstance(value, str):
        raise ValueError("not a string")
    return value
