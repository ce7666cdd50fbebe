"""Building the plugin manager: no global, every process and test builds its own."""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, cast

import pluggy

from . import hookspecs
from .errors import PluginError, UnknownPlugin
from .extensions import SettingsSection

ENTRY_POINT_GROUP = "sync_gateway"
"""Built-in and third-party plugins register under this entry-point group."""

DEFAULT_PLUGINS: tuple[str, ...] = ("core.defaults",)
"""Core fallbacks, registered before entry points."""

log = logging.getLogger("sync_gateway.plugins")
hook_log = logging.getLogger("sync_gateway.hooks")
"""Where TRACE_PLUGINS writes each hook call (pluggy's trace and the notifications)."""


def make_plugin_manager(
    *,
    load_entrypoints: bool = True,
    allow: Iterable[str] | None = None,
    extra: Iterable[object] = (),
    trace: bool = False,
) -> pluggy.PluginManager:
    """Return a plugin manager with the specs, the defaults, entry-point plugins and ``extra``.

    Args:
        load_entrypoints: load plugins of the ``sync_gateway`` entry-point group.
        allow: if given, only entry points with these names load (``load_plugins`` setting).
        extra: plugin objects or modules registered after the others (tests use this).
        trace: log every hook call at DEBUG level.

    Raises:
        PluginError: a plugin implements a hook that does not exist or breaks a spec.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs.GatewaySpec)
    for name in DEFAULT_PLUGINS:
        _register(pm, importlib.import_module(name), name)
    if load_entrypoints:
        allowed = set(allow) if allow is not None else None
        entry_points = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
        _refuse_unknown(allowed, sorted(ep.name for ep in entry_points))
        for ep in entry_points:
            if allowed is not None and ep.name not in allowed:
                continue
            if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # a broken third-party plugin must name itself
                raise PluginError(f"plugin {ep.name!r} ({ep.value}) failed to import: {exc}") from exc
            _register(pm, plugin, ep.name)
    for plugin in extra:
        _register(pm, plugin, None)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(str(exc), suggestion="see docs/plugin_hooks.md for the hook names") from exc
    if trace:
        # TRACE_PLUGINS alone shows every hook call, whatever LOG_LEVEL says: the trace has its
        # own logger, opened to DEBUG (handlers pass what a logger lets through).
        hook_log.setLevel(logging.DEBUG)
        pm.trace.root.setwriter(lambda msg: hook_log.debug("hook: %s", msg.rstrip()))
        pm.enable_tracing()
    return pm


def _refuse_unknown(allowed: set[str] | None, installed: list[str]) -> None:
    """An allow-list naming an uninstalled plugin is a typo until proven otherwise."""
    for name in sorted((allowed or set()) - set(installed)):
        near = difflib.get_close_matches(name, installed, n=1)
        hint = f"did you mean {near[0]!r}?" if near else f"installed: {', '.join(installed) or 'none'}"
        raise UnknownPlugin(f"LOAD_PLUGINS names {name!r}, which no installed plugin provides", suggestion=hint)


def _register(pm: pluggy.PluginManager, plugin: object, name: str | None) -> None:
    try:
        pm.register(plugin, name=name)
    except (pluggy.PluginValidationError, ValueError) as exc:
        raise PluginError(f"plugin {name or plugin!r} cannot be registered: {exc}") from exc


@dataclass(frozen=True, slots=True)
class PluginInfo:
    """A loaded plugin as the ``plugins`` query and CLI show it."""

    name: str
    module: str
    version: str | None
    hooks: tuple[str, ...]
    settings: tuple[SettingsSection, ...] = ()
    """The sections it declares through ``register_settings``."""


def describe_plugins(pm: pluggy.PluginManager) -> list[PluginInfo]:
    """Name, module, distribution version, implemented hooks and settings of every loaded plugin.

    The version is the one of the distribution whose entry point registered the plugin (pluggy
    only knows those it loaded itself); the built-in plugins have the gateway's own."""
    versions = _entry_point_versions()
    sections: dict[str, list[SettingsSection]] = {}
    for impl in pm.hook.register_settings.get_hookimpls():
        contributed = cast("Sequence[SettingsSection]", impl.function() or ())
        sections.setdefault(impl.plugin_name, []).extend(contributed)
    infos = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        hooks = tuple(sorted(caller.name for caller in pm.get_hookcallers(plugin) or ()))
        module = plugin.__name__ if isinstance(plugin, ModuleType) else type(plugin).__module__
        version = versions.get(name) or _core_version(module)
        infos.append(PluginInfo(name=name, module=module, version=version, hooks=hooks,
                                settings=tuple(sections.get(name, ()))))
    return sorted(infos, key=lambda info: info.name)


def _entry_point_versions() -> dict[str, str]:
    versions: dict[str, str] = {}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist
        if dist is not None and dist.version:
            versions.setdefault(ep.name, dist.version)
    return versions


def _core_version(module: str) -> str | None:
    if module.split(".")[0] in {"core", "plugins"}:
        try:
            return importlib.metadata.version("sync-gateway")
        except importlib.metadata.PackageNotFoundError:
            return None
    return None


def collect(pm: pluggy.PluginManager, hook_name: str, **kwargs: Any) -> list[Any]:
    """Call a ``register_*`` hook and flatten the lists every plugin returned."""
    results = getattr(pm.hook, hook_name)(**kwargs)
    return [item for contribution in results if contribution for item in contribution]
