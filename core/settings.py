"""Settings, read from ``SYNC_GATEWAY_<SETTING>`` environment variables and an optional TOML file.

Precedence: keyword arguments > environment > TOML file (``SYNC_GATEWAY_CONFIG`` or
``sync-gateway.toml`` in the working directory) > defaults. Settings are passed around
explicitly; nothing reads them from module state.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

if TYPE_CHECKING:
    from pydantic import BaseModel

M = TypeVar("M", bound="BaseModel")
log = logging.getLogger("sync_gateway.settings")

MOVED_TO_PLUGINS: dict[str, tuple[str, str]] = {
    "shopify_api_version": ("shopify", "api_version"),
    "http_timeout_seconds": ("shopify", "http_timeout_seconds"),
    "max_attempts": ("shopify", "max_attempts"),
    "throttle_max_wait_seconds": ("shopify", "throttle_max_wait_seconds"),
    "bulk_threshold_orders": ("shopify", "bulk_threshold_orders"),
    "shopify_slices_in_flight": ("shopify", "slices_in_flight"),
    "shopify_webhook_secret": ("shopify", "webhook_secret"),
}
"""Core settings that moved into a plugin's section: old name -> (section, key). The old names
still work for one release (the key in the section wins over them), with a DeprecationWarning."""


def _config_file() -> Path | None:
    explicit = os.environ.get("SYNC_GATEWAY_CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            from .errors import MissingConfigFile

            raise MissingConfigFile(f"config file {explicit} (SYNC_GATEWAY_CONFIG) does not exist",
                                    suggestion="fix the path, or unset SYNC_GATEWAY_CONFIG to use the environment only")
        return path
    local = Path("sync-gateway.toml")
    return local if local.exists() else None


class Settings(BaseSettings):
    """Every setting of the gateway; see the README's configuration table."""

    model_config = SettingsConfigDict(env_prefix="SYNC_GATEWAY_", extra="forbid", validate_default=True)

    data_dir: Path = Field(default=Path(".sync-gateway"), description="Local data folder (SQLite file, demo state).")
    # URLs may carry passwords: kept out of repr (and so out of logs and tracebacks)
    database_url: str | None = Field(default=None, repr=False, description="SQLAlchemy URL; default: SQLite in data_dir.")
    redis_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("SYNC_GATEWAY_REDIS_URL", "REDIS_URL", "redis_url"),
        repr=False,
        description="Redis for RQ; unset means the embedded in-process queue.",
    )
    queue_name: str = Field(default="sync-gateway", pattern=r"^[A-Za-z0-9_-]+$", description="RQ queue name.")

    # the canceled-items window (defaults as HotWax's thruDateBuffer / bufferTime)
    page_size: int = Field(default=100, ge=1, le=250, description="Orders per Shopify page.")
    window_overlap_seconds: int = Field(default=60, ge=0, description="Each window starts this long before the last watermark.")
    window_settle_seconds: int = Field(default=300, ge=0, description="Each window ends this long before now.")
    first_run_lookback_hours: float = Field(default=24.0, gt=0, description="A job's first window reaches back this far.")

    # jobs
    default_every_seconds: int = Field(default=3600, ge=60, description="Schedule of a new job (hourly).")
    schedule_jitter_seconds: int = Field(
        default=300, ge=0, le=3600,
        description="Each job's slots are shifted by a stable offset below this (a hash of shop and job), "
                    "so many shops on one schedule do not all start in the same second. 0: none.")
    scheduler_tick_seconds: float = Field(default=15.0, gt=0, description="How often the scheduler looks for due jobs.")
    job_timeout_seconds: int = Field(default=3600, ge=10, description="RQ job timeout and lease length of a run.")
    lease_seconds: int = Field(default=120, ge=1, description="A run's lease on its job; renewed while it works, so a dead worker's run is taken over after this long.")
    min_interval_seconds: int = Field(default=60, ge=1, description="Smallest everySeconds an admin may set.")
    run_history_days: int = Field(default=90, ge=1, description="Finished runs older than this are pruned.")

    secret_key: SecretStr | None = Field(
        default=None,
        description="Fernet keys that encrypt stored shop access tokens, comma-separated: the first "
                    "encrypts, all decrypt (`sync-gateway secret-key generate` prints one). Unset: "
                    "storing a token is refused; tokens from environment variables need none.")

    # plugins' own settings, validated by the models they declare (core/plugin_settings.py)
    plugins: dict[str, dict[str, Any]] = Field(
        default_factory=dict, repr=False,
        description="Each plugin's section: the TOML file's [plugins.<name>] tables, and "
                    "SYNC_GATEWAY_<NAME>__<KEY> variables. Listed by `sync-gateway plugins`.")

    # Deprecated: the Shopify plugin's settings, moved to [plugins.shopify] (plugins/shopify/settings.py).
    # Still read for one release, with a DeprecationWarning; see MOVED_TO_PLUGINS.
    shopify_api_version: str | None = Field(default=None, description="Deprecated: [plugins.shopify] api_version.")
    http_timeout_seconds: float | None = Field(
        default=None, description="Deprecated: [plugins.shopify] http_timeout_seconds.")
    max_attempts: int | None = Field(default=None, description="Deprecated: [plugins.shopify] max_attempts.")
    throttle_max_wait_seconds: float | None = Field(
        default=None, description="Deprecated: [plugins.shopify] throttle_max_wait_seconds.")
    bulk_threshold_orders: int | None = Field(
        default=None, description="Deprecated: [plugins.shopify] bulk_threshold_orders.")
    shopify_slices_in_flight: int | None = Field(
        default=None, description="Deprecated: [plugins.shopify] slices_in_flight.")
    shopify_webhook_secret: SecretStr | None = Field(
        default=None, description="Deprecated: [plugins.shopify] webhook_secret.")
    webhook_coalesce_seconds: float = Field(
        default=0.25, ge=0, le=10,
        description="Webhook deliveries for a shop within this many seconds of the first are re-read "
                    "together, each order once (a burst of edits costs one API call per order).")

    # api
    host: str = Field(default="127.0.0.1")
    port: int = Field(default=8000, ge=0, le=65535)
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed by CORS.")
    max_page_size: int = Field(default=250, ge=1, le=1000)
    max_query_depth: int = Field(default=10, ge=2)
    max_fragment_depth: int = Field(
        default=30, ge=1, le=200, description="Most fragments (named or inline) nested inside one another.")
    max_query_cost: int = Field(
        default=1000, ge=10,
        description="Highest requested cost of one GraphQL operation (Shopify's calculated cost: objects 1, "
                    "connections 2 + rows x each row).")
    read_timeout_seconds: float = Field(
        default=5.0, gt=0, le=300,
        description="Each API read stops in the database after this long (a READ_TIMEOUT error).")
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024,
        description="Largest /graphql request body; larger ones are refused (413) before they are read.")
    log_level: str = Field(default="INFO")
    log_format: Literal["console", "json"] = Field(
        default="console",
        validation_alias=AliasChoices("SYNC_GATEWAY_LOG_FORMAT", "LOG_FORMAT", "log_format"),
        description="console: rich text for a terminal; json: one JSON object a line, with the run's "
                    "id, shop, job kind and window on every line of a run.")
    metrics_port: int | None = Field(
        default=None, ge=1, le=65535,
        description="Port of /metrics for `worker` and `scheduler` processes, on HOST (the API serves "
                    "/metrics on its own port). Unset: they serve none.")

    # plugins
    load_plugins: list[str] | None = Field(default=None, description="Allow-list of entry-point plugin names.")
    trace_plugins: bool = Field(default=False, description="Log every hook call.")

    @field_validator("database_url")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if self.database_url is None:
            self.database_url = f"sqlite:///{(self.data_dir / 'sync-gateway.db').as_posix()}"
        return self

    @model_validator(mode="after")
    def _fold_moved_settings(self) -> Settings:
        """Old names of settings now in a plugin's section: warn, and fill the key unless it is set."""
        for old, (section, key) in MOVED_TO_PLUGINS.items():
            value = getattr(self, old)
            if value is None:
                continue
            new = f"[plugins.{section}] {key} (or SYNC_GATEWAY_{section.upper()}__{key.upper()})"
            message = f"the setting {old} (SYNC_GATEWAY_{old.upper()}) is deprecated and goes in the next release: use {new}"
            warnings.warn(message, DeprecationWarning, stacklevel=2)
            log.warning("%s", message)
            self.plugins.setdefault(section, {}).setdefault(key, value)
        return self

    def plugin_settings(self, name: str, model: type[M]) -> M:
        """Section ``[plugins.<name>]`` validated by ``model`` (the one its plugin declared through
        ``register_settings``). Raises :class:`core.errors.InvalidPluginSetting` naming the key.

        Validated on each call (cheap; a source is created once per run), so a copy of these
        settings with other values never answers stale ones. A runtime validates every declared
        section once at start-up (:func:`core.plugin_settings.validate_plugin_settings`)."""
        from .plugin_settings import parse_section

        return parse_section(name, model, self.plugins.get(name) or {})

    @property
    def database(self) -> str:
        assert self.database_url is not None
        return self.database_url

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        from .plugin_settings import PluginEnvSource

        sources: list[PydanticBaseSettingsSource] = [init_settings, PluginEnvSource(settings_cls), env_settings]
        path = _config_file()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    def public_dict(self) -> dict[str, Any]:
        """Settings safe to show (a database URL may carry a password)."""
        data = self.model_dump(mode="json")
        data["database_url"] = _redact_url(data.get("database_url"))
        data["redis_url"] = _redact_url(data.get("redis_url"))
        # raw sections are not validated yet, so a secret in them is still a plain string:
        # show the keys only (`sync-gateway plugins` shows the values, secrets masked)
        data["plugins"] = {name: sorted(section) for name, section in self.plugins.items()}
        return data


def _redact_url(url: str | None) -> str | None:
    if not url or "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"
