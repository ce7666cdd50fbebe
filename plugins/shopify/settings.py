"""The Shopify plugin's settings: ``[plugins.shopify]`` and ``SYNC_GATEWAY_SHOPIFY__<KEY>``.

Declared through ``register_settings`` (:mod:`plugins.shopify`), validated when a runtime is
built, read by the factory and the webhook receiver from the ``Settings`` they are handed. Until
the next release the old core names (``SYNC_GATEWAY_MAX_ATTEMPTS``...) fill these keys too, with
a deprecation warning (``core.settings.MOVED_TO_PLUGINS``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from core import Settings, SettingsSection

SECTION = "shopify"


class ShopifySettings(BaseModel):
    """Every knob of the Shopify source and its webhooks."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    api_version: str = Field(default="2026-07", description="Default Admin API version of a new shop.")
    http_timeout_seconds: float = Field(default=30.0, gt=0, description="Per-request timeout towards Shopify.")
    max_attempts: int = Field(default=6, ge=1, description="Attempts per Shopify request before a run fails.")
    throttle_max_wait_seconds: float = Field(
        default=900.0, gt=0,
        description="Throttled replies never spend max_attempts: a run fails on throttling only after "
                    "waiting this long in all for the shop's rate limit.")
    bulk_threshold_orders: int | None = Field(
        default=None, ge=1,
        description="Windows with more orders than this are also read through a bulk query; unset: the "
                    "threshold learned from the shop's timed bulk queries, or, never measured, the plan's "
                    "(Standard 5,000, Advanced 16,000, Plus 250,000).")
    slices_in_flight: int = Field(
        default=8, ge=1, le=32,
        description="Most time slices of one window paged at once; below it the shop's budget and the "
                    "observed latency decide. 1: one cursor chain, as before the overlap.")
    bulk_queries: int = Field(
        default=5, ge=1, le=5,
        description="Most bulk queries a backfill runs at once on one shop, within the API version's "
                    "limit (5 from 2026-01, 1 before). 1: the whole window in one bulk query.")
    webhook_secret: SecretStr | None = Field(
        default=None, description="The app's client secret, which signs Shopify webhooks (HMAC-SHA256).")


SETTINGS = SettingsSection(name=SECTION, model=ShopifySettings)


def shopify_settings(settings: Settings) -> ShopifySettings:
    """The validated ``[plugins.shopify]`` section of ``settings``."""
    return settings.plugin_settings(SECTION, ShopifySettings)
