"""The ``sync-gateway`` command line: the Typer app, its groups, ``--version`` and :func:`main`.

Each group lives in its own module and commands import only what they use: ``run`` never
loads the GraphQL server, so a foreground import starts fast. Shell completion is Typer's
(``--install-completion``, ``--show-completion``).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from . import context, database, jobs, plugin_commands, plugins, run, secret_key, servers, shops, tokens
from .context import err

app = typer.Typer(no_args_is_help=True, add_completion=True,
                  help="GraphQL sync gateway: keeps an order store in step with Shopify.")
app.add_typer(shops.app, name="shops")
app.add_typer(jobs.app, name="jobs")
app.add_typer(run.app, name="run")
app.add_typer(tokens.app, name="tokens")
app.add_typer(database.app, name="db")
app.add_typer(secret_key.app, name="secret-key")
app.add_typer(plugins.app, name="plugins")
app.command()(servers.demo)
app.command()(servers.serve)
app.command()(servers.worker)
app.command()(servers.scheduler)
app.command()(servers.simulator)
app.command()(run.backfill)

DISTRIBUTION = "sync-gateway"
PROG = "sync-gateway"
"""The name in usage lines and completion scripts, also under `python -m gateway`."""


def version() -> str:
    """The installed distribution's version (what ``pip show sync-gateway`` says)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed(DISTRIBUTION)
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _print_version(value: bool) -> None:
    if value:
        print(f"sync-gateway {version()}")
        raise typer.Exit()


@app.callback()
def _options(
    show_version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                               help="Print the version and exit.")] = False,
) -> None:
    """GraphQL sync gateway: keeps an order store in step with Shopify."""


def main() -> None:
    """Run the command line; a failure becomes one line and an exit code per cause
    (:mod:`gateway.cli.failures`); ``--debug`` anywhere, or LOG_LEVEL=DEBUG, adds the traceback.

    The executable enters through :func:`gateway.startup.main`, which calls this."""
    from .failures import describe

    debug = "--debug" in sys.argv[1:]
    if debug:
        sys.argv = [arg for arg in sys.argv if arg != "--debug"]
    debug = debug or context.env_log_level() == "DEBUG"
    try:
        if plugin_commands.wants_plugin_commands(app, sys.argv[1:]):
            plugin_commands.add_plugin_commands(app, strict=plugin_commands.first_command(sys.argv[1:]) is not None)
        app(prog_name=PROG)  # usage errors exit 2 inside (click's standalone mode); the rest reaches us
    except Exception as exc:
        failure = describe(exc)
        if debug:
            err.print_exception(show_locals=False)
        from rich.markup import escape  # a line may quote brackets ("[plugins.shopify]"), not markup

        err.print(f"[bold red]error:[/] {escape(failure.line)}", highlight=False, markup=True, soft_wrap=True)
        sys.exit(int(failure.code))
