"""The job manager page at ``/`` and an offline GraphiQL at ``/graphql``, both only static files.

The page is plain ES modules (Preact and htm, vendored from npm under ``static/vendor/``) that
speak only the public GraphQL API; every document it sends is a file in ``operations/``. Nothing
here reads the store: the routes serve files, so the page can do exactly what a token can.
"""

from __future__ import annotations

import base64
import hashlib
import re
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
def page_headers() -> dict[str, str]:
    """The page runs only our files and its inline import map (allowed by its hash), and talks
    only to its own origin: an injected script could not run, nor send the tab's token away."""
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, flags=re.S)
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
                      for s in inline)
    policy = (f"default-src 'self'; script-src 'self' {hashes}; connect-src 'self'; img-src 'self' data:; "
              "style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
    return {**NO_STALE, "Content-Security-Policy": policy, "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer"}


@cache
def graphiql_html() -> str:
    """Our GraphiQL page: the same IDE strawberry serves, with every asset from ``/static/vendor``."""
    return (STATIC / "graphiql.html").read_text(encoding="utf-8")


async def _index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", headers=page_headers())


def web_routes() -> list[BaseRoute]:
    """``/`` (the page), ``/static/...`` (its files and the vendored libraries) and
    ``/operations/<name>.graphql`` (the documents it sends)."""
    return [
        Route("/", _index, methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
        Mount("/operations", app=StaticFiles(directory=OPERATIONS), name="operations"),
    ]
