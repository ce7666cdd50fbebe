"""``sync-gateway shops``: add, list, update, check and remove the shops the gateway syncs."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from . import context
from .context import console, err

app = typer.Typer(no_args_is_help=True, help="Add, list, update, check and remove shops.")

TOKEN_HELP = "Admin API access token (stored encrypted: needs SYNC_GATEWAY_SECRET_KEY; prefer --token-env)."
TOKEN_ENV_HELP = "Name of the environment variable holding the token."
NO_CHECK_HELP = "Accept a --token-env variable that is not set here (it is set where the worker runs)."


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Short name, e.g. 'acme'.")],
    url: Annotated[str, typer.Option(help="myshopify domain (acme.myshopify.com) or full base URL.")],
    token: Annotated[Optional[str], typer.Option(help=TOKEN_HELP)] = None,
    token_env: Annotated[Optional[str], typer.Option(help=TOKEN_ENV_HELP)] = None,
    api_version: Annotated[Optional[str], typer.Option(help="Admin API version (default: settings).")] = None,
    no_check: Annotated[bool, typer.Option("--no-check", help=NO_CHECK_HELP)] = False,
) -> None:
    """Add a shop and its hourly canceled-items job."""
    from core.errors import ValidationError
    from core.jobcontrol import add_shop
    from core.models import NewShop
    from core.validation import api_version_warning, release_calendar_day

    if (token is None) == (token_env is None):
        raise ValidationError("give exactly one of --token or --token-env", field="token")
    runtime = context.runtime()
    try:
        shop, jobs = add_shop(runtime, NewShop(name=name, url=url, token=token, token_env=token_env,
                                               api_version=api_version or None),
                              check_env=not no_check)
        warning = api_version_warning(shop.api_version, today=release_calendar_day(runtime.now()))
    finally:
        runtime.close()
    console.print(f"added shop [bold]{shop.name}[/] ({shop.url}, API {shop.api_version})", highlight=False)
    if warning:
        err.print(f"[yellow]warning:[/] {warning}", highlight=False)
    for job in jobs:
        console.print(f"  job {job.id} {job.kind}: next run {job.next_run_at:%Y-%m-%d %H:%M:%S %Z}")


@app.command("list")
def list_shops(as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False) -> None:
    """List shops."""
    from rich.table import Table

    from .output import print_list, shop_record

    runtime = context.runtime()
    with runtime.storage.transaction() as tx:
        shops = tx.list_shops()
    runtime.close()
    if as_json:
        print_list(shop_record(shop) for shop in shops)
        return
    table = Table("name", "source", "url", "api version", "token")
    for shop in shops:
        table.add_row(shop.name, shop.source, shop.url, shop.api_version,
                      "stored" if shop.has_token else f"${shop.token_env}" if shop.token_env else "-")
    console.print(table)


@app.command("update")
def update(
    name: Annotated[str, typer.Argument(help="The shop's name.")],
    url: Annotated[Optional[str], typer.Option(help="New myshopify domain or base URL.")] = None,
    api_version: Annotated[Optional[str], typer.Option(help="New Admin API version.")] = None,
    token: Annotated[Optional[str], typer.Option(help=TOKEN_HELP + " Replaces a --token-env.")] = None,
    token_env: Annotated[Optional[str], typer.Option(help=TOKEN_ENV_HELP + " Replaces a stored token.")] = None,
    no_check: Annotated[bool, typer.Option("--no-check", help=NO_CHECK_HELP)] = False,
) -> None:
    """Change a shop's URL, API version or token source; what is not given stays as it is.

    The token comes from one place: --token removes the shop's variable, --token-env its stored token."""
    from core.errors import ValidationError
    from core.jobcontrol import find_shop, update_shop
    from core.validation import api_version_warning, release_calendar_day, token_env_is_set
    from core.validation import token_env as clean_token_env

    changes: dict[str, object] = {}
    if url is not None:
        changes["url"] = url
    if api_version is not None:
        changes["api_version"] = api_version
    if token is not None and token_env is not None:
        raise ValidationError("give at most one of --token or --token-env", field="token")
    if token is not None:
        if not token.strip():
            raise ValidationError("--token cannot be blank: the shop would have no token", field="token")
        changes.update(token=token, token_env=None)
    if token_env is not None:
        variable = clean_token_env(token_env)
        if variable is None:
            raise ValidationError("--token-env cannot be blank: the shop would have no token", field="token_env")
        if not no_check:
            token_env_is_set(variable)
        changes.update(token_env=variable, token=None)
    if not changes:
        raise ValidationError("nothing to change", field="name",
                              suggestion="give --url, --api-version, --token or --token-env")
    runtime = context.runtime()
    try:
        with runtime.storage.read() as tx:
            shop = find_shop(tx, name)
        shop = update_shop(runtime, shop.id, **changes)
        warning = api_version_warning(shop.api_version, today=release_calendar_day(runtime.now()))
    finally:
        runtime.close()
    source = "stored token" if shop.has_token else f"${shop.token_env}" if shop.token_env else "no token"
    console.print(f"updated shop [bold]{shop.name}[/] ({shop.url}, API {shop.api_version}, {source})",
                  highlight=False)
    if warning:
        err.print(f"[yellow]warning:[/] {warning}", highlight=False)


@app.command("remove")
def remove(name: str, yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False) -> None:
    """Remove a shop with its jobs, runs, orders and history."""
    from core.jobcontrol import find_shop, remove_shop

    runtime = context.runtime()
    try:
        with runtime.storage.read() as tx:
            shop = find_shop(tx, name)
        if not yes:
            typer.confirm(f"remove shop {name} and everything stored for it?", abort=True)
        remove_shop(runtime, shop.id)
    finally:
        runtime.close()
    console.print(f"removed shop {name}")


@app.command("check")
def check(
    name: Annotated[str, typer.Argument(help="The shop's name.")],
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the shop.")] = 20.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Ask the shop who it is and what its token may read: plan and scopes, or why it failed.

    Exits 0 when the gateway can read the shop's orders, 1 when it cannot."""
    from core.connections import check_shop_connection

    from .output import print_json

    runtime = context.runtime()
    try:
        result = check_shop_connection(runtime, name, timeout=timeout)
    finally:
        runtime.close()
    if as_json:
        print_json(result)
    elif result.ok:
        console.print(f"[green]✓[/] shop {result.shop}: {result.message}", highlight=False)
    else:
        console.print(f"[red]✗[/] shop {result.shop}: {result.problem.value if result.problem else 'FAILED'}: "
                      f"{result.message}", highlight=False)
    if not as_json and (result.scopes or result.plan):
        budget = (f" (API budget {result.api_points:,.0f} points, {result.api_restore_rate:,.0f} per second)"
                  if result.api_points is not None and result.api_restore_rate is not None else "")
        console.print(f"  plan: {result.plan or 'unknown'}{budget}", highlight=False)
        console.print(f"  scopes: {', '.join(result.scopes) or 'none'}", highlight=False)
        if result.missing_scopes:
            console.print(f"  missing: {', '.join(result.missing_scopes)}", highlight=False)
        if result.optional_missing_scopes:
            console.print(f"  would read more with: {', '.join(result.optional_missing_scopes)}", highlight=False)
    raise typer.Exit(0 if result.ok else 1)
