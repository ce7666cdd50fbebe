"""Plugins' parts of the schema (``register_graphql``): checked, then merged into the root types.

Every root field a plugin adds must carry one of the API's permission classes, handed to the
hook (a mutation the admin one, as every built-in mutation does); a field name already taken
is refused rather than silently overriding the built-in one (strawberry's ``merge_types``
only warns). Both are :class:`core.PluginError` when the app is built, naming the plugin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pluggy

from core import GraphQLExtension, GraphQLPermissions, PluginError

from .permissions import IsAdmin, IsAuthenticated

PERMISSIONS = GraphQLPermissions(read=IsAuthenticated, admin=IsAdmin)
ROOTS = ("Query", "Mutation", "Subscription")


@dataclass
class PluginSchema:
    """The root contributions of every plugin, by root type name, and their extra types."""

    roots: dict[str, list[type]] = field(default_factory=lambda: {name: [] for name in ROOTS})
    types: list[type] = field(default_factory=list)


def collect_graphql(pm: pluggy.PluginManager | None, built_in: dict[str, Sequence[type]]) -> PluginSchema:
    """Call ``register_graphql`` on every plugin and check what each returned."""
    result = PluginSchema()
    if pm is None:
        return result
    taken = {root: {f.name for cls in classes for f in cls.__strawberry_definition__.fields}
             for root, classes in built_in.items()}
    for impl in reversed(pm.hook.register_graphql.get_hookimpls()):
        for extension in impl.function(permissions=PERMISSIONS) or ():
            if not isinstance(extension, GraphQLExtension):
                raise PluginError(f"plugin {impl.plugin_name!r}: register_graphql must return "
                                  f"core.GraphQLExtension objects, got {extension!r}")
            for root, cls in extension.roots().items():
                for name in _check_root(impl.plugin_name, root, cls):
                    if name in taken.setdefault(root, set()):
                        raise PluginError(f"plugin {impl.plugin_name!r} adds {root}.{name}, which is taken")
                    taken[root].add(name)
                result.roots[root].append(cls)
            result.types.extend(extension.types)
    return result


def _check_root(plugin: str, root: str, cls: type) -> list[str]:
    definition = getattr(cls, "__strawberry_definition__", None)
    if definition is None:
        raise PluginError(f"plugin {plugin!r}: its {root.lower()} contribution {cls!r} is not a @strawberry.type")
    needed = (IsAdmin,) if root == "Mutation" else (IsAuthenticated, IsAdmin)
    names = []
    for f in definition.fields:
        if not any(issubclass(p, needed) for p in f.permission_classes if isinstance(p, type)):
            wanted = "permissions.admin" if root == "Mutation" else "permissions.read or permissions.admin"
            raise PluginError(f"plugin {plugin!r} adds {root}.{f.graphql_name or f.name} without a permission "
                              f"class: give it permission_classes=[{wanted}]")
        names.append(f.name)
    return names
