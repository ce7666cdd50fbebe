"""Malformed HTTP requests to ``/graphql`` get a 400 with a GraphQL-shaped error, never a 500.

Strawberry answers some malformed requests in plain text and lets others escape as exceptions:
a body that is a JSON string, number or ``null`` (it calls ``.get`` on it), invalid UTF-8 (the
standard library's decoder raises UnicodeDecodeError), or arrays nested 100,000 deep (a
RecursionError). Here the body is decoded by orjson, which reports bad UTF-8 and nesting past
1,024 levels as ordinary decoding errors, a body must be a JSON object, and every refusal is
``{"errors": [{"message", "extensions": {"code"}}]}`` with the HTTP status strawberry chose.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.http import GraphQLRequestData

CODES = {400: "BAD_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE",
         415: "UNSUPPORTED_MEDIA_TYPE"}

_JSON_START = re.compile(rb"[ \t\r\n]*([{\[]?)")


def refusal(status: int, message: str) -> Response:
    body = {"errors": [{"message": message, "extensions": {"code": CODES.get(status, "BAD_REQUEST")}}]}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


class StrictRequests:
    """Mixed into the strawberry view (before ``GraphQL`` in the bases)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)  # type: ignore[misc]
            return
        try:
            response = await self.run(Request(scope=scope, receive=receive))  # type: ignore[attr-defined]
        except HTTPException as refused:
            response = refusal(refused.status_code, refused.reason)
        await response(scope, receive, send)

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    def parse_json(self, data: str | bytes) -> Any:
        try:
            return self.decode_json(data)
        except orjson.JSONDecodeError as error:  # its message names the place, never the content
            raise HTTPException(400, f"The request body is not valid JSON: {error}") from error

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData | list[GraphQLRequestData]:
        if request.method == "POST" and "application/json" in (request.content_type or ""):
            opening = _JSON_START.match(await request.get_body())
            if opening is not None and opening.group(1) == b"[":
                raise HTTPException(400, "Batched operations are not supported: send one operation per request.")
            if opening is None or opening.group(1) != b"{":
                raise HTTPException(400, "The request body must be a JSON object with a `query`.")
        elif request.method == "POST":
            raise HTTPException(400, "Unsupported content type: send the operation as application/json.")
        return await super().parse_http_body(request)  # type: ignore[misc,no-any-return]
