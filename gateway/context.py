"""The per-request context: the runtime, the queue, who is calling, and fresh DataLoaders.

Storage and queue calls are blocking, so they always run in a worker thread
(:meth:`Context.read`), never on the event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio.to_thread
import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from core import ApiToken, StorageTx, TokenRole
from core.apitokens import authenticate
from core.queues import QueueBackend
from core.runtime import Runtime

from .loaders import Loaders

T = TypeVar("T")


@dataclass
class Context:
    runtime: Runtime
    queue: QueueBackend
    request: Request | WebSocket | None = None
    response: Response | WebSocket | None = None
    token: ApiToken | None = None
    """The caller's live API token, or None."""
    auth_problem: str | None = "missing"
    """Why ``token`` is None: ``missing``, ``malformed`` or ``invalid``; None once authenticated."""
    bearer: str | None = field(default=None, repr=False)
    """The presented plaintext, kept only so error messages and logs can redact it."""
    connection_params: dict[str, Any] | None = None
    """The graphql-transport-ws ``connection_init`` payload (set by strawberry)."""
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self)

    @property
    def is_admin(self) -> bool:
        return self.token is not None and self.token.role is TokenRole.ADMIN

    async def authenticate(self, authorization: str | None) -> None:
        """Check an ``Authorization: Bearer <token>`` value against the stored token hashes."""
        if not authorization or not authorization.strip():
            self.token, self.auth_problem = None, "missing"
            return
        scheme, _, credential = authorization.strip().partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            self.token, self.auth_problem = None, "malformed"
            return
        self.bearer = credential
        self.token = await anyio.to_thread.run_sync(authenticate, self.runtime, credential)
        self.auth_problem = None if self.token is not None else "invalid"

    async def read(self, work: Callable[[StorageTx], T]) -> T:
        """Run ``work`` in one storage transaction, in a worker thread."""
        return await anyio.to_thread.run_sync(_in_transaction, self.runtime, work)

    async def call(self, function: Callable[..., T], *args: Any) -> T:
        """Run a blocking core function (job controls, token issuing, the queue) in a worker thread."""
        return await anyio.to_thread.run_sync(function, *args)

    def fresh_loaders(self) -> None:
        """Forget cached records (a subscription re-reads the store on every tick)."""
        self.loaders = Loaders(self)


def _in_transaction(runtime: Runtime, work: Callable[[StorageTx], T]) -> T:
    with runtime.storage.transaction() as tx:
        return work(tx)


Info = strawberry.Info[Context, None]
