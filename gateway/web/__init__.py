"""The job manager page at ``/`` and an offline GraphiQL at ``/graphql``, both only static files.

The page is plain ES modules (Preact and htm, vendored from npm under ``static/vendor/``) that
speak only the public GraphQL API; every document it sends is a file in ``operations/``. Nothing
here reads the store: the routes serve files, so the page can do exactly what a token can.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

HERE = Path(__file__).parent
STATIC = HERE / "static"
OPERATIONS = HERE / "operations"

# The page's own files may change with a release; the browser must not mix two releases' files.
NO_STALE = {"Cache-Control": "no-cache"}


@cache
def graphiql_html() -> str:
    """Our GraphiQL page: the same IDE strawberry serves, with every asset from ``/static/vendor``."""
    return (STATIC / "graphiql.html").read_text(encoding="utf-8")


async def _index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", headers=NO_STALE)


def web_routes() -> list[BaseRoute]:
    """``/`` (the page), ``/static/...`` (its files and the vendored libraries) and
    ``/operations/<name>.graphql`` (the documents it sends)."""
    return [
        Route("/", _index, methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
        Mount("/operations", app=StaticFiles(directory=OPERATIONS), name="operations"),
    ]
