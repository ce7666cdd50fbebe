"""The contract a source plugin implements (Shopify is the first; integrators add others).

A source is built per shop by a :class:`SourceFactory` returned from the ``register_sources``
hook. The engine only ever asks it for pages of complete orders in a window; pacing, retries,
nested paging and authentication are the source's business.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol, runtime_checkable

from .models import ConnectionCheck, OrderPage, Shop, ShopCredentials, Window
from .settings import Settings


@runtime_checkable
class Source(Protocol):
    """Reads orders of one shop from an upstream platform."""

    def fetch_orders(self, window: Window, *, page_size: int) -> AsyncIterator[OrderPage]:
        """Yield every order whose ``updatedAt`` lies in ``window``, a page at a time.

        Each yielded order is complete: nested line items and refund lines were paged in full.
        Raises :class:`core.errors.SourceAuthError` when credentials or scopes are wrong and
        :class:`core.errors.SourceUnavailable` when the upstream stays down past the retry budget.
        """
        ...

    async def fetch_order(self, source_id: str) -> OrderPage:
        """Fetch one order by its platform id (the webhook fast path); empty page if gone."""
        ...

    async def check_connection(self) -> ConnectionCheck:
        """Ask the upstream who the shop is and what the credentials may do, with one quick request
        (at most one retry, no long throttle waits): scopes, the plan and its API budget.

        Returns a :class:`core.ConnectionCheck`: ``ok=True``, or ``ok=False`` with
        ``problem=MISSING_SCOPE`` and ``missing_scopes`` when the token lacks a scope the source
        needs. Other failures may be raised as :class:`core.GatewayError` whose ``problem`` names
        a :class:`core.ConnectionProblem` (core maps unnamed ones by type). Called by
        :func:`core.connections.check_shop_connection` only, never during a run.
        """
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


@runtime_checkable
class SourceFactory(Protocol):
    """Builds sources of one kind; registered through the ``register_sources`` hook."""

    name: str
    """The value of ``Shop.source`` this factory serves, e.g. ``"shopify"``.

    A factory may also offer ``default_api_version(settings) -> str``: the API version of a shop
    added without one (Shopify's reads ``[plugins.shopify] api_version``). Without it, core's
    ``FALLBACK_API_VERSION`` (core/jobcontrol.py) is used."""

    def create(self, *, shop: Shop, credentials: ShopCredentials, settings: Settings, **options: Any) -> Source:
        """Return a source for ``shop``.

        ``options`` always carries ``now`` (the runtime's clock: a callable returning an aware
        datetime). It carries ``backfill=True`` when the source will read a long past window (a
        BACKFILL run): a source with a faster path for such windows (an export, a bulk query)
        should take it. It may carry test hooks such as an HTTP ``transport``; ignore the
        options you do not know.
        """
        ...
