"""Plugins' commands (``register_commands``), added to the root Typer app before it parses.

Only when the command line asks for something that is not a built-in command (a plugin's
command, ``--help``, nothing): so ``sync-gateway run ...`` neither pays for loading every plugin
nor fails for another plugin's broken settings, and ``--help`` lists plugins' commands too.
A plugin adding a name already taken is a :class:`core.PluginError`.
"""

from __future__ import annotations

from collections.abc import Sequence

import typer


def command_names(app: typer.Typer) -> list[str]:
    """The names of ``app``'s commands and groups, as Typer shows them."""
    names = [info.name or (info.callback.__name__.replace("_", "-") if info.callback else "")
             for info in app.registered_commands]
    names += [info.name or (info.typer_instance.info.name if info.typer_instance else "") or ""
              for info in app.registered_groups]
    return [name for name in names if name]


def first_command(argv: Sequence[str]) -> str | None:
    return next((arg for arg in argv if not arg.startswith("-")), None)


ANSWERED_WITHOUT_PLUGINS = frozenset({"--version", "--show-completion", "--install-completion"})
"""Options that answer before any command runs: loading every plugin for them (a second of
imports) would only slow down the version and shell completion."""


def wants_plugin_commands(app: typer.Typer, argv: Sequence[str]) -> bool:
    first = first_command(argv)
    if first is None and ANSWERED_WITHOUT_PLUGINS.intersection(argv):
        return False
    return first is None or first not in command_names(app)


def add_plugin_commands(app: typer.Typer, *, strict: bool = True) -> None:
    """Let every loaded plugin add its commands to ``app``.

    ``strict=False`` (``--help``, ``--version``: no command named): settings that cannot be read
    leave plugins' commands out rather than fail; a command that needs them reports them."""
    import tomllib

    import pydantic

    from core.errors import MissingConfigFile, PluginError
    from core.plugins import make_plugin_manager
    from core.settings import Settings

    try:
        settings = Settings()
    except (pydantic.ValidationError, MissingConfigFile, tomllib.TOMLDecodeError):
        if strict:
            raise
        return
    pm = make_plugin_manager(allow=settings.load_plugins)
    for impl in reversed(pm.hook.register_commands.get_hookimpls()):
        before = set(command_names(app))
        impl.function(cli=app)
        names = command_names(app)
        doubled = sorted({name for name in names if names.count(name) > 1})
        if doubled:
            raise PluginError(f"plugin {impl.plugin_name!r} adds the command {', '.join(doubled)}, "
                              "which is taken", suggestion=f"taken: {', '.join(sorted(before))}")
