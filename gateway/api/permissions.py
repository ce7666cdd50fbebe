"""Who may do what. Every root field carries one of these (a test checks it).

* ``IsAuthenticated``: any live API token (read or admin). Every query and subscription.
* ``IsAdmin``: an admin token. Every mutation and the token listing.

A denied call raises before the resolver runs, so nothing is read or changed. Introspection
(``__schema``, ``__typename``) needs no token: the schema is public (``docs/schema.graphql``) and
GraphiQL loads it before a token is entered.
"""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from .context import Context, Info
from .errors import Forbidden, Unauthenticated

_WHY = {
    "missing": "authentication required: send the header 'Authorization: Bearer <API token>'",
    "malformed": "the Authorization header must read 'Bearer <API token>'",
    "invalid": "the API token is unknown or revoked",
}


def require_token(context: Context) -> None:
    if context.token is None:
        raise Unauthenticated(_WHY.get(context.auth_problem or "missing", _WHY["missing"]))


def require_admin(context: Context) -> None:
    require_token(context)
    if not context.is_admin:
        raise Forbidden("this needs an admin API token; the token presented is read-only")


class IsAuthenticated(BasePermission):
    message = _WHY["missing"]
    error_extensions = {"code": "UNAUTHENTICATED"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        require_token(info.context)
        return True


class IsAdmin(BasePermission):
    message = "this needs an admin API token"
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        require_admin(info.context)
        return True
