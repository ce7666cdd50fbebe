"""Reading Shopify's replies below the GraphQL layer: HTTP statuses, error entries, numbers.

Every non-2xx reply is raised from an httpx response hook as :class:`HttpStatus`, before gql
looks at the body, so the client classifies by status whatever the body says (Shopify's 401
body is JSON with an ``errors`` string, which gql would otherwise report as a GraphQL error).
"""

from __future__ import annotations

from typing import Any

import httpx2


class HttpStatus(Exception):
    """A non-2xx reply, raised from the response hook before gql reads the body."""

    def __init__(self, status: int, headers: httpx2.Headers, body: bytes) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.headers = headers
        self.body = body


async def raise_for_status(response: httpx2.Response) -> None:
    """Response hook: hand every non-2xx reply to the classifier, whatever its body says."""
    if response.status_code < 300:
        return
    body = await response.aread()
    raise HttpStatus(response.status_code, response.headers, body)


def error_code(error: Any) -> str | None:
    if isinstance(error, dict):
        extensions = error.get("extensions")
        if isinstance(extensions, dict) and isinstance(extensions.get("code"), str):
            return extensions["code"]
    return None


def error_message(error: Any) -> str:
    if isinstance(error, dict):
        return str(error.get("message", ""))[:300]
    return str(error)[:300]


def number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__


def body_text(body: bytes) -> str:
    return body[:300].decode("utf-8", "replace").strip() or "empty body"
