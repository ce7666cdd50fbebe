"""The plugin's settings: ``[plugins.cancellation_webhooks]`` or ``SYNC_GATEWAY_CANCELLATION_WEBHOOKS__<KEY>``."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from core import ConfigurationError, Settings

SECTION = "cancellation_webhooks"


class WebhookSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoint_url: str | None = Field(default=None, description="HTTPS URL each cancellation is POSTed to.")
    secret: SecretStr | None = Field(default=None, description="HMAC-SHA256 key that signs each delivery.")
    ca_bundle: Path | None = Field(default=None, description="PEM file of CAs to trust for the endpoint "
                                                              "(default: the system's).")
    max_attempts: int = Field(default=8, ge=1, le=100, description="Attempts before a delivery is dead-lettered.")
    backoff_seconds: float = Field(default=5.0, gt=0, description="Wait after the first failure; doubles each time.")
    backoff_max_seconds: float = Field(default=3600.0, gt=0, description="Longest wait between attempts.")
    timeout_seconds: float = Field(default=10.0, gt=0, description="HTTP timeout of one attempt.")
    batch: int = Field(default=100, ge=1, le=1000, description="Feed rows read, and deliveries tried, per pass.")
    poll_seconds: float = Field(default=2.0, gt=0, description="Pause between passes of `run`.")
    database_url: str | None = Field(default=None, repr=False,
                                     description="Where the outbox tables live (default: the gateway's database).")

    @field_validator("endpoint_url")
    @classmethod
    def _https_only(cls, value: str | None) -> str | None:
        # Deliveries carry order data and a signature: plain HTTP would hand both to anyone on the path.
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError("must be an https:// URL with a host")
        return value


def webhook_settings(settings: Settings) -> WebhookSettings:
    return settings.plugin_settings(SECTION, WebhookSettings)


def require_delivery_settings(own: WebhookSettings) -> tuple[str, SecretStr]:
    """The endpoint and the secret, which delivering needs (reading the outbox does not)."""
    if own.endpoint_url is None or own.secret is None:
        missing = " and ".join(k for k, v in (("endpoint_url", own.endpoint_url), ("secret", own.secret)) if v is None)
        raise ConfigurationError(f"cancellation webhooks: {missing} not set",
                                 suggestion=f"set it in [plugins.{SECTION}] or SYNC_GATEWAY_CANCELLATION_WEBHOOKS__"
                                            f"{missing.split(' ')[0].upper()}")
    return own.endpoint_url, own.secret


def outbox_url(settings: Settings) -> str:
    return webhook_settings(settings).database_url or settings.database
