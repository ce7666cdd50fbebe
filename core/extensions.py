"""What the extension hooks contribute: a plugin's settings model, GraphQL types and fields.

Core knows none of the API's or the CLI's libraries: the GraphQL contribution carries strawberry
classes as opaque ``type`` objects and the permission classes it must use are handed *to* the
plugin by the API (as datasette hands ``cli`` to ``register_commands``), so ``core`` never imports
``gateway`` nor strawberry. ``register_commands`` and ``register_routes`` need no types of their own
here: they pass a Typer app in and take starlette routes out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from .errors import PluginError

SECTION_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
"""A section name is the TOML table ``[plugins.<name>]`` and the ``SYNC_GATEWAY_<NAME>__`` prefix,
so it must be both a bare TOML key and an environment variable's part."""


@dataclass(frozen=True, slots=True)
class SettingsSection:
    """A plugin's settings: its name (``[plugins.<name>]``) and the pydantic model that validates them.

    The model's fields are the keys; their defaults are what ``sync-gateway plugins`` lists, and a
    ``SecretStr`` field is shown masked. Give the model ``extra="forbid"`` so a typo is an error.
    """

    name: str
    model: type[BaseModel]

    def __post_init__(self) -> None:
        if not SECTION_NAME.match(self.name):
            raise PluginError(f"settings section name {self.name!r} must be lower-case letters, digits and "
                              "underscores, starting with a letter (it names [plugins.<name>] and "
                              "SYNC_GATEWAY_<NAME>__<KEY>)")
        if not (isinstance(self.model, type) and issubclass(self.model, BaseModel)):
            raise PluginError(f"settings section {self.name!r}: model must be a pydantic BaseModel class, "
                              f"got {self.model!r}")


@dataclass(frozen=True, slots=True)
class GraphQLPermissions:
    """The API's permission classes, handed to ``register_graphql`` (strawberry ``BasePermission``s).

    ``read``: any live API token, what every built-in query and subscription needs. ``admin``: an
    admin token, what every built-in mutation needs. Every root field a plugin adds must carry one.
    """

    read: type
    admin: type


@dataclass(frozen=True, slots=True)
class GraphQLExtension:
    """One plugin's part of the GraphQL schema, returned by ``register_graphql``.

    ``query``, ``mutation``, ``subscription``: ``@strawberry.type`` classes whose fields are merged
    into the root types (a field name taken already is an error). ``types``: further types to add to
    the schema that no field reaches (interface implementations).
    """

    query: type | None = None
    mutation: type | None = None
    subscription: type | None = None
    types: Sequence[type] = field(default_factory=tuple)

    def roots(self) -> dict[str, Any]:
        """The root contributions by operation name, the ones given only."""
        given = {"Query": self.query, "Mutation": self.mutation, "Subscription": self.subscription}
        return {name: cls for name, cls in given.items() if cls is not None}
