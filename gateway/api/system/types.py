"""Types every domain shares: the ``Node`` interface, and the plugin listing."""

from __future__ import annotations

import strawberry

from core.plugins import PluginInfo


@strawberry.interface(description="An object with a global id, fetchable with `node(id:)`.")
class Node:
    id: strawberry.ID = strawberry.field(description="gid://sync-gateway/<Type>/<number>")


@strawberry.type(description="A loaded plugin (built-in behaviour is itself a plugin).")
class Plugin:
    name: str
    module: str
    version: str | None
    hooks: list[str] = strawberry.field(description="The hooks this plugin implements.")

    @classmethod
    def from_info(cls, info: PluginInfo) -> Plugin:
        return cls(name=info.name, module=info.module, version=info.version, hooks=list(info.hooks))
