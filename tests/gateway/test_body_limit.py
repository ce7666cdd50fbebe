"""Request bodies are limited while they are read: a declared length over the limit is refused
before any byte is read, a streamed (chunked) body as soon as the count passes the limit. Real
uvicorn on 127.0.0.1, raw sockets, so nothing on the client side buffers or rewrites the body."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core import Settings, TokenRole
from core.apitokens import issue_token
from core.queues import QueueBackend
from gateway.api.app import create_app
from gateway.api.webhooks import MAX_BODY_BYTES as WEBHOOK_LIMIT
from tests.servers import serving

from .conftest import build_runtime

LIMIT = 64 * 1024
CHUNK = 16 * 1024


class CountingReads:
    """Wraps the app as the server sees it: counts the body bytes the app pulled from the socket."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.bytes_read = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counted() -> Message:
            message = await receive()
            self.bytes_read += len(message.get("body", b""))
            return message

        await self.app(scope, counted, send)


@dataclass
class Served:
    port: int
    app: CountingReads
    token: str


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    runtime = build_runtime(tmp_path, f"sqlite:///{tmp_path / 'limits.db'}",
                            settings={"max_body_bytes": LIMIT, "plugins": {"shopify": {"webhook_secret": "s3cret"}}})
    queue = QueueBackend.from_settings(runtime.settings)
    token = issue_token(runtime, name="read", role=TokenRole.READ)[1]
    app = CountingReads(create_app(runtime, queue))
    with serving(app) as url:
        yield Served(port=int(url.rsplit(":", 1)[1]), app=app, token=token)
    queue.stop()
    runtime.close()


async def post(port: int, path: str, *, headers: dict[str, str], body_chunks: int = 0,
               chunk: bytes = b" " * CHUNK, body: bytes = b"") -> tuple[int, dict]:
    """POST over a raw socket; the reply is read while the body is still being sent.

    ``body_chunks``: send that many chunks with ``Transfer-Encoding: chunked`` (and no length),
    stopping early once the server has answered or closed.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    if body_chunks:
        lines.append("Transfer-Encoding: chunked")
    elif "Content-Length" not in headers:
        lines.append(f"Content-Length: {len(body)}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    reply = asyncio.create_task(read_reply(reader))
    try:
        for _ in range(body_chunks):
            if reply.done():
                break
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            await writer.drain()
        else:
            if body_chunks:
                writer.write(b"0\r\n\r\n")
                await writer.drain()
    except (ConnectionResetError, BrokenPipeError):
        pass  # the server stopped reading and closed: what we test for
    status, payload = await asyncio.wait_for(reply, 10)
    writer.close()
    return status, orjson.loads(payload)


async def read_reply(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """The status and body, read as they arrive: the server resets the connection once it
    closes on a body it did not read, so waiting for the end of the stream would lose them."""
    raw = b""
    while True:
        head, found, payload = raw.partition(b"\r\n\r\n")
        if found:
            length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:"))
            if len(payload) >= length:
                return int(head.split(b" ", 2)[1]), payload[:length]
        piece = await reader.read(65536)
        if not piece:
            raise AssertionError(f"the server closed before a full reply: {raw!r}")
        raw += piece


async def post_or_reset(port: int, path: str, **options: object) -> None:
    """As :func:`post`, for a client that keeps sending long past the limit: the server closes
    with the rest unread, so the kernel may reset the connection before the 413 is delivered
    (a TCP matter: a server that stops reading cannot also promise a clean close)."""
    try:
        status, _ = await post(port, path, **options)  # type: ignore[arg-type]
    except ConnectionResetError:
        return
    assert status == 413


def graphql_headers(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Connection": "close",
            **extra}


async def test_a_declared_length_over_the_limit_is_refused_before_any_byte_is_read(served: Served) -> None:
    status, body = await post(served.port, "/graphql",
                              headers=graphql_headers(served.token, **{"Content-Length": str(200 * 1024 * 1024)}))
    assert status == 413
    [error] = body["errors"]
    assert error["extensions"] == {"code": "PAYLOAD_TOO_LARGE"}
    assert "65,536 bytes" in error["message"]
    assert served.app.bytes_read == 0


async def test_a_chunked_body_without_length_is_refused_once_past_the_limit(served: Served) -> None:
    status, body = await post(served.port, "/graphql", headers=graphql_headers(served.token),
                              body_chunks=LIMIT // CHUNK + 1)
    assert status == 413
    assert body["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert served.app.bytes_read == LIMIT + CHUNK


async def test_a_long_stream_is_not_read_past_the_limit(served: Served) -> None:
    chunks = 8 * 1024 * 1024 // CHUNK  # 8 MB offered, 64 KB allowed
    await post_or_reset(served.port, "/graphql", headers=graphql_headers(served.token), body_chunks=chunks)
    # the server read up to the limit and at most one socket read more, then stopped
    assert LIMIT < served.app.bytes_read <= LIMIT + 256 * 1024


async def test_no_token_is_needed_to_be_refused_and_none_is_looked_up(served: Served) -> None:
    status, body = await post(served.port, "/graphql", headers={"Content-Type": "application/json",
                                                               "Connection": "close"},
                              body_chunks=LIMIT // CHUNK + 2)
    assert status == 413 and body["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_a_body_within_the_limit_is_served_whole_even_when_chunked(served: Served) -> None:
    query = b'{"query": "{ shops { id } }"' + b" " * (LIMIT - 100) + b"}"
    assert len(query) <= LIMIT
    status, body = await post(served.port, "/graphql", headers=graphql_headers(served.token), body=query)
    assert (status, body["data"]) == (200, {"shops": []})
    status, body = await post(served.port, "/graphql", headers=graphql_headers(served.token),
                              body_chunks=1, chunk=query)
    assert (status, body["data"]) == (200, {"shops": []})


FORGED = {"X-Shopify-Hmac-Sha256": "bm90IGEgc2lnbmF0dXJl", "X-Shopify-Topic": "orders/updated",
          "X-Shopify-Shop-Domain": "alpha.myshopify.com", "X-Shopify-Webhook-Id": "w-1"}
"""A delivery's headers, complete, so only its body can refuse it (the signature is wrong)."""


async def test_webhooks_keep_their_two_megabytes_enforced_while_reading(served: Served) -> None:
    headers = {"Content-Type": "application/json", "Connection": "close", **FORGED}
    status, body = await post(served.port, "/webhooks/shopify",
                              headers={**headers, "Content-Length": str(WEBHOOK_LIMIT + 1)})
    assert (status, body) == (413, {"error": "webhook body larger than 2,097,152 bytes"})
    assert served.app.bytes_read == 0
    await post_or_reset(served.port, "/webhooks/shopify", headers=headers, body_chunks=8 * 1024 * 1024 // CHUNK)
    assert WEBHOOK_LIMIT < served.app.bytes_read <= WEBHOOK_LIMIT + 256 * 1024
    # within the limit, the receiver still judges it: forged, so 401
    status, body = await post(served.port, "/webhooks/shopify", headers=headers, body=b"{}")
    assert status == 401


async def test_an_unsigned_webhook_is_refused_before_its_body_is_read(served: Served) -> None:
    # A flood of unsigned bodies then costs the server no reading at all, chunked or declared.
    headers = {"Content-Type": "application/json", "Connection": "close"}
    for missing in FORGED:
        given = {**headers, **{k: v for k, v in FORGED.items() if k != missing}}
        status, body = await post(served.port, "/webhooks/shopify", headers={**given, "Content-Length": "1000000"})
        assert (status, body) == (401, {"error": f"webhook rejected: missing header {missing}"})
        try:
            status, _ = await post(served.port, "/webhooks/shopify", headers=given, body_chunks=64)
        except ConnectionError:
            pass  # answered, and closed with the body unread: as post_or_reset explains
        else:
            assert status == 401
    assert served.app.bytes_read == 0


def test_the_graphql_limit_defaults_to_one_megabyte() -> None:
    assert Settings.model_fields["max_body_bytes"].default == 1024 * 1024
