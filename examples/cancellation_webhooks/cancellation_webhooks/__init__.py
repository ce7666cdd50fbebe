"""Example sync-gateway plugin: every cancellation POSTed to an HTTPS endpoint, HMAC-signed, at
least once, through a durable outbox of its own (see README.md). Built on ``core``'s public API."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core import GraphQLExtension, GraphQLPermissions, SettingsSection, hookimpl

from .settings import SECTION, WebhookSettings

__version__ = "0.1.0"


@hookimpl
def register_settings() -> Sequence[SettingsSection]:
    return [SettingsSection(name=SECTION, model=WebhookSettings)]


@hookimpl
def register_commands(cli: Any) -> None:
    from .commands import group  # Typer is the CLI's: loaded only when a command line is built

    cli.add_typer(group, name="cancellation-webhooks")


@hookimpl
def register_graphql(permissions: GraphQLPermissions) -> Sequence[GraphQLExtension]:
    from .graphql import extension

    return [extension(permissions)]
