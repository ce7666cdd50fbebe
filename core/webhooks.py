"""Webhooks: the fast path beside the scheduled window, which stays the source of truth.

A receiver (``register_webhook_receivers``) verifies a delivery and names the orders it
concerns. The gateway answers at once and queues a refresh; the refresh re-reads each order from
the source (never trusting a possibly stale or replayed payload) and stores it through the same
idempotent ``apply_page`` as a scheduled run. The watermark is not touched: the next scheduled
window still reads every order, so a lost or late webhook costs only latency.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable
from urllib.parse import urlsplit

from .models import OrderPage, PageResult, Shop
from .pages import store_orders
from .settings import Settings

FETCHES_IN_FLIGHT = 32
"""Orders of one refresh read at once: at a 100 ms round trip, up to 320 a second (the source's
client still paces them within the shop's API budget)."""

if TYPE_CHECKING:
    from .runtime import Runtime
    from .storage import StorageTx


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """A verified delivery: which shop, which topic, which orders to re-read."""

    source: str
    shop_domain: str
    topic: str
    delivery_id: str
    order_ids: tuple[str, ...]
    triggered_at: datetime | None = None


@runtime_checkable
class WebhookReceiver(Protocol):
    """Verifies one source's deliveries.

    A receiver may also define ``check_headers(*, headers, settings) -> None``, raising as
    ``verify`` does: the gateway calls it before it reads the body, so a delivery that its
    headers already show to be forged (no signature, no shop) is refused without reading a byte
    of the body. ``verify`` must still check everything itself.
    """

    source: str
    """The ``Shop.source`` whose deliveries this receiver verifies (URL ``/webhooks/<source>``)."""

    def verify(self, *, headers: Mapping[str, str], body: bytes, settings: Settings) -> WebhookEvent:
        """Check the delivery's signature on the raw body and parse it.

        Raises:
            WebhookRejected: forged or malformed; the message says why, without secrets.
            ConfigurationError: the receiver has no secret configured.
        """
        ...


def shop_for_domain(tx: StorageTx, *, source: str, domain: str) -> Shop | None:
    """The shop of ``source`` whose URL host (or ``options["domain"]``) is ``domain``."""
    domain = domain.strip().lower()
    for shop in tx.list_shops():
        if shop.source != source:
            continue
        host = (urlsplit(shop.url if "://" in shop.url else f"https://{shop.url}").hostname or "").lower()
        if domain in {host, str(shop.options.get("domain", "")).lower()}:
            return shop
    return None


async def refresh_orders(runtime: Runtime, shop: Shop, order_ids: Sequence[str]) -> PageResult:
    """Re-read ``order_ids`` from the source and store them; tell listeners what changed."""
    source = runtime.source_for(shop)
    limit = asyncio.Semaphore(FETCHES_IN_FLIGHT)

    async def fetch(order_id: str) -> OrderPage:
        async with limit:
            return await source.fetch_order(order_id)

    try:
        # side by side: one at a time, a shop's 100 deliveries a second would queue up behind
        # the platform's round trip (the source's client paces them within the API budget)
        pages = await asyncio.gather(*map(fetch, dict.fromkeys(order_ids)), return_exceptions=True)
    finally:
        await source.aclose()
    failed = next((page for page in pages if isinstance(page, BaseException)), None)
    if failed is not None:
        raise failed
    return store_orders(runtime, shop, None, [order for page in pages for order in page.orders])  # type: ignore[union-attr]
