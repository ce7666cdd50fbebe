"""The hooks that extend the gateway: settings, GraphQL, HTTP routes and CLI commands, each
tested with the plugin of ``tests/ledger_plugin.py``: in-process against the real app over a
real socket, or installed as a distribution and run through the real ``sync-gateway``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
import strawberry
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from core import (
    GraphQLExtension,
    GraphQLPermissions,
    InvalidPluginSetting,
    NewShop,
    PluginError,
    Settings,
    TokenRole,
    hookimpl,
)
from core.apitokens import issue_token
from core.jobcontrol import add_shop
from core.plugins import describe_plugins, make_plugin_manager
from core.queues import QueueBackend
from core.runtime import Runtime
from gateway.api.app import create_app
from gateway.cli.failures import ExitCode

from .. import ledger_plugin
from ..gateway.wsclient import graphql_ws
from ..plugin_dists import install_plugin
from ..servers import serving

ROOT = Path(__file__).resolve().parents[2]


def _runtime(tmp_path: Path, *plugins: object, **values: Any) -> Runtime:
    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'gateway.db'}", **values)
    return Runtime.build(settings, pm=make_plugin_manager(extra=plugins))


@dataclass
class Served:
    runtime: Runtime
    url: str
    read: str
    admin: str

    def gql(self, query: str, token: str | None, **variables: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        reply = httpx2.post(f"{self.url}/graphql", json={"query": query, "variables": variables}, headers=headers)
        assert reply.status_code == 200, reply.text
        return reply.json()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    ledger_plugin.ENTRIES.clear()
    runtime = _runtime(tmp_path, ledger_plugin, plugins={"ledger": {"greeting": "ahoy"}})
    queue = QueueBackend.from_settings(runtime.settings)
    read = issue_token(runtime, name="reader", role=TokenRole.READ)[1]
    admin = issue_token(runtime, name="admin", role=TokenRole.ADMIN)[1]
    try:
        with serving(create_app(runtime, queue)) as url:
            yield Served(runtime, url, read, admin)
    finally:
        queue.stop()
        runtime.close()


# --- register_settings ---------------------------------------------------------------------


def test_hook_register_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNC_GATEWAY_LEDGER__BATCH", "25")
    runtime = _runtime(tmp_path, ledger_plugin, plugins={"ledger": {"greeting": "ahoy"}})
    try:
        own = ledger_plugin.ledger_settings(runtime.settings)
        assert (own.greeting, own.batch) == ("ahoy", 25)
        (info,) = [i for i in describe_plugins(runtime.pm) if i.module == "tests.ledger_plugin"]
        assert [section.name for section in info.settings] == ["ledger"]
    finally:
        runtime.close()

    monkeypatch.setenv("SYNC_GATEWAY_LEDGER__BATCH", "0")
    with pytest.raises(InvalidPluginSetting, match=r"\[plugins.ledger\] batch \(or SYNC_GATEWAY_LEDGER__BATCH\)"):
        _runtime(tmp_path, ledger_plugin)


# --- register_graphql ----------------------------------------------------------------------


def test_hook_register_graphql(served: Served) -> None:
    """A plugin's query, mutation and type, over HTTP, under the API's permission classes."""
    greeting = served.gql("{ ledgerGreeting }", served.read)
    assert greeting["data"] == {"ledgerGreeting": "ahoy"} and "errors" not in greeting

    refused = served.gql('mutation { ledgerAppend(note: "n1") { position note } }', served.read)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN" and ledger_plugin.ENTRIES == []
    anonymous = served.gql("{ ledgerGreeting }", None)
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    appended = served.gql('mutation { ledgerAppend(note: "n1") { position note } }', served.admin)
    assert appended["data"] == {"ledgerAppend": {"position": 0, "note": "n1"}}
    listed = served.gql("{ ledgerEntries { note } shops { name } }", served.read)
    assert listed["data"] == {"ledgerEntries": [{"note": "n1"}], "shops": []}  # built-ins stay


async def test_hook_register_graphql_subscription_over_a_websocket(served: Served) -> None:
    async with graphql_ws(served.url, init_payload={"Authorization": f"Bearer {served.read}"}) as ws:
        operation = await ws.start("subscription { ledgerCount(upTo: 2) }")
        received = [await ws.receive(), await ws.receive(), await ws.receive()]
    assert [m.get("payload", {}).get("data") for m in received] == [{"ledgerCount": 1}, {"ledgerCount": 2}, None]
    assert received[-1] == {"id": operation, "type": "complete"}


def _extension(make: Any) -> object:
    class Plugin:
        @hookimpl
        def register_graphql(self, permissions: GraphQLPermissions) -> Sequence[GraphQLExtension]:
            return [make(permissions)]

    return Plugin()


def test_a_plugin_field_without_a_permission_class_is_refused(tmp_path: Path) -> None:
    def open_field(permissions: GraphQLPermissions) -> GraphQLExtension:
        @strawberry.type
        class Open:
            @strawberry.field
            def everyone(self) -> int:
                return 1

        return GraphQLExtension(query=Open)

    def read_only_mutation(permissions: GraphQLPermissions) -> GraphQLExtension:
        @strawberry.type
        class Weak:
            @strawberry.mutation(permission_classes=[permissions.read])
            def wipe(self) -> int:
                return 1

        return GraphQLExtension(mutation=Weak)

    for make, message in ((open_field, r"Query.everyone without a permission class"),
                          (read_only_mutation, r"Mutation.wipe without a permission class.*permissions.admin")):
        runtime = _runtime(tmp_path, _extension(make))
        try:
            with pytest.raises(PluginError, match=message):
                create_app(runtime, QueueBackend.from_settings(runtime.settings))
        finally:
            runtime.close()


def test_a_plugin_field_named_like_a_built_in_one_is_refused(tmp_path: Path) -> None:
    def shadow(permissions: GraphQLPermissions) -> GraphQLExtension:
        @strawberry.type
        class Shadow:
            @strawberry.field(permission_classes=[permissions.read])
            def shops(self) -> int:
                return 0

        return GraphQLExtension(query=Shadow)

    runtime = _runtime(tmp_path, _extension(shadow))
    try:
        with pytest.raises(PluginError, match=r"adds Query.shops, which is taken"):
            create_app(runtime, QueueBackend.from_settings(runtime.settings))
    finally:
        runtime.close()


def test_the_exported_schema_has_no_plugin_fields() -> None:
    assert "ledger" not in (ROOT / "docs" / "schema.graphql").read_text()


# --- register_routes -----------------------------------------------------------------------


def test_hook_register_routes(served: Served) -> None:
    add_shop(served.runtime, NewShop(name="alpha", url="https://alpha.myshopify.com", token_env="ALPHA_TOKEN"))
    reply = httpx2.get(f"{served.url}/ledger/status")
    assert reply.status_code == 200 and reply.json() == {"greeting": "ahoy", "shops": ["alpha"]}
    assert httpx2.get(f"{served.url}/healthz").status_code == 200  # the gateway's own routes still answer


@pytest.mark.parametrize("path", ["/healthz", "/graphql", "/webhooks/{source}", "/static/app.js", "/"])
def test_a_route_the_gateway_serves_is_refused(tmp_path: Path, path: str) -> None:
    class Shadow:
        @hookimpl
        def register_routes(self, runtime: Runtime) -> Sequence[object]:
            return [Route(path, lambda request: PlainTextResponse("mine"))]

    runtime = _runtime(tmp_path, Shadow())
    try:
        with pytest.raises(PluginError, match="which .* already serves"):
            create_app(runtime, QueueBackend.from_settings(runtime.settings))
    finally:
        runtime.close()


# --- register_commands (the real executable, the plugin installed as a distribution) -------


def _cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    site = install_plugin(tmp_path / "site", distribution="ledger-plugin", version="2.3.4",
                          entry_point="ledger", module="tests.ledger_plugin") if not (tmp_path / "site").exists() \
        else tmp_path / "site"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SYNC_GATEWAY_") and k != "REDIS_URL"}
    clean.update({"SYNC_GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "COLUMNS": "200",
                  "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]), **env})
    return subprocess.run([sys.executable, "-m", "gateway", *args], env=clean, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)


def test_hook_register_commands(tmp_path: Path) -> None:
    done = _cli(tmp_path, "ledger", "greet", "ops", "--shout", SYNC_GATEWAY_LEDGER__BATCH="3")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "HELLO, OPS (BATCH 3)"

    listed = _cli(tmp_path, "--help")
    assert listed.returncode == 0 and "ledger" in listed.stdout and "The ledger plugin's commands." in listed.stdout

    failed = _cli(tmp_path, "ledger", "fail")  # the CLI's failure mapping covers plugins' commands
    assert failed.returncode == ExitCode.ERROR
    assert failed.stderr.strip() == "error: the ledger is not reachable (check [plugins.ledger])"


def test_a_plugin_command_with_a_taken_name_is_refused(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "shadow_plugin.py").write_text(
        "from core import hookimpl\n\n"
        "@hookimpl\n"
        "def register_commands(cli):\n"
        "    cli.command(name='plugins')(lambda: print('mine'))\n")
    install_plugin(site, distribution="shadow-plugin", version="1.0", entry_point="shadow", module="shadow_plugin")
    done = _cli(tmp_path, "--help")
    assert done.returncode == ExitCode.ERROR
    assert "plugin 'shadow' adds the command plugins, which is taken" in done.stderr


def test_built_in_commands_do_not_load_plugins(tmp_path: Path) -> None:
    """A broken plugin setting fails only what reads it: `secret-key generate` reads no plugin."""
    done = _cli(tmp_path, "secret-key", "generate", SYNC_GATEWAY_LEDGER__BATCH="0")
    assert done.returncode == 0, done.stderr


def test_help_and_version_still_answer_when_a_core_setting_is_invalid(tmp_path: Path) -> None:
    version = _cli(tmp_path, "--version", SYNC_GATEWAY_PAGE_SIZE="9999")
    assert version.returncode == 0 and version.stdout.startswith("sync-gateway "), version.stderr
    named = _cli(tmp_path, "ledger", "greet", "ops", SYNC_GATEWAY_PAGE_SIZE="9999")
    assert named.returncode == ExitCode.INVALID_SETTING and "SYNC_GATEWAY_PAGE_SIZE" in named.stderr
