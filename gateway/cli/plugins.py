"""``sync-gateway plugins``: the plugins this installation loads and the hooks each implements."""

from __future__ import annotations

from .context import console


def plugins() -> None:
    """List loaded plugins and the hooks they implement."""
    from core.plugins import describe_plugins, make_plugin_manager
    from core.settings import Settings

    settings = Settings()
    for info in describe_plugins(make_plugin_manager(allow=settings.load_plugins)):
        console.print(f"[bold]{info.name}[/] {info.version or ''} ({info.module}): {', '.join(info.hooks)}")
