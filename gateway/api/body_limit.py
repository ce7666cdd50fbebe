"""Request bodies limited while they are read: ``BodyLimit``, a pure ASGI middleware.

A body is refused before the application sees any of it: at once when its ``Content-Length``
is over the limit (the client never gets a ``100 Continue``, so it never sends the body), else
by counting the chunks as they arrive and stopping at the first one past the limit. The rest
of the body is never read; the server answers 413 and closes the connection. A body within the
limit is handed to the application in one piece, so it holds at most ``max_bytes`` per request.

Starlette's own ``RequestBodyLimitMiddleware`` checks only when the application reads, and
answers in plain text; this one refuses before any work (no token lookup, no parsing) and
answers in the shape the route's clients read.
"""

from __future__ import annotations

from collections.abc import Callable

import orjson
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

Refusal = Callable[[int], Response]
"""Builds the 413 reply from the limit in bytes."""


def graphql_refusal(max_bytes: int) -> Response:
    """A GraphQL-shaped error, as a GraphQL client expects even from a refused request."""
    message = f"The request body is larger than the {max_bytes:,} bytes this endpoint accepts."
    body = {"errors": [{"message": message, "extensions": {"code": "PAYLOAD_TOO_LARGE"}}]}
    return Response(orjson.dumps(body), status_code=413, media_type="application/json",
                    headers={"Connection": "close"})


class BodyLimit:
    """Refuse HTTP requests whose body is over ``max_bytes``; pass everything else on."""

    def __init__(self, app: ASGIApp, max_bytes: int, refusal: Refusal = graphql_refusal) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.refusal = refusal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if declared_length(scope) > self.max_bytes:
            await self.refusal(self.max_bytes)(scope, receive, send)
            return
        try:
            body = await _read_at_most(receive, self.max_bytes)
        except _ClientLeft:
            return  # nobody to answer
        if body is None:
            await self.refusal(self.max_bytes)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)


def declared_length(scope: Scope) -> int:
    """The Content-Length, or 0 when absent (chunked) or unreadable (the count still applies)."""
    value = Headers(scope=scope).get("content-length")
    try:
        return int(value) if value is not None else 0
    except ValueError:
        return 0


async def _read_at_most(receive: Receive, max_bytes: int) -> bytes | None:
    """The whole body, or None as soon as it is known to be over ``max_bytes``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise _ClientLeft
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


class _ClientLeft(Exception):
    """The client disconnected before its body was complete."""


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the body read so far, then what the server sends next (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
