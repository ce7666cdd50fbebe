"""`--json` on every listing, for scripts: one JSON array on stdout, the GraphQL API's field names,
times in ISO 8601 with their offset, never a secret. Real subprocesses on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from .test_jobs import Terminal

SHOP_TOKEN = "shpat_listed_secret"


@pytest.fixture
def cli(tmp_path: Path, database_url: str) -> Terminal:
    import os

    from ..conftest import TEST_SECRET_KEY

    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNC_GATEWAY_") and k != "REDIS_URL"}
    env.update({"SYNC_GATEWAY_DATABASE_URL": database_url, "SYNC_GATEWAY_SECRET_KEY": TEST_SECRET_KEY,
                "COLUMNS": "250", "ACME_TOKEN": "shpat_from_env"})
    return Terminal(tmp_path, env)


def listed(cli: Terminal, *args: str) -> list[dict]:  # type: ignore[type-arg]
    done = cli(*args, "--json")
    assert done.stderr == ""  # nothing but the document: a script can pipe stdout to jq
    value = json.loads(done.stdout)
    assert isinstance(value, list)
    return value


def aware(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    assert moment.utcoffset() is not None, text
    return moment


def test_empty_listings_are_empty_arrays(cli: Terminal) -> None:
    cli("db", "upgrade")
    for listing in (("shops", "list"), ("jobs", "list"), ("tokens", "list")):
        assert listed(cli, *listing) == []


def test_shops_jobs_and_tokens_as_json(cli: Terminal) -> None:
    cli("shops", "add", "acme", "--url", "acme.myshopify.com", "--token-env", "ACME_TOKEN")
    cli("shops", "add", "beta", "--url", "beta.myshopify.com", "--token", SHOP_TOKEN)
    created = cli("tokens", "create", "--role", "read", "--name", "dashboard").stdout.strip()
    cli("tokens", "revoke", "1")

    acme, beta = listed(cli, "shops", "list")
    assert set(acme) == {"id", "name", "source", "url", "apiVersion", "hasToken", "tokenEnv", "createdAt"}
    assert (acme["name"], acme["url"], acme["hasToken"], acme["tokenEnv"]) == (
        "acme", "https://acme.myshopify.com", False, "ACME_TOKEN")
    assert (beta["hasToken"], beta["tokenEnv"]) == (True, None)
    aware(acme["createdAt"])

    jobs = listed(cli, "jobs", "list")
    assert [(j["id"], j["shop"], j["kind"]) for j in jobs] == [(1, "acme", "canceled-items"), (2, "beta", "canceled-items")]
    assert jobs[0]["schedule"] == {"cron": None, "everySeconds": 3600, "timezone": "UTC", "description": "Every hour"}
    assert jobs[0]["paused"] is False and jobs[0]["skipNext"] is False and jobs[0]["lastRun"] is None
    aware(jobs[0]["nextRunAt"])

    (token,) = listed(cli, "tokens", "list")
    assert set(token) == {"id", "name", "role", "createdAt", "lastUsedAt", "revokedAt"}
    assert (token["name"], token["role"], token["lastUsedAt"]) == ("dashboard", "read", None)
    aware(token["revokedAt"])

    everything = "".join(cli(*args, "--json").stdout for args in (("shops", "list"), ("tokens", "list")))
    assert SHOP_TOKEN not in everything and created not in everything and "shpat_from_env" not in everything


def test_plugins_as_json(cli: Terminal) -> None:
    plugins = {p["name"]: p for p in listed(cli, "plugins")}
    assert {"shopify", "core.defaults"} <= set(plugins)
    assert plugins["shopify"]["module"] == "plugins.shopify" and "register_sources" in plugins["shopify"]["hooks"]
