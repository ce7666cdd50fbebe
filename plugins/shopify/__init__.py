"""The built-in Shopify source plugin (entry point ``shopify = "plugins.shopify"``).

Reads orders through the Admin GraphQL API: ``client`` (auth, retries), ``pacing`` (the cost
bucket), ``sizing`` (query cost and page plans), ``streams`` and ``pagination`` (window pages,
nested lists), ``parse`` (JSON → core records), ``source`` (the factory the engine uses),
``queries/`` (the operations, validated against Shopify's schemas in the tests), ``webhooks``
(HMAC-verified deliveries for the fast path).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from core import hookimpl

if TYPE_CHECKING:
    from core import SettingsSection, SourceFactory, WebhookReceiver


@hookimpl
def register_settings() -> Sequence[SettingsSection]:
    from .settings import SETTINGS

    return [SETTINGS]


@hookimpl
def register_sources() -> Sequence[SourceFactory]:
    # Imported here so loading the plugin at start-up does not pull in gql and httpx2.
    from .source import ShopifySourceFactory

    return [ShopifySourceFactory()]


@hookimpl
def register_webhook_receivers() -> Sequence[WebhookReceiver]:
    from .webhooks import ShopifyWebhookReceiver

    return [ShopifyWebhookReceiver()]
