"""An API over a real store: the app built by create_app, called over HTTP (httpx2's ASGI transport)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest

from core import Settings, TokenRole
from core.apitokens import issue_token
from core.plugins import make_plugin_manager
from core.queues import QueueBackend
from core.runtime import Runtime
from gateway.api.app import create_app

ADMIN = "admin"
READ = "read"
NO_TOKEN = None


@dataclass
class Api:
    """A client of the API with an admin and a read token; ``gql`` sends one document."""

    runtime: Runtime
    queue: QueueBackend
    client: httpx2.AsyncClient
    tokens: dict[str, str] = field(default_factory=dict)
    responses: list[str] = field(default_factory=list)

    async def gql(self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = ADMIN,
                  raw_token: str | None = None, method: str = "POST") -> dict[str, Any]:
        headers = {}
        bearer = raw_token if raw_token is not None else (self.tokens[token] if token else None)
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        if method == "GET":
            params: dict[str, Any] = {"query": query}
            if variables:
                import json

                params["variables"] = json.dumps(variables)
            response = await self.client.get("/graphql", params=params, headers=headers)
        else:
            response = await self.client.post("/graphql", json={"query": query, "variables": variables or {}},
                                              headers=headers)
        self.responses.append(response.text)
        assert response.status_code == 200, response.text
        return response.json()

    async def data(self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = ADMIN) -> Any:
        body = await self.gql(query, variables, token=token)
        assert not body.get("errors"), body["errors"]
        return body["data"]

    async def error(self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = ADMIN,
                    raw_token: str | None = None) -> dict[str, Any]:
        """The single error the document must produce."""
        body = await self.gql(query, variables, token=token, raw_token=raw_token)
        errors = body.get("errors")
        assert errors and len(errors) == 1, body
        return errors[0]


def build_runtime(tmp_path: Path, database_url: str, **options: Any) -> Runtime:
    # Exact slots unless a test asks for jitter (tests/jobs/test_jitter.py tests it).
    values = {"schedule_jitter_seconds": 0, **options.pop("settings", {})}
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url, **values)
    return Runtime.build(settings, pm=make_plugin_manager(), **options)


@pytest.fixture
async def api(tmp_path: Path, database_url: str) -> AsyncIterator[Api]:
    runtime = build_runtime(tmp_path, database_url)
    queue = QueueBackend.from_settings(runtime.settings)
    app = create_app(runtime, queue)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://test") as client:
        api = Api(runtime=runtime, queue=queue, client=client)
        api.tokens[ADMIN] = issue_token(runtime, name="admin tests", role=TokenRole.ADMIN)[1]
        api.tokens[READ] = issue_token(runtime, name="read tests", role=TokenRole.READ)[1]
        yield api
    queue.stop()
    runtime.close()
