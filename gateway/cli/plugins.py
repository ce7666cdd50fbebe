"""``sync-gateway plugins``: the plugins this installation loads and the hooks each implements."""

from __future__ import annotations

from typing import Annotated

import typer

from .context import console


def plugins(as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False) -> None:
    """List loaded plugins and the hooks they implement."""
    from core.plugins import describe_plugins, make_plugin_manager
    from core.settings import Settings

    from .output import plugin_record, print_list

    settings = Settings()
    infos = describe_plugins(make_plugin_manager(allow=settings.load_plugins))
    if as_json:
        print_list(plugin_record(info) for info in infos)
        return
    for info in infos:
        console.print(f"[bold]{info.name}[/] {info.version or ''} ({info.module}): {', '.join(info.hooks)}")
