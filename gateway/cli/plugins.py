"""``sync-gateway plugins``: the plugins this installation loads, the hooks each implements and
each one's settings (``[plugins.<name>]``: key, value, default; secrets masked)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .context import console

app = typer.Typer(invoke_without_command=True, no_args_is_help=False,
                  help="List loaded plugins, their hooks and settings; `plugins new` writes a new one.")


@app.callback()
def plugins(ctx: typer.Context,
            as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False) -> None:
    """List loaded plugins, the hooks they implement and their settings with the defaults."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.markup import escape

    from core.plugin_settings import describe_section, env_name
    from core.plugins import describe_plugins, make_plugin_manager
    from core.settings import Settings

    from .output import plugin_record, print_list

    settings = Settings()
    infos = describe_plugins(make_plugin_manager(allow=settings.load_plugins))
    # validated like a runtime does at start-up: a bad value is the one-line error, exit 3
    current = {section.name: settings.plugin_settings(section.name, section.model)
               for info in infos for section in info.settings}
    if as_json:
        print_list(plugin_record(info, {s.name: describe_section(s, current[s.name]) for s in info.settings})
                   for info in infos)
        return
    for info in infos:
        console.print(f"[bold]{escape(info.name)}[/] {escape(info.version or '')} ({escape(info.module)}): "
                      f"{', '.join(info.hooks)}", highlight=False, soft_wrap=True)
        for section in info.settings:
            console.print(f"  [plugins.{section.name}]", markup=False, highlight=False, soft_wrap=True)
            for row in describe_section(section, current[section.name]):
                console.print(f"    {row.key} = {_toml(row.value)}  (default {_toml(row.default)}; "
                              f"{env_name(section.name, row.key)})", markup=False, highlight=False, soft_wrap=True)


def _toml(value: object) -> str:
    """A value as it would be written in the TOML file; unset is ``unset``."""
    import json

    return "unset" if value is None or value == "" else json.dumps(value)


@app.command()
def new(
    name: Annotated[str, typer.Argument(help="The package's name, e.g. acme-outbox (its module: acme_outbox).")],
    kind: Annotated[str, typer.Option(help="hook, source, storage or job.")] = "hook",
    directory: Annotated[Path, typer.Option("--directory", "-d", help="Where to write NAME/.")] = Path("."),
) -> None:
    """Write a plugin package: pyproject with the entry point, a module, and tests that pass."""
    from .scaffold import write_scaffold

    made = write_scaffold(name, kind, directory)
    console.print(f"wrote {made.root}/ ({kind} plugin, module {made.module}):", highlight=False)
    for path in made.files:
        console.print(f"  {path.relative_to(made.root)}", highlight=False)
    console.print(f"next: pip install -e '{made.root}[test]' && pytest {made.root}", highlight=False, markup=False)
