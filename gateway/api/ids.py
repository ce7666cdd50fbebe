"""Global ids: ``gid://sync-gateway/<Type>/<int>``, the shape Shopify integrators already know.

Query arguments that take an id accept only the type they name; an id of another type, or a
string that is no id at all, is an input error (never a silent null). An id of the right type
that matches nothing is simply not found.
"""

from __future__ import annotations

from .errors import BadInput

PREFIX = "gid://sync-gateway/"

TYPES = frozenset({"Order", "OrderItem", "ItemCancellation", "Job", "JobRun", "Shop", "ApiToken"})


def encode(type_name: str, pk: int) -> str:
    assert type_name in TYPES, type_name
    return f"{PREFIX}{type_name}/{pk}"


def decode(gid: str, *, argument: str = "id") -> tuple[str, int]:
    """Split a global id into its type and database id; BadInput if it is malformed."""
    if not isinstance(gid, str) or not gid.startswith(PREFIX):
        raise BadInput(f"{argument}: {_show(gid)} is not a sync-gateway id "
                       f"(expected gid://sync-gateway/<Type>/<number>)", field=argument)
    type_name, _, number = gid[len(PREFIX):].partition("/")
    if type_name not in TYPES:
        raise BadInput(f"{argument}: {_show(gid)} names an unknown type {type_name!r} "
                       f"(known: {', '.join(sorted(TYPES))})", field=argument)
    if not number.isascii() or not number.isdigit() or len(number) > 18:
        raise BadInput(f"{argument}: {_show(gid)} must end in a positive number", field=argument)
    return type_name, int(number)


def decode_as(gid: str, expected: str, *, argument: str = "id") -> int:
    """The database id inside ``gid``; BadInput if ``gid`` is malformed or of another type."""
    type_name, pk = decode(gid, argument=argument)
    if type_name != expected:
        raise BadInput(f"{argument}: expected a {expected} id, got a {type_name} id ({gid})", field=argument)
    return pk


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
