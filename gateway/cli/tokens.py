"""``sync-gateway tokens``: the API tokens that sign in to the GraphQL API."""

from __future__ import annotations

from typing import Annotated

import typer

from . import context
from .context import console, err

app = typer.Typer(no_args_is_help=True, help="API tokens for the GraphQL API.")


@app.command("create")
def create(
    role: Annotated[str, typer.Option(help="admin (query and mutate) or read (query only).")],
    name: Annotated[str, typer.Option(help="Who uses it.")] = "cli",
) -> None:
    """Create an API token and print it (it is shown only once)."""
    from core.apitokens import issue_token

    runtime = context.runtime()
    try:
        record, plaintext = issue_token(runtime, name=name, role=role)
    finally:
        runtime.close()
    err.print(f"created {record.role.value} token {record.id} ({record.name}); it is shown only once:")
    print(plaintext)


@app.command("list")
def list_tokens(as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False) -> None:
    """List API tokens (never their values)."""
    from .output import print_list, token_record

    runtime = context.runtime()
    with runtime.storage.transaction() as tx:
        tokens = tx.list_api_tokens()
    runtime.close()
    if as_json:
        print_list(token_record(t) for t in tokens)
        return
    for t in tokens:
        state = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "active"
        console.print(f"{t.id}\t{t.role.value}\t{t.name}\t{state}")


@app.command("revoke")
def revoke(token_id: int) -> None:
    """Revoke an API token (a running API server may accept it for a few more seconds)."""
    from core.apitokens import DEFAULT_CACHE_SECONDS, revoke_token

    runtime = context.runtime()
    try:
        revoke_token(runtime, token_id)
    finally:
        runtime.close()
    console.print(f"revoked token {token_id}; API servers stop accepting it within {DEFAULT_CACHE_SECONDS:g} s")
