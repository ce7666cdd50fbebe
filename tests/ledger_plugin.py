"""A third-party plugin for the extension hook tests, built on core's public API only.

It declares settings (``[plugins.ledger]``), a GraphQL query, mutation and subscription under
the API's permission classes, an HTTP route and a CLI group. Tests register it in-process
(``make_plugin_manager(extra=[ledger_plugin])``) or install it as a distribution on the path
(:func:`tests.plugin_dists.install_plugin`) and run the real ``sync-gateway`` against it.

No ``from __future__ import annotations`` here: strawberry resolves the annotations of the
classes built inside ``register_graphql``, and postponed ones would name locals it cannot see.
"""

from collections.abc import AsyncGenerator, Sequence
from typing import Any

import strawberry
import typer
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from core import GraphQLExtension, GraphQLPermissions, Settings, SettingsSection, hookimpl


class LedgerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    greeting: str = Field(default="hello", description="What the ledger says.")
    batch: int = Field(default=10, ge=1, description="Entries per delivery.")
    api_key: SecretStr | None = Field(default=None, description="The ledger's key (a secret).")


def ledger_settings(settings: Settings) -> LedgerSettings:
    return settings.plugin_settings("ledger", LedgerSettings)


ENTRIES: list[str] = []
"""What ``ledgerAppend`` appended (this module's own state; tests clear it)."""


@hookimpl
def register_settings() -> Sequence[SettingsSection]:
    return [SettingsSection(name="ledger", model=LedgerSettings)]


@hookimpl
def register_graphql(permissions: GraphQLPermissions) -> Sequence[GraphQLExtension]:
    @strawberry.type(description="One ledger line.")
    class LedgerEntry:
        position: int
        note: str

    @strawberry.type
    class LedgerQuery:
        @strawberry.field(permission_classes=[permissions.read], description="The configured greeting.")
        def ledger_greeting(self, info: strawberry.Info) -> str:
            return ledger_settings(info.context.runtime.settings).greeting

        @strawberry.field(permission_classes=[permissions.read])
        def ledger_entries(self) -> list[LedgerEntry]:
            return [LedgerEntry(position=i, note=note) for i, note in enumerate(ENTRIES)]

    @strawberry.type
    class LedgerMutation:
        @strawberry.mutation(permission_classes=[permissions.admin])
        def ledger_append(self, note: str) -> LedgerEntry:
            ENTRIES.append(note)
            return LedgerEntry(position=len(ENTRIES) - 1, note=note)

    @strawberry.type
    class LedgerSubscription:
        @strawberry.subscription(permission_classes=[permissions.read])
        async def ledger_count(self, up_to: int) -> AsyncGenerator[int, None]:
            for number in range(1, up_to + 1):
                yield number

    return [GraphQLExtension(query=LedgerQuery, mutation=LedgerMutation, subscription=LedgerSubscription,
                             types=[LedgerEntry])]


@hookimpl
def register_routes(runtime: Any) -> Sequence[BaseRoute]:
    async def status(request: Request) -> JSONResponse:
        with runtime.storage.transaction() as tx:
            shops = [shop.name for shop in tx.list_shops()]
        return JSONResponse({"greeting": ledger_settings(runtime.settings).greeting, "shops": shops})

    return [Route("/ledger/status", status, methods=["GET"])]


@hookimpl
def register_commands(cli: typer.Typer) -> None:
    group = typer.Typer(help="The ledger plugin's commands.", no_args_is_help=True)

    @group.command()
    def greet(name: str, shout: bool = typer.Option(False, "--shout")) -> None:
        """Greet NAME with the configured greeting."""
        own = ledger_settings(Settings())
        line = f"{own.greeting}, {name} (batch {own.batch})"
        print(line.upper() if shout else line)

    @group.command()
    def fail() -> None:
        """Fail the way a gateway error does (one line, exit 1)."""
        from core import ConfigurationError

        raise ConfigurationError("the ledger is not reachable", suggestion="check [plugins.ledger]")

    cli.add_typer(group, name="ledger")
