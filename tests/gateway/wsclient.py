"""A small graphql-transport-ws client over a real websocket (the ``websockets`` package)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

PROTOCOL = "graphql-transport-ws"


class Subscription:
    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self._ids = 0

    async def start(self, query: str, variables: dict[str, Any] | None = None) -> str:
        self._ids += 1
        operation = str(self._ids)
        await self.connection.send(json.dumps({"id": operation, "type": "subscribe",
                                               "payload": {"query": query, "variables": variables or {}}}))
        return operation

    async def receive(self, timeout: float = 20) -> dict[str, Any]:
        """The next message that is not a ping (answered) or pong."""
        import asyncio

        while True:
            message = json.loads(text_frame(await asyncio.wait_for(self.connection.recv(), timeout)))
            if message["type"] == "ping":
                await self.connection.send(json.dumps({"type": "pong"}))
                continue
            if message["type"] != "pong":
                return message


def text_frame(frame: str | bytes) -> str:
    """The protocol's messages are JSON in text frames: a browser's client (graphql-ws, GraphiQL)
    hands a binary frame to JSON.parse as a Blob and fails."""
    assert isinstance(frame, str), f"a binary frame: {frame!r}"
    return frame


@asynccontextmanager
async def graphql_ws(base_url: str, *, init_payload: dict[str, Any] | None = None,
                     headers: dict[str, str] | None = None) -> AsyncIterator[Subscription]:
    url = base_url.replace("http://", "ws://", 1) + "/graphql"
    async with connect(url, subprotocols=[PROTOCOL], additional_headers=headers or {}) as connection:
        await connection.send(json.dumps({"type": "connection_init", "payload": init_payload or {}}))
        ack = json.loads(text_frame(await connection.recv()))
        assert ack["type"] == "connection_ack", ack
        yield Subscription(connection)
