"""Plugins' HTTP routes (``register_routes``), added after the gateway's own.

A route whose path the gateway already serves would never be reached (starlette takes the
first match), so it is refused with a :class:`core.PluginError` naming the plugin instead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from starlette.routing import BaseRoute, Match

from core import PluginError
from core.runtime import Runtime

_PARAM = re.compile(r"\{[^}]+\}")


def plugin_routes(runtime: Runtime, built_in: Sequence[BaseRoute]) -> list[BaseRoute]:
    """Every plugin's routes, checked against ``built_in`` and one another."""
    added: list[BaseRoute] = []
    for impl in reversed(runtime.pm.hook.register_routes.get_hookimpls()):
        for route in impl.function(runtime=runtime) or ():
            if not isinstance(route, BaseRoute):
                raise PluginError(f"plugin {impl.plugin_name!r}: register_routes must return starlette routes "
                                  f"(Route, WebSocketRoute, Mount), got {route!r}")
            path = getattr(route, "path", None)
            if not isinstance(path, str):
                raise PluginError(f"plugin {impl.plugin_name!r}: route {route!r} has no path")
            taken = _served_by(path, [*built_in, *added])
            if taken is not None:
                raise PluginError(f"plugin {impl.plugin_name!r} adds the route {path or '/'}, which "
                                  f"{taken} already serves")
            added.append(route)
    return added


def _served_by(path: str, routes: Sequence[BaseRoute]) -> str | None:
    """The path of a route in ``routes`` that would answer a request to ``path`` first."""
    sample = _PARAM.sub("x", path) or "/"
    for route in routes:
        for scope_type, method in (("http", "GET"), ("http", "POST"), ("websocket", None)):
            scope = {"type": scope_type, "path": sample, "root_path": "", "method": method}
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return getattr(route, "path", None) or "/"
    return None
