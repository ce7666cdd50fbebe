"""Websockets keep checking the caller's token, not only at ``connection_init``.

A token revoked after a websocket connected could still start subscriptions and receive their
updates. Now, on a connection that authenticated:

* every ``subscribe`` asks the store again (not the process's token cache, which another
  process's revocation does not reach) before the operation starts;
* a watch asks every :data:`RECHECK_SECONDS` while the connection is open;

and once the token is revoked (or otherwise no longer live) the connection is closed with code
**4403** (``Forbidden: the API token is no longer valid``), ending its subscriptions. A client
reconnects with a live token. A connection that never authenticated is left as it was: its
operations answer ``UNAUTHENTICATED``.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from typing import Any

import anyio.to_thread
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage

from core.apitokens import authenticate

from .context import Context

log = logging.getLogger("sync_gateway.api")

RECHECK_SECONDS = 2.0
"""How often an open connection's token is looked up again (the bound on a revocation)."""
CLOSE_REVOKED = 4403
REASON_REVOKED = "Forbidden: the API token is no longer valid"


class TokenCheckingHandler(BaseGraphQLTransportWSHandler[Context, None]):
    recheck_seconds = RECHECK_SECONDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._watch: asyncio.Task[None] | None = None

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self.context.token is not None and not await self._still_live():
            await self._close_revoked()
            return
        if self._watch is None and self.context.token is not None:
            self._watch = asyncio.create_task(self._watch_token())
        await super().handle_subscribe(message)

    async def shutdown(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with suppress(asyncio.CancelledError):
                await self._watch
        await super().shutdown()

    async def _still_live(self) -> bool:
        context = self.context
        found = await anyio.to_thread.run_sync(lambda: authenticate(context.runtime, context.bearer))
        return found is not None and context.token is not None and found.id == context.token.id

    async def _watch_token(self) -> None:
        while True:
            await asyncio.sleep(self.recheck_seconds)
            try:
                live = await self._still_live()
            except Exception:  # the store is away: the next look decides; never kill the socket for it
                log.warning("could not re-check a websocket's token", exc_info=True)
                continue
            if not live:
                await self._close_revoked()
                return

    async def _close_revoked(self) -> None:
        name = self.context.token.name if self.context.token is not None else "?"
        log.info("closing a websocket whose API token %r is no longer valid", name)
        self.context.token, self.context.auth_problem = None, "invalid"
        await self.websocket.close(code=CLOSE_REVOKED, reason=REASON_REVOKED)
