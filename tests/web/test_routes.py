"""The page's routes over HTTP (no browser): `/`, its static files, its documents, and our
GraphiQL page at /graphql, which names only local assets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import pytest

from core.queues import QueueBackend
from gateway.api.app import create_app
from tests.gateway.conftest import build_runtime


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx2.AsyncClient]:
    runtime = build_runtime(tmp_path, f"sqlite:///{(tmp_path / 'routes.db').as_posix()}")
    queue = QueueBackend.from_settings(runtime.settings)
    app = create_app(runtime, queue)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://test") as client:
        yield client
    queue.stop()
    runtime.close()


async def test_the_page_is_served_at_the_root(client: httpx2.AsyncClient) -> None:
    page = await client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-cache"
    assert '"preact": "/static/vendor/preact.module.js"' in page.text
    script = await client.get("/static/js/main.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    document = await client.get("/operations/Shops.graphql")
    assert document.status_code == 200 and document.text.startswith("query Shops")


async def test_nothing_outside_the_static_folders_is_served(client: httpx2.AsyncClient) -> None:
    for path in ("/static/../__init__.py", "/static/%2e%2e/vendor.py", "/operations/../vendor.json", "/static/nope.js"):
        assert (await client.get(path)).status_code == 404, path


async def test_graphiql_names_only_local_assets(client: httpx2.AsyncClient) -> None:
    ide = await client.get("/graphql", headers={"Accept": "text/html"})
    assert ide.status_code == 200
    assert "/static/vendor/graphiql.min.js" in ide.text and "/static/vendor/react.production.min.js" in ide.text
    assert "unpkg" not in ide.text and "https://" not in ide.text
    for asset in ("graphiql.min.js", "graphiql.min.css", "react.production.min.js", "react-dom.production.min.js"):
        assert (await client.get(f"/static/vendor/{asset}")).status_code == 200


async def test_the_page_may_run_only_its_own_scripts(client: httpx2.AsyncClient) -> None:
    policy = (await client.get("/")).headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'self'" and directives["connect-src"] == "'self'"
    # our files, and the inline import map by its hash: no 'unsafe-inline', no other host
    assert directives["script-src"].startswith("'self' 'sha256-") and "unsafe" not in policy
