"""The per-request context: the runtime, the queue, who is calling, and fresh DataLoaders.

Storage and queue calls are blocking, so they always run in a worker thread
(:meth:`Context.read`), never on the event loop. The one exception is a bearer token the
process's :class:`core.apitokens.TokenCache` already vouches for: that check is a dict lookup,
done on the loop, so most requests cost one worker-thread trip (their read), not two.
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
from core.apitokens import TokenCache, authenticate, cached_token
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
    token_cache: TokenCache | None = None
    """The process's cache of positive token lookups (None: always ask the store)."""
    token: ApiToken | None = None
    """The caller's live API token, or None."""
    auth_problem: str | None = "missing"
    """Why ``token`` is None: ``missing``, ``malformed`` or ``invalid``; None once authenticated."""
    bearer: str | None = field(default=None, repr=False)
    """The presented plaintext, kept only so error messages and logs can redact it."""
    connection_params: dict[str, Any] | None = None
    """The graphql-transport-ws ``connection_init`` payload (set by strawberry)."""
    _loaders: Loaders | None = field(default=None, init=False, repr=False)

    @property
    def loaders(self) -> Loaders:
        """This request's DataLoaders, made on first use."""
        if self._loaders is None:
            self._loaders = Loaders(self)
        return self._loaders

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
        token = None
        if self.token_cache is not None:
            token = cached_token(self.token_cache, credential, self.runtime.now())
        if token is None:
            token = await anyio.to_thread.run_sync(lambda: authenticate(self.runtime, credential,
                                                                        cache=self.token_cache))
        self.token = token
        self.auth_problem = None if self.token is not None else "invalid"

    async def read(self, work: Callable[[StorageTx], T]) -> T:
        """Run ``work`` in one read-only storage transaction, in a worker thread, stopped in the
        database after ``read_timeout_seconds`` (:class:`core.ReadTimeout`)."""
        return await anyio.to_thread.run_sync(_reading, self.runtime, work)

    async def call(self, function: Callable[..., T], *args: Any) -> T:
        """Run a blocking core function (job controls, token issuing, the queue) in a worker thread."""
        return await anyio.to_thread.run_sync(function, *args)

    def fresh_loaders(self) -> None:
        """Forget cached records (a subscription re-reads the store on every tick)."""
        self._loaders = None


def _reading(runtime: Runtime, work: Callable[[StorageTx], T]) -> T:
    with runtime.storage.read(timeout_seconds=runtime.settings.read_timeout_seconds) as tx:
        return work(tx)


Info = strawberry.Info[Context, None]
